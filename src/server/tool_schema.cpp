#include "server/tool_schema.h"

namespace autan::server {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::string_view kMistralMarker = "[TOOL_CALLS]";

// Points local $refs of a schema moved to `at` (a JSON pointer) at their
// new place. Literal values (enum, const, ...) are data and stay as they are.
void MoveRefs(Json& schema, const std::string& at) {
  if (schema.is_array()) {
    for (Json& s : schema) MoveRefs(s, at);
    return;
  }
  if (!schema.is_object()) return;
  for (auto& [key, value] : schema.items()) {
    if (key == "$ref" && value.is_string()) {
      const std::string ref = value.get<std::string>();
      if (!ref.empty() && ref[0] == '#') value = "#" + at + ref.substr(1);
    } else if (key != "enum" && key != "const" && key != "default" && key != "examples") {
      MoveRefs(value, at);
    }
  }
}

// One call of `function`; `at` is where the object lands in the schema.
Json CallSchema(const Json& function, const char* arguments_key, const std::string& at) {
  Json parameters;
  auto p = function.find("parameters");
  if (p == function.end() || p->is_null()) {
    // OpenAI: leaving parameters out declares a function without any.
    parameters = {
        {"type", "object"}, {"properties", Json::object()}, {"additionalProperties", false}};
  } else {
    parameters = *p;
    MoveRefs(parameters, at + "/properties/" + arguments_key);
  }
  return {{"type", "object"},
          {"properties", {{"name", {{"const", function["name"]}}}, {arguments_key, parameters}}},
          {"required", {"name", arguments_key}},
          {"additionalProperties", false}};
}

}  // namespace

ToolSyntax DetectToolSyntax(std::string_view chat_template, const Tokenizer& tokenizer) {
  ToolSyntax s;
  if (std::optional<int32_t> id = tokenizer.FindToken(kMistralMarker)) {
    const TokenType type = tokenizer.token_type(*id);
    if (type == TokenType::kControl || type == TokenType::kUserDefined) s.marker_token = *id;
  }
  if (s.marker_token >= 0 || chat_template.find(kMistralMarker) != std::string_view::npos) {
    s.dialect = ToolDialect::kMistral;
    s.marker = kMistralMarker;
  } else if (chat_template.find("\"parameters\": dictionary") != std::string_view::npos) {
    // Llama 3.1's prompt: 'Respond in the format {"name": function name,
    // "parameters": dictionary of argument name and its value}.'
    s.dialect = ToolDialect::kLlama3Json;
  }
  return s;
}

Json ForcedToolCallSchema(ToolDialect dialect, const Json& tools, const std::string& only,
                          bool parallel) {
  const bool mistral = dialect == ToolDialect::kMistral;
  const char* arguments_key = mistral ? "arguments" : "parameters";
  const std::string item_at = mistral ? "/items" : "";
  std::vector<const Json*> functions;
  for (const Json& tool : tools) {
    const Json& f = tool["function"];
    if (only.empty() || f["name"] == only) functions.push_back(&f);
  }
  Json item;
  if (functions.size() == 1) {
    item = CallSchema(*functions[0], arguments_key, item_at);
  } else {
    item = {{"anyOf", Json::array()}};
    for (size_t i = 0; i < functions.size(); ++i) {
      item["anyOf"].push_back(
          CallSchema(*functions[i], arguments_key, item_at + "/anyOf/" + std::to_string(i)));
    }
  }
  if (!mistral) return item;  // Llama 3.1 writes one call, not a list
  Json list = {{"type", "array"}, {"items", item}, {"minItems", 1}};
  if (!parallel) list["maxItems"] = 1;
  return list;
}

}  // namespace autan::server
