#include "server/chat_prompt.h"

#include <fstream>
#include <sstream>

namespace autan::server {

namespace {

constexpr std::string_view kMistralInstruct = "mistral-instruct";

// The version a "mistral-instruct[-vN]" choice names; nullopt for another
// choice. Versions after v7 (v11, v13) keep v7's layout for what autan
// encodes: messages, tools, calls and results.
Result<std::optional<MistralInstructVersion>> MistralChoice(std::string_view choice,
                                                            const Tokenizer& tok) {
  if (choice.substr(0, kMistralInstruct.size()) != kMistralInstruct) {
    return std::optional<MistralInstructVersion>();
  }
  std::string_view version = choice.substr(kMistralInstruct.size());
  if (version.empty()) {
    if (tok.mistral_instruct().empty()) {
      return Fail(
          "--chat-template mistral-instruct: the model's tokenizer declares no Mistral instruct "
          "version; name one (mistral-instruct-v1, -v2, -v3 or -v7)");
    }
    version = tok.mistral_instruct();
  } else if (version[0] == '-') {
    version.remove_prefix(1);
  } else {
    return std::optional<MistralInstructVersion>();
  }
  if (std::optional<MistralInstructVersion> v = ParseMistralInstructVersion(version)) return v;
  if (version == "v11" || version == "v13") return std::optional(MistralInstructVersion::kV7);
  return Fail("unknown Mistral instruct version '%s' (expected v1, v2, v3 or v7)",
              std::string(version).c_str());
}

// OpenAI-shaped messages (as the request parser normalizes them) in
// mistral-common's terms.
MistralRequest ToMistralRequest(const nlohmann::ordered_json& messages,
                                const nlohmann::ordered_json& tools, bool continue_final) {
  MistralRequest r;
  for (const auto& m : messages) {
    MistralMessage out;
    out.role = m.value("role", "");
    out.content = m.value("content", "");
    out.tool_call_id = m.value("tool_call_id", "");
    out.name = m.value("name", "");
    if (auto calls = m.find("tool_calls"); calls != m.end() && calls->is_array()) {
      for (const auto& call : *calls) {
        const nlohmann::ordered_json function = call.value("function", nlohmann::ordered_json());
        const nlohmann::ordered_json arguments =
            function.value("arguments", nlohmann::ordered_json::object());
        out.tool_calls.push_back(
            {call.value("id", ""), function.value("name", ""),
             arguments.is_string() ? arguments.get<std::string>() : arguments.dump()});
      }
    }
    r.messages.push_back(std::move(out));
  }
  if (continue_final && !r.messages.empty()) r.messages.back().prefix = true;
  if (tools.is_array() && !tools.empty()) r.tools_json = tools.dump();
  return r;
}

}  // namespace

Result<ChatPrompter> ChatPrompter::Create(const Model& model, const std::string& choice) {
  const Tokenizer& tok = model.tokenizer();
  ChatPrompter p(tok);
  p.tool_syntax_ = DetectToolSyntax("", tok);
  if (tok.bos() >= 0) p.bos_ = tok.TokenText(tok.bos());
  if (tok.eos() >= 0) p.eos_ = tok.TokenText(tok.eos());
  std::string source;
  std::string origin = "the model's chat template";
  Result<std::optional<MistralInstructVersion>> mistral = MistralChoice(choice, tok);
  if (!mistral.ok()) return mistral.error();
  if (*mistral) {
    p.mistral_ = *mistral;
    p.description_ = "Mistral instruct format " +
                     (choice == kMistralInstruct ? tok.mistral_instruct()
                                                 : choice.substr(kMistralInstruct.size() + 1));
    return p;
  }
  if (!choice.empty()) {
    if (std::optional<ChatFormat> f = ParseChatFormatName(choice)) {
      p.format_ = *f;
      p.description_ = "built-in format " + std::string(ChatFormatName(*f));
      return p;
    }
    std::ifstream in(choice, std::ios::binary);
    if (!in) {
      return Fail("chat template '%s' is neither a built-in format nor a readable file",
                  choice.c_str());
    }
    std::ostringstream text;
    text << in.rdbuf();
    source = text.str();
    origin = "chat template " + choice;
  } else if (Result<std::string_view> t = model.file().GetString("tokenizer.chat_template");
             t.ok()) {
    source = std::string(*t);
  } else if (Result<std::optional<MistralInstructVersion>> declared =
                 MistralChoice(std::string(kMistralInstruct), tok);
             declared.ok() && *declared) {
    p.mistral_ = *declared;
    p.description_ = "Mistral instruct format " + tok.mistral_instruct() + " (its tokenizer's)";
    return p;
  } else {
    p.description_ = "built-in format mistral-v1 (the model has no chat template)";
    return p;
  }
  Result<jinja::Template> parsed = jinja::Template::Parse(source);
  if (parsed.ok()) {
    p.jinja_.emplace(std::move(parsed).value());
    p.tool_syntax_ = DetectToolSyntax(source, tok);
    p.description_ = origin;
    return p;
  }
  if (!choice.empty()) return Fail("%s: %s", choice.c_str(), parsed.error().message.c_str());
  // A template the interpreter cannot run still names its format, usually.
  if (std::optional<ChatFormat> f = DetectChatFormat(source)) {
    p.format_ = *f;
    p.description_ = "built-in format " + std::string(ChatFormatName(*f)) +
                     " (the model's template: " + parsed.error().message + ")";
    return p;
  }
  return Fail("the model's chat template: %s", parsed.error().message.c_str());
}

Result<std::string> ChatPrompter::RenderAll(const nlohmann::ordered_json& messages,
                                            const nlohmann::ordered_json& tools,
                                            bool add_generation_prompt) const {
  if (jinja_) {
    nlohmann::ordered_json context = {{"messages", messages},
                                      {"add_generation_prompt", add_generation_prompt},
                                      {"bos_token", bos_},
                                      {"eos_token", eos_}};
    if (!tools.is_null()) context["tools"] = tools;
    return jinja_->Render(context);
  }
  std::vector<ChatMessage> plain;
  for (const auto& m : messages) {
    plain.push_back({m["role"].get<std::string>(), m["content"].get<std::string>()});
  }
  ChatRenderOptions options;
  if (!bos_.empty()) options.bos_token = bos_;
  if (!eos_.empty()) options.eos_token = eos_;
  return RenderChat(format_, plain, add_generation_prompt, options);
}

Result<std::vector<int32_t>> ChatPrompter::Encode(const nlohmann::ordered_json& messages,
                                                  const nlohmann::ordered_json& tools,
                                                  bool continue_final,
                                                  std::string_view suffix) const {
  const EncodeOptions special = {.add_special = false, .parse_special = true};
  if (mistral_) {
    Result<std::vector<int32_t>> ids =
        EncodeMistralChat(tokenizer_, *mistral_, ToMistralRequest(messages, tools, continue_final));
    if (!ids.ok() || suffix.empty()) return ids;
    const std::vector<int32_t> tail = tokenizer_.Encode(suffix, special);
    ids->insert(ids->end(), tail.begin(), tail.end());
    return ids;
  }
  Result<std::string> text = Render(messages, tools, continue_final);
  if (!text.ok()) return text.error();
  *text += suffix;
  return tokenizer_.Encode(*text, special);
}

Result<std::string> ChatPrompter::Render(const nlohmann::ordered_json& messages,
                                         const nlohmann::ordered_json& tools,
                                         bool continue_final) const {
  if (!continue_final) return RenderAll(messages, tools, true);
  // As transformers' continue_final_message: render the whole conversation and
  // cut right after the final message's text, dropping what closes the turn.
  const std::string prefix = messages.back()["content"].get<std::string>();
  Result<std::string> whole = RenderAll(messages, tools, false);
  if (whole.ok() && !prefix.empty()) {
    const size_t at = whole->rfind(prefix);
    if (at != std::string::npos) return whole->substr(0, at + prefix.size());
  }
  nlohmann::ordered_json earlier = messages;
  earlier.erase(earlier.size() - 1);
  if (earlier.empty()) return bos_ + prefix;
  Result<std::string> open = RenderAll(earlier, tools, true);
  if (!open.ok()) return open;
  return *open + prefix;
}

}  // namespace autan::server
