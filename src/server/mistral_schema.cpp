#include "server/mistral_schema.h"

#include "server/openai_schema.h"

namespace autan::server {

void ReadMistralChatFields(FieldReader& f, const nlohmann::ordered_json& body, ChatRequest& out) {
  // random_seed is Mistral's name for seed.
  f.Integer("random_seed", std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(),
            out.gen.seed);
  f.Bool("safe_prompt", out.safe_prompt);
  if (const auto* choice = f.Find("tool_choice"); choice && !f.error) {
    if (choice->is_string()) {
      const std::string c = choice->get<std::string>();
      if (c != "auto" && c != "none" && c != "any" && c != "required") {
        f.Fail("'tool_choice' must be \"auto\", \"none\", \"any\", \"required\" or a function",
               "tool_choice");
      }
      out.tool_choice = c;
    } else if (choice->is_object()) {
      // {"type": "function", "function": {"name": "..."}}, in both APIs.
      auto function = choice->find("function");
      if (function == choice->end() || !function->is_object() || !function->contains("name") ||
          !(*function)["name"].is_string()) {
        return f.Wrong("tool_choice.function.name", "a string");
      }
      out.tool_choice = "function";
      out.tool_choice_name = (*function)["name"].get<std::string>();
    } else {
      f.Wrong("tool_choice", "a string or an object naming a function");
    }
  }
  // `prefix: true` is only meaningful on the last message, an assistant one.
  const nlohmann::ordered_json& messages = body.at("messages");
  for (size_t i = 0; i < messages.size() && !f.error; ++i) {
    auto it = messages[i].find("prefix");
    if (it == messages[i].end() || it->is_null()) continue;
    const std::string param = "messages[" + std::to_string(i) + "].prefix";
    if (!it->is_boolean()) {
      f.Wrong(param, "a boolean");
    } else if (it->get<bool>()) {
      if (i + 1 != messages.size() || messages[i].value("role", "") != "assistant") {
        f.Fail("'prefix' may only be true on the last message, an assistant one", param);
      }
      out.continue_final = true;
    }
  }
}

void ApplySafePrompt(nlohmann::ordered_json& messages) {
  if (!messages.empty() && messages[0].value("role", "") == "system") {
    std::string& content = messages[0]["content"].get_ref<std::string&>();
    content = std::string(kMistralSafePrompt) + "\n\n" + content;
    return;
  }
  messages.insert(messages.begin(),
                  nlohmann::ordered_json{{"role", "system"}, {"content", kMistralSafePrompt}});
}

std::optional<ApiError> ParseFimRequest(const nlohmann::ordered_json& body, int32_t n_vocab,
                                        FimRequest& out) {
  FieldReader f(body);
  ReadGenerationParams(f, n_vocab, out.gen);
  f.Integer("random_seed", std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(),
            out.gen.seed);
  f.Integer("min_tokens", 0, std::numeric_limits<int32_t>::max(), out.min_tokens);
  if (!f.error && !f.Find("prompt")) f.Fail("'prompt' is required", "prompt");
  f.String("prompt", out.prompt);
  f.String("suffix", out.suffix);
  if (!f.error && out.gen.max_tokens && out.min_tokens > *out.gen.max_tokens) {
    f.Fail("'min_tokens' must not exceed 'max_tokens'", "min_tokens");
  }
  return f.error;
}

}  // namespace autan::server
