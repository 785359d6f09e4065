#include "tokenizer/chat_format.h"

#include <array>
#include <cstdio>

namespace autan {
namespace {

struct FormatInfo {
  ChatFormat format;
  std::string_view name;
  std::string_view bos;
  std::string_view eos;
};

// Indexed by ChatFormat. BOS/EOS are the tokenizer_config.json tokens of each
// format's reference model, empty where its template writes none.
constexpr std::array<FormatInfo, 10> kFormats = {{
    {ChatFormat::kMistralV1, "mistral-v1", "<s>", "</s>"},
    {ChatFormat::kMistralV3, "mistral-v3", "<s>", "</s>"},
    {ChatFormat::kMistralV3Tekken, "mistral-v3-tekken", "<s>", "</s>"},
    {ChatFormat::kMistralV7, "mistral-v7", "<s>", "</s>"},
    {ChatFormat::kLlama2, "llama2", "<s>", "</s>"},
    {ChatFormat::kLlama3, "llama3", "<|begin_of_text|>", "<|eot_id|>"},
    {ChatFormat::kLlama31, "llama3.1", "<|begin_of_text|>", "<|eot_id|>"},
    {ChatFormat::kChatMl, "chatml", "", "<|im_end|>"},
    {ChatFormat::kGemma, "gemma", "<bos>", "<eos>"},
    {ChatFormat::kPhi3, "phi3", "", "<|endoftext|>"},
}};

constexpr bool TableMatchesEnum() {
  for (size_t i = 0; i < kFormats.size(); ++i) {
    if (static_cast<size_t>(kFormats[i].format) != i) return false;
  }
  return true;
}
static_assert(TableMatchesEnum());

const FormatInfo& Info(ChatFormat format) { return kFormats[static_cast<size_t>(format)]; }

// Python's str.isspace(), which Jinja's trim filter and str.strip() use.
bool IsPySpace(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 ||
         c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
         c == 0x205F || c == 0x3000;
}

// Length of the well-formed UTF-8 sequence at s[i], 0 if malformed; sets *cp.
size_t DecodeUtf8(std::string_view s, size_t i, char32_t* cp) {
  const auto b = static_cast<unsigned char>(s[i]);
  const size_t len = b < 0x80           ? 1
                     : (b >> 5) == 0x6  ? 2
                     : (b >> 4) == 0xE  ? 3
                     : (b >> 3) == 0x1E ? 4
                                        : 0;
  if (len == 0 || i + len > s.size()) return 0;
  char32_t c = len == 1 ? b : (b & (0x7F >> len));
  for (size_t k = 1; k < len; ++k) {
    const auto t = static_cast<unsigned char>(s[i + k]);
    if ((t & 0xC0) != 0x80) return 0;
    c = (c << 6) | (t & 0x3F);
  }
  constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};  // reject overlong forms
  if (c < kMin[len]) return 0;
  *cp = c;
  return len;
}

// Jinja's `trim` / Python's str.strip(): Unicode whitespace at both ends.
std::string_view Strip(std::string_view s) {
  char32_t c = 0;
  size_t n = 0;
  while (!s.empty() && (n = DecodeUtf8(s, 0, &c)) != 0 && IsPySpace(c)) s.remove_prefix(n);
  while (!s.empty()) {
    size_t start = s.size() - 1;
    while (start > 0 && s.size() - start < 4 &&
           (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) {
      --start;
    }
    n = DecodeUtf8(s, start, &c);
    if (n != s.size() - start || !IsPySpace(c)) break;
    s.remove_suffix(n);
  }
  return s;
}

// The `tojson` filter as transformers defines it: json.dumps(ensure_ascii=False).
void AppendJsonString(std::string& out, std::string_view s) {
  constexpr std::string_view kEscaped = "\"\\\n\r\t\b\f";
  constexpr std::string_view kShortForm = "\"\\nrtbf";
  out += '"';
  for (const char ch : s) {
    if (const size_t k = kEscaped.find(ch); k != std::string_view::npos) {
      out.append(1, '\\').append(1, kShortForm[k]);
    } else if (static_cast<unsigned char>(ch) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(ch));
      out += buf;
    } else {
      out += ch;
    }
  }
  out += '"';
}

// The conversation split as most templates see it: an optional leading system
// message, then the turns.
struct Conversation {
  const FormatInfo* info;
  std::optional<std::string_view> system;
  std::span<const ChatMessage> turns;
  size_t offset;  // index of turns[0] in the caller's list, for messages
  std::string_view bos;
  std::string_view eos;
  std::string_view date;  // Llama 3.1's "Today Date:"
  bool add_generation_prompt;
};

Error Unsupported(const Conversation& c, size_t i, const char* accepted) {
  return Fail("chat format %s: message %zu has role '%s', which this format cannot express (%s)",
              c.info->name.data(), c.offset + i, c.turns[i].role.c_str(), accepted);
}

// Mistral v1/v3, Llama 2 and Gemma raise unless turns alternate user/assistant.
Status CheckAlternation(const Conversation& c) {
  for (size_t i = 0; i < c.turns.size(); ++i) {
    const std::string& role = c.turns[i].role;
    if (role != "user" && role != "assistant") {
      return Unsupported(c, i, "it takes one leading system message, then user and assistant");
    }
    const char* want = i % 2 == 0 ? "user" : "assistant";
    if (role != want) {
      return Fail(
          "chat format %s: message %zu has role '%s' where '%s' was expected (after an optional "
          "leading system message, roles must alternate user/assistant)",
          c.info->name.data(), c.offset + i, role.c_str(), want);
    }
  }
  return {};
}

// Mistral v1 (system in the first [INST]) and v3 (system in the last message when
// it is a user turn, else dropped, exactly as the official template does).
Result<std::string> RenderMistral(const Conversation& c, ChatFormat format) {
  AUTAN_TRY(CheckAlternation(c));
  const bool v1 = format == ChatFormat::kMistralV1;
  const bool tekken = format == ChatFormat::kMistralV3Tekken;
  std::string out(c.bos);
  for (size_t i = 0; i < c.turns.size(); ++i) {
    const std::string& content = c.turns[i].content;
    if (c.turns[i].role == "user") {
      out += v1 ? " [INST] " : tekken ? "[INST]" : "[INST] ";
      if (c.system && (v1 ? i == 0 : i + 1 == c.turns.size())) {
        out.append(*c.system).append("\n\n");
      }
      out.append(content).append(v1 ? " [/INST]" : "[/INST]");
    } else {
      // v1 and v3 answers start with a space; v3 trims them, Tekken does neither.
      if (!tekken) out += ' ';
      out.append(v1 || tekken ? std::string_view(content) : Strip(content)).append(c.eos);
    }
  }
  return out;
}

Result<std::string> RenderMistralV7(const Conversation& c) {
  std::string out(c.bos);
  if (c.system) out.append("[SYSTEM_PROMPT] ").append(*c.system).append("[/SYSTEM_PROMPT]");
  for (size_t i = 0; i < c.turns.size(); ++i) {
    const ChatMessage& m = c.turns[i];
    if (m.role == "system") {
      out.append("[SYSTEM_PROMPT] ").append(m.content).append("[/SYSTEM_PROMPT]");
    } else if (m.role == "user") {
      out.append("[INST] ").append(m.content).append("[/INST]");
    } else if (m.role == "assistant") {
      out.append(" ").append(m.content).append(c.eos);
    } else {
      return Unsupported(c, i, "it takes system, user and assistant");
    }
  }
  return out;
}

// Llama 2: every turn is "<s>[INST] ... [/INST] answer </s>", stripped.
Result<std::string> RenderLlama2(const Conversation& c) {
  AUTAN_TRY(CheckAlternation(c));
  std::string out;
  for (size_t i = 0; i < c.turns.size(); ++i) {
    std::string content = c.turns[i].content;
    if (i == 0 && c.system) {
      content = "<<SYS>>\n" + std::string(*c.system) + "\n<</SYS>>\n\n" + content;
    }
    if (c.turns[i].role == "user") {
      out.append(c.bos).append("[INST] ").append(Strip(content)).append(" [/INST]");
    } else {
      out.append(" ").append(Strip(content)).append(" ").append(c.eos);
    }
  }
  return out;
}

void AppendLlama3Turn(std::string& out, std::string_view role, std::string_view content) {
  out.append("<|start_header_id|>").append(role).append("<|end_header_id|>\n\n");
  out.append(content).append("<|eot_id|>");
}

// Llama 3: "<|start_header_id|>role<|end_header_id|>\n\n" + trimmed content.
Result<std::string> RenderLlama3(const Conversation& c, ChatFormat format) {
  std::string out(c.bos);
  if (format == ChatFormat::kLlama31) {
    // 3.1 always opens with a system turn carrying its knowledge-date preamble.
    std::string system = "Cutting Knowledge Date: December 2023\nToday Date: ";
    system.append(c.date).append("\n\n").append(Strip(c.system.value_or("")));
    AppendLlama3Turn(out, "system", system);
  } else if (c.system) {
    AppendLlama3Turn(out, "system", Strip(*c.system));
  }
  for (const ChatMessage& m : c.turns) {
    if (format == ChatFormat::kLlama31 && m.role == "tool") {
      // 3.1 renders results under "ipython", through tojson (a string is iterable).
      std::string json;
      AppendJsonString(json, m.content);
      AppendLlama3Turn(out, "ipython", json);
    } else {
      AppendLlama3Turn(out, m.role, Strip(m.content));
    }
  }
  if (c.add_generation_prompt) out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
  return out;
}

// ChatML as Qwen2.5-Instruct renders it: consecutive tool results share one user
// turn, each inside <tool_response>.
Result<std::string> RenderChatMl(const Conversation& c) {
  std::string out;  // the template writes no BOS
  if (c.system) out.append("<|im_start|>system\n").append(*c.system).append("<|im_end|>\n");
  for (size_t i = 0; i < c.turns.size(); ++i) {
    const ChatMessage& m = c.turns[i];
    if (m.role != "tool") {
      out.append("<|im_start|>").append(m.role).append("\n").append(m.content);
      out.append("<|im_end|>\n");
      continue;
    }
    if (i == 0 || c.turns[i - 1].role != "tool") out += "<|im_start|>user";
    out.append("\n<tool_response>\n").append(m.content).append("\n</tool_response>");
    if (i + 1 == c.turns.size() || c.turns[i + 1].role != "tool") out += "<|im_end|>\n";
  }
  if (c.add_generation_prompt) out += "<|im_start|>assistant\n";
  return out;
}

// Gemma's template refuses system messages; like llama.cpp, fold the system
// prompt into the first user turn, separated by a blank line.
Result<std::string> RenderGemma(const Conversation& c) {
  AUTAN_TRY(CheckAlternation(c));
  std::string_view system = Strip(c.system.value_or(""));
  if (!system.empty() && c.turns.empty()) {
    return Fail("chat format gemma: the system prompt needs a user message to be folded into");
  }
  std::string out(c.bos);
  for (size_t i = 0; i < c.turns.size(); ++i) {
    const ChatMessage& m = c.turns[i];
    std::string content;
    if (i == 0 && !system.empty()) content.append(system).append("\n\n");
    content.append(Strip(m.content));
    out.append("<start_of_turn>").append(m.role == "assistant" ? "model" : "user").append("\n");
    out.append(Strip(content)).append("<end_of_turn>\n");
  }
  if (c.add_generation_prompt) out += "<start_of_turn>model\n";
  return out;
}

// Phi-3.5: "<|role|>\n" turns; empty system messages are skipped; without a
// generation prompt the text ends with EOS.
Result<std::string> RenderPhi3(const Conversation& c) {
  std::string out;  // the template writes no BOS
  if (c.system && !c.system->empty()) {
    out.append("<|system|>\n").append(*c.system).append("<|end|>\n");
  }
  for (size_t i = 0; i < c.turns.size(); ++i) {
    const ChatMessage& m = c.turns[i];
    // The template silently drops tool messages; refuse rather than lose them.
    if (m.role == "tool") return Unsupported(c, i, "it takes system, user and assistant");
    if (m.role == "system" && m.content.empty()) continue;
    out.append("<|").append(m.role).append("|>\n").append(m.content).append("<|end|>\n");
  }
  out += c.add_generation_prompt ? std::string_view("<|assistant|>\n") : c.eos;
  return out;
}

bool Contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

}  // namespace

