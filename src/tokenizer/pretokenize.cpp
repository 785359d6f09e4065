#include "tokenizer/pretokenize.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <array>
#include <cstdint>
#include <initializer_list>
#include <utility>

#include "core/check.h"
#include "tokenizer/unicode.h"

namespace autan {

namespace {

// The expressions as llama.cpp runs them. Where llama.cpp adapted the
// expression of the original tokenizer.json (case-insensitive contractions,
// Tekken's letter classes), the adaptation is used, since it decides the ids.
// Capturing groups of the originals are written as non-capturing groups;
// matches are the same.
constexpr std::string_view kGpt2 =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))";
constexpr std::string_view kLlama3 =
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|)"
    R"(\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view kQwen2 =
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|)"
    R"(\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view kTekken =
    R"([^\r\n\p{L}\p{N}]?(?:(?=\p{L})[^a-z])*(?:(?=\p{L})[^A-Z])+|)"
    R"([^\r\n\p{L}\p{N}]?(?:(?=\p{L})[^a-z])+(?:(?=\p{L})[^A-Z])*|)"
    R"(\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
// DeepSeek-V3. llama.cpp's \p{S} leaves out '~' (its ASCII table for symbols
// lacks it), so '~' is spelled out where the original says \p{S}.
constexpr std::string_view kDeepseek3Words =
    R"([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|(?:~|[^\r\n\p{L}\p{P}\p{S}])?[\p{L}\p{M}]+|)"
    R"( ?(?:(?!~)[\p{P}\p{S}])+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
// clang-format counts columns of these non-ASCII literals unstably: each run
// split them again.
// clang-format off
constexpr std::string_view kDeepseekLetters =
    "\\s?[A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆ"
    "Έ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷ"
    "ᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-ώᾀ-ᾴᾶ-ᾼιῂ-ῄῆ-ῌῐ-ΐ"
    "ῖ-Ίῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤΩℨK-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄ"
    "Ⰰ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-"
    "ｚ𐐀-𐑏𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃]+";
// clang-format on
constexpr std::string_view kDeepseekPunct = "\\s?[!-/:-~！-／：-～‘-‟　-。]+";
constexpr std::string_view kDeepseekCjk = "[一-龥ࠀ-一가-퟿]+";
constexpr std::string_view kDeepseek3Cjk = "[一-龥぀-ゟ゠-ヿ]+";
constexpr std::string_view kPoro = " ?[^(\\s|.,!?…。，、।۔،)]+";

enum class Family {
  kDefault,
  kLlama3,
  kDeepseekLlm,
  kDeepseek3,
  kDeepseekCoder,
  kFalcon,
  kStarcoder,
  kGpt2,
  kQwen2,
  kPoro,
  kViking,
  kTekken,
  kChameleon,
};

// Applied in order: each expression splits the pieces left by the previous one.
std::vector<std::string_view> FamilyRegexes(Family family) {
  switch (family) {
    case Family::kDefault:
      return {R"([\p{P}\$\+<=>\^~\|]+)", kGpt2, R"(\p{N}+)", "[0-9][0-9][0-9]"};
    case Family::kLlama3:
      return {kLlama3};
    case Family::kDeepseekLlm:
      return {"[\r\n]", kDeepseekLetters, kDeepseekPunct, R"(\s+$)", kDeepseekCjk, R"(\p{N}+)"};
    case Family::kDeepseek3:
      return {R"(\p{N}{1,3})", kDeepseek3Cjk, kDeepseek3Words};
    case Family::kDeepseekCoder:
      return {"[\r\n]", R"(\s?\p{L}+)", R"(\s?\p{P}+)", kDeepseekCjk, R"(\p{N})"};
    case Family::kFalcon:
      return {R"([\p{P}\$\+<=>\^~\|`]+)", kGpt2, "[0-9][0-9][0-9]"};
    case Family::kStarcoder:
      return {R"(\p{N})", kGpt2};
    case Family::kGpt2:
      return {kGpt2};
    case Family::kQwen2:
      return {kQwen2};
    case Family::kPoro:
      return {kPoro};
    case Family::kViking:
      return {kPoro, R"(\p{N})"};
    case Family::kTekken:
      return {kTekken};
    case Family::kChameleon:
      return {"<sentinel:[0-9]+>", "IMGIMG(?:A|B|C|D|E|F|G|H|I){1,4}Z", "(?:[\t\n]|    |  )",
              R"(\p{N})",          R"([\p{P}!-/:-@\[-`{-~])",           kGpt2};
  }
  return {};
}

