// Chat templates: an arbitrary template, rendered with arbitrary messages.
// Input: "template\n----\n{context as JSON}"; when the second part is not a
// JSON object, a fixed conversation is used, so template mutations still run.
// Rendering is bounded (RenderOptions) and must end with text or an error.
#include <chrono>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "fuzz_util.h"
#include "tokenizer/jinja/template.h"

namespace autan::fuzz {
namespace {

using Json = nlohmann::ordered_json;

Json DefaultContext() {
  return Json::parse(R"({
    "messages": [
      {"role": "system", "content": "Be brief."},
      {"role": "user", "content": "Hello"},
      {"role": "assistant", "content": "Hi!", "tool_calls": [
        {"id": "abc123XYZ", "type": "function",
         "function": {"name": "f", "arguments": {"x": 1}}}]},
      {"role": "tool", "tool_call_id": "abc123XYZ", "content": "42"},
      {"role": "user", "content": [{"type": "text", "text": "and?"}]}
    ],
    "tools": [{"type": "function", "function": {"name": "f", "description": "d",
               "parameters": {"type": "object", "properties": {"x": {"type": "integer"}}}}}],
    "add_generation_prompt": true, "bos_token": "<s>", "eos_token": "</s>"
  })");
}

}  // namespace
}  // namespace autan::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace autan;
  static const fuzz::Json kDefault = fuzz::DefaultContext();
  const std::vector<std::string_view> parts = fuzz::SplitParts(fuzz::AsText(data, size), 2);
  Result<jinja::Template> tmpl = jinja::Template::Parse(parts[0]);
  if (!tmpl.ok()) {
    fuzz::CheckMessage(tmpl.error());
    return 0;
  }
  fuzz::Json context;
  if (parts.size() > 1) {
    context = fuzz::Json::parse(parts[1], nullptr, /*allow_exceptions=*/false);
  }
  if (!context.is_object()) context = kDefault;
  // The server's depth limit; smaller output and step budgets than the
  // server's keep each run fast without changing what is checked.
  jinja::RenderOptions options;
  options.max_output_bytes = size_t{256} << 10;
  options.max_steps = 20'000;
  options.now = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
  Result<std::string> text = tmpl->Render(context, options);
  if (!text.ok()) fuzz::CheckMessage(text.error());
  return 0;
}