std::optional<ChatFormat> ParseChatFormatName(std::string_view name) {
  for (const FormatInfo& info : kFormats) {
    if (info.name == name) return info.format;
  }
  return std::nullopt;
}

std::string_view ChatFormatName(ChatFormat format) { return Info(format).name; }

// Follows llama.cpp's marker order; llama-2 and v7 variants whose turns differ
// from ours in spacing or BOS placement are left unknown, since rendering them
// with our format would shift tokens inside every turn.
std::optional<ChatFormat> DetectChatFormat(std::string_view t) {
  if (auto named = ParseChatFormatName(t)) return named;
  if (Contains(t, "<|im_start|>")) {
    if (Contains(t, "<|im_sep|>")) return std::nullopt;  // Phi-4
    return ChatFormat::kChatMl;
  }
  if (t.starts_with("mistral") || Contains(t, "[INST]")) {
    if (Contains(t, "[SYSTEM_PROMPT]")) {
      if (Contains(t, "[SYSTEM_PROMPT] ")) return ChatFormat::kMistralV7;
      return std::nullopt;  // v7-tekken writes no spaces
    }
    if (Contains(t, "' [INST] ' + system_message") || Contains(t, "[AVAILABLE_TOOLS]")) {
      if (Contains(t, " [INST]")) return ChatFormat::kMistralV1;
      if (Contains(t, "\"[INST]\"")) return ChatFormat::kMistralV3Tekken;
      return ChatFormat::kMistralV3;
    }
    // Llama-2-chat's own template: system in <<SYS>>, BOS and strip in every turn.
    if (Contains(t, "<<SYS>>") && Contains(t, "bos_token + '[INST] ' + content.strip()")) {
      return ChatFormat::kLlama2;
    }
    return std::nullopt;
  }
  if (Contains(t, "<|assistant|>") && Contains(t, "<|end|>")) return ChatFormat::kPhi3;
  if (Contains(t, "<|assistant|>") && Contains(t, "<|user|>")) return std::nullopt;
  if (Contains(t, "<|user|>") && Contains(t, "<|endoftext|>")) return std::nullopt;
  if (Contains(t, "bos_token + message['role']")) return std::nullopt;  // AlphaMonarch
  if (Contains(t, "<start_of_turn>")) return ChatFormat::kGemma;
  if (Contains(t, "<|start_header_id|>") && Contains(t, "<|end_header_id|>")) {
    return Contains(t, "Cutting Knowledge Date") ? ChatFormat::kLlama31 : ChatFormat::kLlama3;
  }
  return std::nullopt;
}