struct NamedFamily {
  std::vector<std::string_view> names;
  Family family;
  PreTokenizerTraits traits;
};

// Names and flags as in llama.cpp's llama_vocab::impl::load.
const std::vector<NamedFamily>& NamedFamilies() {
  constexpr PreTokenizerTraits kPlain{};
  constexpr PreTokenizerTraits kNoClean{.clean_spaces = false};
  constexpr PreTokenizerTraits kLlama3Traits{.ignore_merges = true, .add_bos = true};
  static const std::vector<NamedFamily> families = {
      {{"default"}, Family::kDefault, kPlain},
      {{"llama3", "llama-v3", "llama-bpe", "falcon3"}, Family::kLlama3, kLlama3Traits},
      {{"deepseek-llm"}, Family::kDeepseekLlm, kNoClean},
      {{"deepseek-coder"}, Family::kDeepseekCoder, kNoClean},
      {{"deepseek-v3"}, Family::kDeepseek3, kNoClean},
      {{"falcon"}, Family::kFalcon, kPlain},
      {{"mpt", "olmo", "jais"}, Family::kGpt2, kPlain},
      {{"gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v1-en", "jina-v2-es",
        "jina-v2-de", "jina-v2-code", "roberta-bpe"},
       Family::kGpt2,
       kPlain},
      {{"starcoder", "refact", "codeshell", "exaone", "minerva-7b"}, Family::kStarcoder, kPlain},
      {{"command-r", "smollm"}, Family::kStarcoder, kNoClean},
      {{"qwen2", "deepseek-r1-qwen"}, Family::kQwen2, kNoClean},
      {{"stablelm2", "megrez"}, Family::kQwen2, kPlain},
      {{"dbrx", "smaug-bpe"}, Family::kLlama3, kPlain},
      {{"chatglm-bpe"}, Family::kLlama3, {.default_bos = false}},
      {{"poro-chat"}, Family::kPoro, kNoClean},
      {{"bloom", "gpt3-finnish"}, Family::kPoro, kPlain},
      {{"viking"}, Family::kViking, kNoClean},
      {{"tekken"},
       Family::kTekken,
       {.clean_spaces = false, .ignore_merges = true, .add_bos = true}},
      {{"chameleon"}, Family::kChameleon, {.clean_spaces = false, .add_bos = true}},
  };
  return families;
}

struct CodeDeleter {
  void operator()(pcre2_code* code) const { pcre2_code_free(code); }
};
struct MatchDataDeleter {
  void operator()(pcre2_match_data* data) const { pcre2_match_data_free(data); }
};
struct MatchContextDeleter {
  void operator()(pcre2_match_context* context) const { pcre2_match_context_free(context); }
};
struct JitStackDeleter {
  void operator()(pcre2_jit_stack* stack) const { pcre2_jit_stack_free(stack); }
};

// Repeated groups (Tekken's letter runs) keep a JIT frame per character, so
// long words need more than PCRE2's default 32 KiB; the stack grows on demand.
constexpr size_t kJitStackStart = 32 * 1024;
constexpr size_t kJitStackMax = 16 * 1024 * 1024;

// A span of the prepared text, in bytes.
struct Span {
  uint32_t begin;
  uint32_t end;
};

