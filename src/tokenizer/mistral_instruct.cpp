#include "tokenizer/mistral_instruct.h"

#include <array>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace autan {

namespace {

using Json = nlohmann::ordered_json;

void DumpString(const std::string& s, std::string& out) {
  out += '"';
  for (const char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          std::array<char, 8> hex{};
          std::snprintf(hex.data(), hex.size(), "\\u%04x", static_cast<unsigned>(c));
          out += hex.data();
        } else {
          out += c;  // ensure_ascii=False keeps UTF-8 as is
        }
    }
  }
  out += '"';
}

void Dump(const Json& j, std::string& out) {
  if (j.is_object()) {
    out += '{';
    bool first = true;
    for (const auto& [key, value] : j.items()) {
      if (!first) out += ", ";
      first = false;
      DumpString(key, out);
      out += ": ";
      Dump(value, out);
    }
    out += '}';
  } else if (j.is_array()) {
    out += '[';
    for (size_t i = 0; i < j.size(); ++i) {
      if (i) out += ", ";
      Dump(j[i], out);
    }
    out += ']';
  } else if (j.is_string()) {
    DumpString(j.get<std::string>(), out);
  } else if (j.is_boolean()) {
    out += j.get<bool>() ? "true" : "false";
  } else if (j.is_null()) {
    out += "null";
  } else {
    out += j.dump();  // numbers: shortest round-trip form, as Python's repr
  }
}

std::string DumpJson(const Json& j) {
  std::string out;
  Dump(j, out);
  return out;
}

// mistral-common's _parse_json_content: parsed when it is JSON, else the text.
Json ParsedOrText(const std::string& text) {
  Json parsed = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  return parsed.is_discarded() ? Json(text) : parsed;
}

class Encoder {
 public:
  Encoder(const Tokenizer& tokenizer, MistralInstructVersion version)
      : t_(tokenizer), version_(version) {}

  Result<int32_t> Control(std::string_view text) const {
    const auto id = t_.FindToken(text);
    if (!id || t_.token_type(*id) != TokenType::kControl) {
      return Fail("the vocabulary has no control token %.*s", static_cast<int>(text.size()),
                  text.data());
    }
    return *id;
  }
  Status Push(std::string_view control) {
    auto id = Control(control);
    if (!id.ok()) return id.error();
    out_.push_back(*id);
    return {};
  }
  void Text(std::string_view text) {
    const std::vector<int32_t> ids = t_.Encode(text, {.add_special = false});
    out_.insert(out_.end(), ids.begin(), ids.end());
  }

  Status Run(const MistralRequest& request);
  std::vector<int32_t> Take() { return std::move(out_); }

 private:
  bool v(MistralInstructVersion at_least) const { return version_ >= at_least; }
  Status User(const MistralMessage& m, bool first, bool last, const std::string& system,
              const std::string& tools);
  Status Assistant(const MistralMessage& m, bool before_last_user, bool last);
  Status Tool(const MistralMessage& m, bool before_last_user);

  const Tokenizer& t_;
  MistralInstructVersion version_;
  std::vector<int32_t> out_;
};

Status Encoder::User(const MistralMessage& m, bool first, bool last, const std::string& system,
                     const std::string& tools) {
  if (version_ == MistralInstructVersion::kV1) {
    const std::string content = first && !system.empty() ? system + "\n\n" + m.content : m.content;
    Text("[INST] " + content + " [/INST]");
    return {};
  }
  if (last && !tools.empty()) {
    AUTAN_TRY(Push("[AVAILABLE_TOOLS]"));
    Text(tools);
    AUTAN_TRY(Push("[/AVAILABLE_TOOLS]"));
  }
  AUTAN_TRY(Push("[INST]"));
  // v2/v3: the system prompt in front of the last user message; v7 writes it apart.
  Text(last && !system.empty() ? system + "\n\n" + m.content : m.content);
  return Push("[/INST]");
}

Status Encoder::Assistant(const MistralMessage& m, bool before_last_user, bool last) {
  if (m.prefix && !last) return Fail("an assistant prefix must be the last message");
  if (m.content.empty() && m.tool_calls.empty()) return Fail("an assistant message is empty");
  if (version_ == MistralInstructVersion::kV1 && !m.tool_calls.empty()) {
    return Fail("tool calls need tokenizer v2 or later");
  }
  if (version_ < MistralInstructVersion::kV7 && !m.content.empty() && !m.tool_calls.empty()) {
    return Fail("an assistant message has both text and tool calls (only v7 allows both)");
  }
  if (!m.content.empty()) {
    // v2 on: trailing spaces removed (v1 keeps them).
    std::string_view text = m.content;
    if (version_ != MistralInstructVersion::kV1) {
      while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
    }
    Text(text);
  }
  if (!m.tool_calls.empty()) {
    // v2 drops tool calls before the last user message.
    if (version_ == MistralInstructVersion::kV2 && before_last_user) return {};
    Json calls = Json::array();
    for (const MistralToolCall& call : m.tool_calls) {
      Json c = {{"name", call.name}, {"arguments", ParsedOrText(call.arguments)}};
      if (v(MistralInstructVersion::kV3) && !call.id.empty() && call.id != "null") {
        c["id"] = call.id;
      }
      calls.push_back(std::move(c));
    }
    AUTAN_TRY(Push("[TOOL_CALLS]"));
    Text(DumpJson(calls));
  }
  if (!m.prefix) out_.push_back(t_.eos());
  return {};
}

