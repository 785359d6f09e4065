#include "server/app_requests.h"

#include "server/schema_fields.h"

namespace autan::server {

using Json = nlohmann::ordered_json;

std::optional<ApiError> ReadChatParams(const Json& parameters, const std::string& field,
                                       ChatParams& into) {
  if (parameters.is_null()) return std::nullopt;
  if (!parameters.is_object()) return BadRequest("'" + field + "' must be an object", field);
  FieldReader f(parameters);
  float temperature = 0, top_p = 0;
  int32_t max_tokens = 0;
  if (f.Find("temperature")) {
    f.Number("temperature", 0.0, 2.0, temperature);
    if (!f.error) into.temperature = temperature;
  }
  if (f.Find("top_p")) {
    f.Number("top_p", 0.0, 1.0, top_p);
    if (!f.error) into.top_p = top_p;
  }
  if (f.Find("max_tokens")) {
    f.Integer("max_tokens", 1, 1 << 20, max_tokens);
    if (!f.error) into.max_tokens = max_tokens;
  }
  if (f.error) f.error->param = field + "." + f.error->param;
  return f.error;
}

std::optional<ApiError> CheckChatParams(const Json& parameters, const std::string& field) {
  if (!parameters.is_object()) return BadRequest("'" + field + "' must be an object", field);
  ChatParams ignored;
  return ReadChatParams(parameters, field, ignored);
}

std::optional<ApiError> ParseConversationImport(const Json& body, ConversationImport& out) {
  if (!body.is_object() || body.value("version", Json()) != Json(1)) {
    return BadRequest("'version' must be 1", "version");
  }
  const Json conv = body.value("conversation", Json::object());
  if (!conv.is_object()) return BadRequest("'conversation' must be an object", "conversation");
  FieldReader f(conv);
  f.String("title", out.conversation.title);
  if (f.error) {
    f.error->param = "conversation.title";
    return f.error;
  }
  const auto messages = body.find("messages");
  if (messages == body.end() || !messages->is_array()) {
    return BadRequest("'messages' must be a list", "messages");
  }
  for (size_t i = 0; i < messages->size(); ++i) {
    const Json& m = (*messages)[i];
    const std::string field = "messages[" + std::to_string(i) + "]";
    const std::optional<store::MessageRole> role =
        m.is_object() && m.value("role", Json()).is_string()
            ? store::ParseMessageRole(m["role"].get<std::string>())
            : std::nullopt;
    if (!role || *role == store::MessageRole::kTool) {
      return BadRequest("'" + field + ".role' must be user, assistant or system", field + ".role");
    }
    if (!m.value("content", Json()).is_string()) {
      return BadRequest("'" + field + ".content' must be a string", field + ".content");
    }
    out.messages.push_back({*role, m["content"].get<std::string>()});
  }
  return std::nullopt;
}

}  // namespace autan::server