// The text as the expressions see it, with the positions of the original.
// Like llama.cpp, non-ASCII whitespace is folded to \v so that \s stays the
// ASCII class; surrogates (from lenient decoding) become a private-use
// codepoint, which PCRE2 accepts and which has the same category (C).
struct PreparedText {
  std::string canonical;           // codepoints re-encoded: what words are made of
  std::string matched;             // what the expressions run on
  std::vector<uint32_t> to_canon;  // byte offset in `matched` -> offset in `canonical`
};

PreparedText Prepare(std::string_view text) {
  PreparedText p;
  p.canonical.reserve(text.size());
  p.matched.reserve(text.size());
  p.to_canon.reserve(text.size() + 1);
  size_t offset = 0;
  while (offset < text.size()) {
    const uint32_t cpt = unicode::DecodeOne(text, offset);
    uint32_t shown = cpt;
    if (cpt > 0x7F && unicode::IsWhitespace(cpt)) {
      shown = 0x0B;
    } else if (cpt >= 0xD800 && cpt <= 0xDFFF) {
      shown = 0xE000;
    }
    const auto canon_begin = static_cast<uint32_t>(p.canonical.size());
    unicode::AppendUtf8(cpt, p.canonical);
    unicode::AppendUtf8(shown, p.matched);
    // Only offsets at codepoint starts are ever looked up.
    p.to_canon.resize(p.matched.size(), canon_begin);
  }
  p.to_canon.push_back(static_cast<uint32_t>(p.canonical.size()));
  return p;
}

// Codepoints Unicode 15.0 and 15.1 assigned to the five categories the
// expressions use. llama.cpp's tables (unicode-data.cpp) include them; PCRE2
// 10.42's (Unicode 14) do not, so they are added to each \p{..}. Harmless with
// a newer PCRE2 that already knows them.
std::string_view Unicode15Additions(char category) {
  switch (category) {
    case 'L':
      return R"(\x{1123F}-\x{11240}\x{11F02}\x{11F04}-\x{11F10}\x{11F12}-\x{11F33}\x{1342F})"
             R"(\x{13441}-\x{13446}\x{1B132}\x{1B155}\x{1DF25}-\x{1DF2A}\x{1E030}-\x{1E06D})"
             R"(\x{1E4D0}-\x{1E4EB}\x{2B739}\x{2EBF0}-\x{2EE5D}\x{31350}-\x{323AF})";
    case 'N':
      return R"(\x{11F50}-\x{11F59}\x{1D2C0}-\x{1D2D3}\x{1E4F0}-\x{1E4F9})";
    case 'P':
      return R"(\x{11B00}-\x{11B09}\x{11F43}-\x{11F4F})";
    case 'S':
      return R"(\x{2FFC}-\x{2FFF}\x{31EF}\x{1F6DC}\x{1F774}-\x{1F776}\x{1F77B}-\x{1F77F})"
             R"(\x{1F7D9}\x{1FA75}-\x{1FA77}\x{1FA87}-\x{1FA88}\x{1FAAD}-\x{1FAAF})"
             R"(\x{1FABB}-\x{1FABD}\x{1FABF}\x{1FACE}-\x{1FACF}\x{1FADA}-\x{1FADB}\x{1FAE8})"
             R"(\x{1FAF7}-\x{1FAF8})";
    case 'M':
      return R"(\x{0CF3}\x{0ECE}\x{10EFD}-\x{10EFF}\x{11241}\x{11F00}-\x{11F01}\x{11F03})"
             R"(\x{11F34}-\x{11F3A}\x{11F3E}-\x{11F42}\x{13440}\x{13447}-\x{13455}\x{1E08F})"
             R"(\x{1E4EC}-\x{1E4EF})";
    default:
      return {};
  }
}

}  // namespace

struct PreTokenizer::Regex {
  std::unique_ptr<pcre2_code, CodeDeleter> code;
};