Result<std::string> RenderChat(ChatFormat format, std::span<const ChatMessage> messages,
                               bool add_generation_prompt, const ChatRenderOptions& opts) {
  const FormatInfo& info = Info(format);
  if (messages.empty())
    return Fail("chat format %s: the conversation has no messages", info.name.data());
  for (size_t i = 0; i < messages.size(); ++i) {
    const std::string& role = messages[i].role;
    if (role != "system" && role != "user" && role != "assistant" && role != "tool") {
      return Fail(
          "chat format %s: message %zu has unknown role '%s' (expected system, user, assistant or "
          "tool)",
          info.name.data(), i, role.c_str());
    }
  }
  Conversation c{.info = &info,
                 .system = std::nullopt,
                 .turns = messages,
                 .offset = 0,
                 .bos = opts.bos_token ? std::string_view(*opts.bos_token) : info.bos,
                 .eos = opts.eos_token ? std::string_view(*opts.eos_token) : info.eos,
                 .date = opts.date_string,
                 .add_generation_prompt = add_generation_prompt};
  if (messages.front().role == "system") {
    c.system = messages.front().content;
    c.turns = messages.subspan(1);
    c.offset = 1;
  } else if (!opts.default_system_prompt.empty()) {
    c.system = opts.default_system_prompt;
  }
  switch (format) {
    case ChatFormat::kMistralV1:
    case ChatFormat::kMistralV3:
    case ChatFormat::kMistralV3Tekken:
      return RenderMistral(c, format);
    case ChatFormat::kMistralV7:
      return RenderMistralV7(c);
    case ChatFormat::kLlama2:
      return RenderLlama2(c);
    case ChatFormat::kLlama3:
    case ChatFormat::kLlama31:
      return RenderLlama3(c, format);
    case ChatFormat::kChatMl:
      return RenderChatMl(c);
    case ChatFormat::kGemma:
      return RenderGemma(c);
    case ChatFormat::kPhi3:
      return RenderPhi3(c);
  }
  return Fail("chat format %d: unknown", static_cast<int>(format));
}

}  // namespace autan
