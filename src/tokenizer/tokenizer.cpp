#include "tokenizer/tokenizer.h"

#include <algorithm>
#include <array>
#include <cinttypes>
#include <climits>
#include <cstdio>
#include <optional>
#include <utility>

#include "tokenizer/merge.h"
#include "tokenizer/pretokenize.h"
#include "tokenizer/special.h"
#include "tokenizer/unicode.h"

namespace autan {

using tokenizer_internal::BpeRanks;
using tokenizer_internal::Fragment;
using tokenizer_internal::SpecialTokenSplitter;
using tokenizer_internal::TokenIndex;

struct Tokenizer::Impl {
  VocabKind kind = VocabKind::kSentencePiece;
  std::vector<std::string> texts;   // [n_vocab]
  std::vector<TokenType> types;     // [n_vocab], after llama.cpp's control overrides
  std::vector<std::string> pieces;  // [n_vocab] TokenPiece
  TokenIndex index;
  BpeRanks ranks;
  std::optional<PreTokenizer> pre;
  SpecialTokenSplitter splitter;
  std::vector<bool> end_of_generation;  // [n_vocab]

  int32_t bos = -1, eos = -1, unk = -1, pad = -1, eot = -1;
  bool add_bos = false, add_eos = false, add_space_prefix = false;
  bool clean_spaces = false, ignore_merges = false;
  std::string mistral_instruct;
  // Tekken: merges rank pairs by the id of the merged token; ids below this are
  // special tokens. -1: merges come from `ranks`.
  int32_t first_rank_id = -1;