Result<std::string> PortRegex(std::string_view pattern) {
  constexpr std::string_view kSpaceItems = R"(\x09-\x0d\x20)";
  std::string out;
  bool in_class = false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      const char next = pattern[++i];
      const std::string_view rest = pattern.substr(i + 1);
      if (next == 's') {
        if (!in_class) out.push_back('[');
        out.append(kSpaceItems);
        if (!in_class) out.push_back(']');
      } else if (next == 'S') {
        if (in_class) {
          return Fail("regex '%.*s': \\S inside [...] is not supported",
                      static_cast<int>(pattern.size()), pattern.data());
        }
        out.append("[^");
        out.append(kSpaceItems);
        out.push_back(']');
      } else if (next == 'p' && rest.size() >= 3 && rest[0] == '{' && rest[2] == '}' &&
                 !Unicode15Additions(rest[1]).empty()) {
        if (!in_class) out.push_back('[');
        out.append("\\p{").push_back(rest[1]);
        out.push_back('}');
        out.append(Unicode15Additions(rest[1]));
        if (!in_class) out.push_back(']');
        i += 3;
      } else {
        out += c;
        out += next;
      }
      continue;
    }
    out += c;
    if (!in_class && c == '[') {
      in_class = true;
      // A ']' right after '[' or '[^' is a literal, not the end of the class.
      if (i + 1 < pattern.size() && pattern[i + 1] == '^') out += pattern[++i];
      if (i + 1 < pattern.size() && pattern[i + 1] == ']') out += pattern[++i];
    } else if (in_class && c == ']') {
      in_class = false;
    }
  }
  if (in_class) {
    return Fail("regex '%.*s': unterminated [...]", static_cast<int>(pattern.size()),
                pattern.data());
  }
  return out;
}

Result<std::shared_ptr<const PreTokenizer::Regex>> PreTokenizer::Compile(std::string_view source) {
  auto pattern = PortRegex(source);
  if (!pattern.ok()) return pattern.error();
  int error_code = 0;
  PCRE2_SIZE error_offset = 0;
  // No case folding and \s rewritten by PortRegex, so UCP changes nothing here
  // but is kept so that any \w or \d means the Unicode class.
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern->data()), pattern->size(),
                                   PCRE2_UTF | PCRE2_UCP | PCRE2_DOLLAR_ENDONLY, &error_code,
                                   &error_offset, nullptr);
  if (code == nullptr) {
    std::array<PCRE2_UCHAR, 256> message{};
    pcre2_get_error_message(error_code, message.data(), message.size());
    return Fail("regex error at offset %zu: %s", static_cast<size_t>(error_offset),
                reinterpret_cast<const char*>(message.data()));
  }
  auto regex = std::make_shared<Regex>();
  regex->code.reset(code);
  // Without JIT support the interpreter runs the same expression.
  (void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
  return std::shared_ptr<const Regex>(std::move(regex));
}

Result<PreTokenizer> PreTokenizer::Create(std::string_view name) {
  if (name.empty()) name = "default";
  const NamedFamily* found = nullptr;
  for (const auto& entry : NamedFamilies()) {
    for (const auto candidate : entry.names) {
      if (candidate == name) found = &entry;
    }
  }
  if (found == nullptr) {
    return Fail("unknown pre-tokenizer '%.*s' (tokenizer.ggml.pre)", static_cast<int>(name.size()),
                name.data());
  }
  PreTokenizer pre;
  pre.name_ = std::string(name);
  pre.traits_ = found->traits;
  for (const std::string_view source : FamilyRegexes(found->family)) {
    auto regex = Compile(source);
    if (!regex.ok()) {
      return Fail("pre-tokenizer '%s': %s", pre.name_.c_str(), regex.error().message.c_str());
    }
    pre.regexes_.push_back(std::move(*regex));
  }
  return pre;
}

