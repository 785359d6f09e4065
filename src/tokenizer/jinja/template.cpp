#include "tokenizer/jinja/template.h"

#include "tokenizer/jinja/interpreter.h"
#include "tokenizer/jinja/parser.h"

namespace autan::jinja {

Result<Template> Template::Parse(std::string_view source) {
  auto body = ParseTemplate(source);
  if (!body.ok()) return body.error();
  return Template(std::make_shared<const std::vector<NodePtr>>(std::move(*body)));
}

Result<std::string> Template::Render(const nlohmann::ordered_json& context) const {
  return Render(context, RenderOptions{});
}

Result<std::string> Template::Render(const nlohmann::ordered_json& context,
                                     const RenderOptions& options) const {
  if (!context.is_object()) return Fail("template context must be a JSON object");
  auto globals = FromJson(context);
  if (!globals.ok()) return Fail("template context: %s", globals.error().message.c_str());
  return RenderBody(*body_, *globals, options);
}

}  // namespace autan::jinja
