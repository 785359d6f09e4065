#include "server/chat_prompt.h"

#include <fstream>
#include <sstream>

namespace autan::server {

Result<ChatPrompter> ChatPrompter::Create(const Model& model, const std::string& choice) {
  ChatPrompter p;
  const Tokenizer& tok = model.tokenizer();
  p.tool_syntax_ = DetectToolSyntax("", tok);
  if (tok.bos() >= 0) p.bos_ = tok.TokenText(tok.bos());
  if (tok.eos() >= 0) p.eos_ = tok.TokenText(tok.eos());
  std::string source;
  std::string origin = "the model's chat template";
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