  int32_t n_vocab() const { return static_cast<int32_t>(texts.size()); }
  bool Valid(int32_t id) const { return id >= 0 && id < n_vocab(); }
};

namespace {

constexpr std::string_view kSpaceEscape = "\xE2\x96\x81";  // U+2581 LOWER ONE EIGHTH BLOCK

bool IsControlLike(TokenType type) {
  return type == TokenType::kControl || type == TokenType::kUnknown;
}

TokenType TypeFromGguf(int32_t value) {
  return value >= 0 && value <= static_cast<int32_t>(TokenType::kByte)
             ? static_cast<TokenType>(value)
             : TokenType::kUndefined;
}

std::string ReplaceAll(std::string_view text, std::string_view from, std::string_view to) {
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  for (size_t hit = text.find(from); hit != std::string_view::npos; hit = text.find(from, pos)) {
    out.append(text.substr(pos, hit - pos));
    out.append(to);
    pos = hit + from.size();
  }
  out.append(text.substr(pos));
  return out;
}

// Token text in the byte-level alphabet back to bytes (llama.cpp's
// llama_decode_text, including its marker for codepoints outside the alphabet).
std::string DecodeByteLevel(std::string_view text) {
  std::string out;
  size_t offset = 0;
  while (offset < text.size()) {
    const uint32_t cpt = unicode::DecodeOne(text, offset);
    const int byte = unicode::CodepointToByte(cpt);
    if (byte >= 0) {
      out.push_back(static_cast<char>(byte));
      continue;
    }
    std::string utf8;
    unicode::AppendUtf8(cpt, utf8);
    out += "[UNK_BYTE_0x";
    for (const char c : utf8) {
      std::array<char, 3> hex{};
      std::snprintf(hex.data(), hex.size(), "%02x", static_cast<unsigned>(static_cast<uint8_t>(c)));
      out += hex.data();
    }
    out.append(text);
    out += "]";
  }
  return out;
}

// "<0x0A>" -> 10, as SentencePiece spells byte tokens.
std::optional<uint8_t> ParseByteToken(std::string_view text) {
  if (text.size() != 6 || text.substr(0, 3) != "<0x" || text[5] != '>') return std::nullopt;
  unsigned value = 0;
  for (const char c : text.substr(3, 2)) {
    value <<= 4;
    if (c >= '0' && c <= '9') {
      value |= static_cast<unsigned>(c - '0');
    } else if (c >= 'A' && c <= 'F') {
      value |= static_cast<unsigned>(c - 'A' + 10);
    } else if (c >= 'a' && c <= 'f') {
      value |= static_cast<unsigned>(c - 'a' + 10);
    } else {
      return std::nullopt;
    }
  }
  return static_cast<uint8_t>(value);
}

// What llama.cpp's token_to_piece gives without special rendering.
std::string PieceOf(const Tokenizer::Impl& t, int32_t id) {
  const std::string& text = t.texts[id];
  switch (t.types[id]) {
    case TokenType::kUserDefined:
      return text;
    case TokenType::kNormal:
      return t.kind == VocabKind::kSentencePiece ? ReplaceAll(text, kSpaceEscape, " ")
                                                 : DecodeByteLevel(text);
    case TokenType::kByte:
      if (t.kind == VocabKind::kSentencePiece) {
        // llama.cpp reads the two hex digits after "<0x"; other spellings give 0.
        const auto byte = ParseByteToken(text);
        return std::string(1, static_cast<char>(byte.value_or(0)));
      }
      return "";
    default:  // control, unknown, unused, undefined
      return "";
  }
}

// llama.cpp's clean_up_tokenization for detokenized byte-level BPE text: three
// in-place passes over bytes, reproduced exactly (including how the second pass
// blanks the space it removes, which the third pass then sees).
std::string CleanSpaces(std::string text) {
  if (text.empty()) return text;
  // Pass 1: " ?", " !", " .", " ," lose the space.
  std::string a(1, text[0]);
  for (size_t i = 1; i < text.size(); ++i) {
    const char x = text[i];
    if (text[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',')) a.pop_back();
    a.push_back(x);
  }
  // Pass 2: " ' " becomes "'".
  std::string b(1, a[0]);
  for (size_t i = 1; i < a.size(); ++i) {
    const char x = a[i];
    if (x == '\'' && i + 1 < a.size() && a[i - 1] == ' ' && a[i + 1] == ' ') {
      b.pop_back();
      a[++i] = '\0';
    }
    b.push_back(x);
  }
  // Pass 3: " 's", " 'm", " 're", " 've" lose the space.
  std::string c(1, b[0]);
  for (size_t i = 1; i < b.size(); ++i) {
    const char x = b[i];
    if (b[i - 1] == ' ' && x == '\'' && i + 1 < b.size()) {
      const char x1 = b[i + 1];
      if (x1 == 's' || x1 == 'm') {
        c.pop_back();
      } else if (i + 2 < b.size()) {
        const char x2 = b[i + 2];
        if ((x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e')) c.pop_back();
      }
    }
    c.push_back(x);
  }
  return c;
}

Status CheckSpecialId(const char* what, int32_t id, size_t n_vocab) {
  if (id < -1 || (id >= 0 && static_cast<size_t>(id) >= n_vocab)) {
    return Fail("%s %d is outside the vocabulary of %zu tokens", what, id, n_vocab);
  }
  return {};
}

// Fills the token tables; rejects size mismatches and duplicate texts.
Status BuildTables(VocabSpec& spec, Tokenizer::Impl& t) {
  const size_t n = spec.tokens.size();
  if (n == 0) return Fail("the vocabulary has no tokens");
  if (n > static_cast<size_t>(INT32_MAX)) return Fail("the vocabulary has %zu tokens", n);
  if (!spec.scores.empty() && spec.scores.size() != n) {
    return Fail("%zu scores for %zu tokens", spec.scores.size(), n);
  }
  if (!spec.token_types.empty() && spec.token_types.size() != n) {
    return Fail("%zu token types for %zu tokens", spec.token_types.size(), n);
  }
  t.texts = std::move(spec.tokens);
  t.index.scores = spec.scores.empty() ? std::vector<float>(n, 0.0f) : std::move(spec.scores);
  t.types.assign(n, TokenType::kNormal);
  for (size_t i = 0; i < spec.token_types.size(); ++i)
    t.types[i] = TypeFromGguf(spec.token_types[i]);
  t.index.ids.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    // llama.cpp names empty tokens so that they stay distinct.
    if (t.texts[i].empty()) t.texts[i] = "[EMPTY_" + std::to_string(i) + "]";
    const auto [it, inserted] = t.index.ids.emplace(t.texts[i], static_cast<int32_t>(i));
    if (!inserted) {
      return Fail("token %zu has the same text as token %d ('%s')", i, it->second,
                  t.texts[i].c_str());
    }
  }
  t.index.byte_ids.assign(256, -1);
  if (t.kind == VocabKind::kSentencePiece) {
    for (int b = 0; b < 256; ++b) {
      std::array<char, 8> name{};
      std::snprintf(name.data(), name.size(), "<0x%02X>", b);
      auto id = t.index.Find(name.data());
      if (!id) id = t.index.Find(std::string(1, static_cast<char>(b)));
      if (id) t.index.byte_ids[b] = *id;
    }
  }
  return {};
}

Status ParseMerges(const std::vector<std::string>& merges, BpeRanks& ranks) {
  for (size_t i = 0; i < merges.size(); ++i) {
    const std::string& merge = merges[i];
    const size_t space = merge.find(' ', 1);
    if (space == std::string::npos) {
      return Fail("merge %zu ('%s') is not two tokens separated by a space", i, merge.c_str());
    }
    ranks.Add(std::string_view(merge).substr(0, space), std::string_view(merge).substr(space + 1),
              static_cast<int32_t>(i));
  }
  return {};
}

// llama.cpp finds the tokens below by their text when the file does not name
// them, and makes them control tokens. Where several candidates exist the
// first in each list wins (llama.cpp takes whichever its hash map yields first).
int32_t DetectByText(Tokenizer::Impl& t, int32_t given,
                     std::initializer_list<std::string_view> candidates) {
  if (given >= 0) return given;
  for (const std::string_view text : candidates) {
    if (const auto id = t.index.Find(text)) {
      t.types[*id] = TokenType::kControl;
      return *id;
    }
  }
  return -1;
}

void MarkEndOfGeneration(Tokenizer::Impl& t, const VocabSpec& spec) {
  const int32_t eom = DetectByText(t, spec.eom_id, {"<|eom_id|>"});
  // Detected for their control type, which changes how text is split.
  DetectByText(t, spec.fim_pre_id, {"<|fim_prefix|>", "<fim-prefix>", "<｜fim▁begin｜>", "<PRE>"});
  DetectByText(t, spec.fim_suf_id, {"<|fim_suffix|>", "<fim-suffix>", "<｜fim▁hole｜>", "<SUF>"});
  DetectByText(t, spec.fim_mid_id, {"<|fim_middle|>", "<fim-middle>", "<｜fim▁end｜>", "<MID>"});
  const int32_t fim_pad = DetectByText(t, spec.fim_pad_id, {"<|fim_pad|>", "<fim-pad>", "<PAD>"});
  const int32_t fim_rep =
      DetectByText(t, spec.fim_rep_id, {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>"});
  const int32_t fim_sep = DetectByText(t, spec.fim_sep_id, {"<|file_sep|>"});

  t.end_of_generation.assign(t.texts.size(), false);
  for (const int32_t id : {fim_pad, fim_rep, fim_sep, t.eos, t.eot, eom}) {
    if (id >= 0) t.end_of_generation[id] = true;
  }
  for (const std::string_view text : {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>",
                                      "<|endoftext|>", "<|eom_id|>", "<EOT>"}) {
    if (const auto id = t.index.Find(text)) {
      t.end_of_generation[*id] = true;
      t.types[*id] = TokenType::kControl;
    }
  }
}

Status ResolveSpecialTokens(const VocabSpec& spec, bool default_bos, Tokenizer::Impl& t) {
  const size_t n = t.texts.size();
  for (const auto& [what, id] : std::initializer_list<std::pair<const char*, int32_t>>{
           {"BOS token", spec.bos_id},
           {"EOS token", spec.eos_id},
           {"unknown token", spec.unk_id},
           {"padding token", spec.pad_id},
           {"EOT token", spec.eot_id},
           {"EOM token", spec.eom_id},
           {"FIM prefix token", spec.fim_pre_id},
           {"FIM suffix token", spec.fim_suf_id},
           {"FIM middle token", spec.fim_mid_id},
           {"FIM pad token", spec.fim_pad_id},
           {"FIM repo token", spec.fim_rep_id},
           {"FIM separator token", spec.fim_sep_id}}) {
    AUTAN_TRY(CheckSpecialId(what, id, n));
  }
  // llama.cpp's defaults when the file names none (gpt2's 11 included).
  const bool spm = t.kind == VocabKind::kSentencePiece;
  const auto fallback = [n](int32_t given, int32_t by_default) {
    if (given >= 0) return given;
    return by_default >= 0 && static_cast<size_t>(by_default) < n ? by_default : -1;
  };
  t.bos = fallback(spec.bos_id, spm ? 1 : (default_bos ? 11 : -1));
  t.eos = fallback(spec.eos_id, spm ? 2 : 11);
  t.unk = fallback(spec.unk_id, spm ? 0 : -1);
  t.pad = spec.pad_id;
  if (t.first_rank_id >= 0) {
    // Tekken names its special tokens itself; a normal token spelled like
    // another family's marker ("<PAD>") stays a normal token.
    t.eot = spec.eot_id;
    t.end_of_generation.assign(n, false);
    for (const int32_t id : {t.eos, t.eot}) {
      if (id >= 0) t.end_of_generation[id] = true;
    }
  } else {
    t.eot = DetectByText(t, spec.eot_id,
                         {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
                          "<EOT>", "<｜end▁of▁sentence｜>"});
    MarkEndOfGeneration(t, spec);
  }
  if (t.add_bos && t.bos < 0) return Fail("add_bos is set but the vocabulary has no BOS token");
  if (t.add_eos && t.eos < 0) return Fail("add_eos is set but the vocabulary has no EOS token");
  return {};
}

SpecialTokenSplitter BuildSplitter(const Tokenizer::Impl& t) {
  std::vector<SpecialTokenSplitter::Entry> entries;
  for (int32_t id = 0; id < t.n_vocab(); ++id) {
    const TokenType type = t.types[id];
    if (type == TokenType::kControl || type == TokenType::kUnknown ||
        type == TokenType::kUserDefined) {
      entries.push_back({id, t.texts[id], type == TokenType::kUserDefined});
    }
  }
  std::stable_sort(entries.begin(), entries.end(),
                   [](const auto& a, const auto& b) { return a.text.size() > b.text.size(); });
  return SpecialTokenSplitter(std::move(entries));
}

// Tekken: the file's expression, tiktoken's merge rule and no space cleanup on
// decode; BOS is added as mistral-common's encode(bos=True) does.
Status SetUpTekken(VocabSpec& spec, Tokenizer::Impl& t) {
  t.kind = VocabKind::kByteLevelBpe;
  if (spec.num_special_tokens < 0 ||
      static_cast<size_t>(spec.num_special_tokens) > spec.tokens.size()) {
    return Fail("%d special tokens for a vocabulary of %zu", spec.num_special_tokens,
                spec.tokens.size());
  }
  auto pre = PreTokenizer::FromPattern(
      spec.pre_pattern, {.clean_spaces = false, .ignore_merges = true, .add_bos = true});
  if (!pre.ok()) return Fail("config.pattern: %s", pre.error().message.c_str());
  t.pre = std::move(*pre);
  t.add_bos = true;
  t.first_rank_id = spec.num_special_tokens;
  // Special tokens are control tokens: only parse_special turns their text into them.
  spec.token_types.resize(spec.tokens.size(), static_cast<int32_t>(TokenType::kNormal));
  for (int32_t id = 0; id < spec.num_special_tokens; ++id) {
    spec.token_types[id] = static_cast<int32_t>(TokenType::kControl);
  }
  return {};
}

}  // namespace

Result<Tokenizer> Tokenizer::Create(VocabSpec spec) {
  auto t = std::make_shared<Impl>();
  PreTokenizerTraits traits;
  if (spec.model == "llama") {
    t->kind = VocabKind::kSentencePiece;
    t->add_space_prefix = true;
    t->add_bos = true;
  } else if (spec.model == "gpt2") {
    t->kind = VocabKind::kByteLevelBpe;
    // A tokenizer.json's own expression; its decoder cleans no spaces.
    auto pre = spec.pre_pattern.empty()
                   ? PreTokenizer::Create(spec.pre)
                   : PreTokenizer::FromPattern(
                         spec.pre_pattern, {.clean_spaces = false,
                                            .ignore_merges = spec.ignore_merges.value_or(false)});
    if (!pre.ok()) return pre.error();
    traits = pre->traits();
    t->pre = std::move(*pre);
    t->add_bos = traits.add_bos;
    t->clean_spaces = traits.clean_spaces;
    t->ignore_merges = traits.ignore_merges;
    AUTAN_TRY(ParseMerges(spec.merges, t->ranks));
  } else if (spec.model == "tekken") {
    AUTAN_TRY(SetUpTekken(spec, *t));
  } else {
    return Fail(
        "unsupported tokenizer model '%s' (tokenizer.ggml.model): expected 'llama', 'gpt2' or "
        "'tekken'",
        spec.model.c_str());
  }
  t->add_bos = spec.add_bos.value_or(t->add_bos);
  t->add_eos = spec.add_eos.value_or(false);
  t->add_space_prefix = spec.add_space_prefix.value_or(t->add_space_prefix);
  t->mistral_instruct = spec.mistral_instruct;

  AUTAN_TRY(BuildTables(spec, *t));
  AUTAN_TRY(ResolveSpecialTokens(spec, traits.default_bos, *t));
  t->splitter = BuildSplitter(*t);
  t->pieces.resize(t->texts.size());
  for (int32_t id = 0; id < t->n_vocab(); ++id) t->pieces[id] = PieceOf(*t, id);
  return Tokenizer(std::move(t));
}

std::vector<int32_t> Tokenizer::Encode(std::string_view text, const EncodeOptions& options) const {
  const Impl& t = *impl_;
  std::vector<int32_t> out;
  if (options.add_special && t.add_bos) out.push_back(t.bos);

  const std::vector<Fragment> fragments = t.splitter.Split(text, options.parse_special);
  if (t.kind == VocabKind::kSentencePiece) {
    bool after_special = true;  // the text start counts as following a special token
    for (const Fragment& fragment : fragments) {
      if (fragment.token >= 0) {
        out.push_back(fragment.token);
        after_special = true;
        continue;
      }
      std::string raw = t.add_space_prefix && options.space_prefix && after_special ? " " : "";
      raw.append(text.substr(fragment.begin, fragment.size));
      tokenizer_internal::SpmEncode(t.index, ReplaceAll(raw, " ", kSpaceEscape), t.unk, out);
      after_special = false;
    }
  } else {
    std::vector<std::string> words;
    for (const Fragment& fragment : fragments) {
      if (fragment.token >= 0) {
        out.push_back(fragment.token);
        continue;
      }
      words.clear();
      t.pre->Split(text.substr(fragment.begin, fragment.size), words);
      for (const std::string& word : words) {
        if (t.first_rank_id >= 0) {
          tokenizer_internal::RankEncodeWord(t.index, t.first_rank_id, word, out);
        } else {
          tokenizer_internal::BpeEncodeWord(t.index, t.ranks, word, t.ignore_merges, out);
        }
      }
    }
  }

  if (options.add_special && t.add_eos) out.push_back(t.eos);
  return out;
}

std::string Tokenizer::Decode(std::span<const int32_t> ids, const DecodeOptions& options) const {
  const Impl& t = *impl_;
  std::string out;
  bool strip_space = t.add_space_prefix;
  for (size_t i = 0; i < ids.size(); ++i) {
    const int32_t id = ids[i];
    if (!t.Valid(id)) continue;
    const bool shown = options.render_special && IsControlLike(t.types[id]);
    const std::string& piece = shown ? t.texts[id] : t.pieces[id];
    if (strip_space) {
      // A leading BOS that renders as nothing does not use up the removal.
      if (i == 0 && id == t.bos && piece.empty()) continue;
      strip_space = false;
      if (!piece.empty() && piece[0] == ' ') {
        out.append(piece, 1);
        continue;
      }
    }
    out += piece;
  }
  return t.clean_spaces ? CleanSpaces(std::move(out)) : out;
}

std::string Tokenizer::TokenPiece(int32_t id) const {
  return impl_->Valid(id) ? impl_->pieces[id] : std::string();
}

const std::string& Tokenizer::TokenText(int32_t id) const {
  static const std::string kNone;
  return impl_->Valid(id) ? impl_->texts[id] : kNone;
}

TokenType Tokenizer::token_type(int32_t id) const {
  return impl_->Valid(id) ? impl_->types[id] : TokenType::kUndefined;
}

std::optional<int32_t> Tokenizer::FindToken(std::string_view text) const {
  return impl_->index.Find(text);
}

int32_t Tokenizer::n_vocab() const { return impl_->n_vocab(); }
VocabKind Tokenizer::kind() const { return impl_->kind; }
int32_t Tokenizer::bos() const { return impl_->bos; }
int32_t Tokenizer::eos() const { return impl_->eos; }
int32_t Tokenizer::eot() const { return impl_->eot; }
int32_t Tokenizer::unk() const { return impl_->unk; }
int32_t Tokenizer::pad() const { return impl_->pad; }
bool Tokenizer::add_bos() const { return impl_->add_bos; }
bool Tokenizer::add_eos() const { return impl_->add_eos; }
const std::string& Tokenizer::mistral_instruct() const { return impl_->mistral_instruct; }

bool Tokenizer::IsEndOfGeneration(int32_t id) const {
  return impl_->Valid(id) && impl_->end_of_generation[id];
}

}  // namespace autan