Result<PreTokenizer> PreTokenizer::FromPattern(std::string_view pattern,
                                               const PreTokenizerTraits& traits) {
  auto regex = Compile(pattern);
  if (!regex.ok()) return regex.error();
  PreTokenizer pre;
  pre.name_ = "pattern";
  pre.traits_ = traits;
  pre.regexes_.push_back(std::move(*regex));
  return pre;
}

void PreTokenizer::Split(std::string_view text, std::vector<std::string>& words) const {
  if (text.empty()) return;
  const PreparedText prepared = Prepare(text);
  const std::string& subject = prepared.matched;

  // Made on first need: most text never exhausts PCRE2's default JIT stack.
  std::unique_ptr<pcre2_match_context, MatchContextDeleter> context;
  std::unique_ptr<pcre2_jit_stack, JitStackDeleter> jit_stack;
  const auto run = [&](const pcre2_code* code, PCRE2_SPTR base, size_t length, size_t pos,
                       pcre2_match_data* match) {
    int rc = pcre2_match(code, base, length, pos, PCRE2_NO_UTF_CHECK, match, context.get());
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT && !jit_stack) {
      context.reset(pcre2_match_context_create(nullptr));
      jit_stack.reset(pcre2_jit_stack_create(kJitStackStart, kJitStackMax, nullptr));
      if (context && jit_stack) pcre2_jit_stack_assign(context.get(), nullptr, jit_stack.get());
      rc = pcre2_match(code, base, length, pos, PCRE2_NO_UTF_CHECK, match, context.get());
    }
    if (rc < 0 && rc != PCRE2_ERROR_NOMATCH) {
      // The interpreter keeps its backtracking frames on the heap.
      rc = pcre2_match(code, base, length, pos, PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT, match,
                       context.get());
    }
    return rc;
  };

  std::vector<Span> spans = {{0, static_cast<uint32_t>(subject.size())}};
  std::vector<Span> next;
  for (const auto& regex : regexes_) {
    std::unique_ptr<pcre2_match_data, MatchDataDeleter> match(
        pcre2_match_data_create_from_pattern(regex->code.get(), nullptr));
    AUTAN_CHECK(match != nullptr);
    next.clear();
    for (const Span span : spans) {
      // Each span is matched on its own, so lookarounds and $ stop at its edges.
      const auto* base = reinterpret_cast<PCRE2_SPTR>(subject.data() + span.begin);
      const size_t length = span.end - span.begin;
      size_t pos = 0;
      size_t unmatched = 0;  // start of the text not yet covered by a match
      while (pos < length) {
        const int rc = run(regex->code.get(), base, length, pos, match.get());
        if (rc < 0) break;  // no further match (or resource limit): the rest stays one piece
        const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(match.get());
        const size_t begin = ovector[0];
        const size_t end = ovector[1];
        if (end <= begin) {  // an empty match covers nothing; look past one codepoint
          pos = begin + unicode::SequenceLength(static_cast<uint8_t>(base[begin]));
          continue;
        }
        if (begin > unmatched) {
          next.push_back({span.begin + static_cast<uint32_t>(unmatched),
                          span.begin + static_cast<uint32_t>(begin)});
        }
        next.push_back(
            {span.begin + static_cast<uint32_t>(begin), span.begin + static_cast<uint32_t>(end)});
        unmatched = pos = end;
      }
      if (unmatched < length) {
        next.push_back({span.begin + static_cast<uint32_t>(unmatched), span.end});
      }
    }
    spans.swap(next);
  }

  for (const Span span : spans) {
    const uint32_t begin = prepared.to_canon[span.begin];
    const uint32_t end = prepared.to_canon[span.end];
    std::string word;
    word.reserve(2 * (end - begin));
    unicode::AppendByteLevel(std::string_view(prepared.canonical).substr(begin, end - begin), word);
    words.push_back(std::move(word));
  }
}

}  // namespace autan