Status Encoder::Tool(const MistralMessage& m, bool before_last_user) {
  switch (version_) {
    case MistralInstructVersion::kV1:
      return Fail("tool messages need tokenizer v2 or later");
    case MistralInstructVersion::kV2: {
      if (before_last_user) return {};
      const Json result = Json::array({{{"name", m.name}, {"content", ParsedOrText(m.content)}}});
      AUTAN_TRY(Push("[TOOL_RESULTS]"));
      Text(DumpJson(result));
      return Push("[/TOOL_RESULTS]");
    }
    case MistralInstructVersion::kV3: {
      if (m.tool_call_id.empty()) return Fail("a tool message needs tool_call_id from v3 on");
      const Json result = {{"content", ParsedOrText(m.content)}, {"call_id", m.tool_call_id}};
      AUTAN_TRY(Push("[TOOL_RESULTS]"));
      Text(DumpJson(result));
      return Push("[/TOOL_RESULTS]");
    }
    case MistralInstructVersion::kV7:
      if (m.tool_call_id.empty()) return Fail("a tool message needs tool_call_id from v3 on");
      AUTAN_TRY(Push("[TOOL_RESULTS]"));
      Text(m.tool_call_id);
      AUTAN_TRY(Push("[TOOL_CONTENT]"));
      Text(m.content);
      return Push("[/TOOL_RESULTS]");
  }
  return {};
}

Status Encoder::Run(const MistralRequest& request) {
  std::string tools;
  if (!request.tools_json.empty()) {
    if (version_ == MistralInstructVersion::kV1) return Fail("tools need tokenizer v2 or later");
    auto dumped = mistral_internal::PyJsonDumps(request.tools_json);
    if (!dumped) return Fail("tools: not valid JSON");
    tools = std::move(*dumped);
  }
  // Before v7, system messages are one system prompt (mistral-common's
  // normalizer joins them with blank lines).
  std::string system;
  int first_user = -1, last_user = -1;
  const auto n = static_cast<int>(request.messages.size());
  for (int i = 0; i < n; ++i) {
    const MistralMessage& m = request.messages[i];
    if (m.role == "user") {
      if (first_user < 0) first_user = i;
      last_user = i;
    } else if (m.role == "system" && version_ != MistralInstructVersion::kV7) {
      system += (system.empty() ? "" : "\n\n") + m.content;
    }
  }
  if (n == 0) return Fail("the conversation is empty");
  out_.push_back(t_.bos());
  for (int i = 0; i < n; ++i) {
    const MistralMessage& m = request.messages[i];
    if (m.role == "user") {
      AUTAN_TRY(User(m, i == first_user, i == last_user, system, tools));
    } else if (m.role == "assistant") {
      AUTAN_TRY(Assistant(m, i < last_user, i == n - 1));
    } else if (m.role == "tool") {
      AUTAN_TRY(Tool(m, i < last_user));
    } else if (m.role == "system") {
      if (version_ == MistralInstructVersion::kV7) {
        AUTAN_TRY(Push("[SYSTEM_PROMPT]"));
        Text(m.content);
        AUTAN_TRY(Push("[/SYSTEM_PROMPT]"));
      }
    } else {
      return Fail("message %d: unknown role '%s'", i, m.role.c_str());
    }
  }
  return {};
}

}  // namespace

std::optional<MistralInstructVersion> ParseMistralInstructVersion(std::string_view name) {
  if (name == "v1") return MistralInstructVersion::kV1;
  if (name == "v2") return MistralInstructVersion::kV2;
  if (name == "v3") return MistralInstructVersion::kV3;
  if (name == "v7") return MistralInstructVersion::kV7;
  return std::nullopt;
}

Result<std::vector<int32_t>> EncodeMistralChat(const Tokenizer& tokenizer,
                                               MistralInstructVersion version,
                                               const MistralRequest& request) {
  Encoder encoder(tokenizer, version);
  AUTAN_TRY(encoder.Run(request));
  return encoder.Take();
}

namespace mistral_internal {

std::optional<std::string> PyJsonDumps(std::string_view json_text) {
  const Json parsed = Json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return std::nullopt;
  return DumpJson(parsed);
}

}  // namespace mistral_internal

}  // namespace autan
