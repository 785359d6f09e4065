// Chat templates: renders a model's own `tokenizer.chat_template` exactly as
// Jinja2 does when Hugging Face transformers' apply_chat_template runs it
// (trim_blocks, lstrip_blocks, loop controls, a sandbox, and transformers'
// tojson, raise_exception and strftime_now).
//
//   auto tmpl = jinja::Template::Parse(source);
//   auto text = tmpl->Render({{"messages", messages}, {"add_generation_prompt", true},
//                             {"bos_token", "<s>"}, {"eos_token", "</s>"}});
//
// Errors say what went wrong and where ("line 3:14: unknown filter 'foo'").
// Rendering is bounded (output size, loop iterations, nesting), so a hostile
// template fails with a clear error instead of exhausting the machine.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.h"

namespace autan::jinja {

struct Node;

struct RenderOptions {
  size_t max_output_bytes = size_t{16} << 20;  // also bounds every string built
  size_t max_steps = 1'000'000;                // loop iterations plus macro calls
  int max_depth = 256;                         // nested expression evaluation and macro calls
  // strftime_now's clock; the system clock (local time) when unset.
  std::optional<std::chrono::system_clock::time_point> now;
};

class Template {
 public:
  static Result<Template> Parse(std::string_view source);

  // `context` holds the template's variables: "messages", "tools",
  // "add_generation_prompt", "bos_token", "eos_token", ... Object key order is
  // kept (tojson prints keys as given), so parse request JSON as ordered_json;
  // a plain nlohmann::json converts, with its keys sorted.
  Result<std::string> Render(const nlohmann::ordered_json& context) const;
  Result<std::string> Render(const nlohmann::ordered_json& context,
                             const RenderOptions& options) const;

 private:
  explicit Template(std::shared_ptr<const std::vector<std::unique_ptr<Node>>> body)
      : body_(std::move(body)) {}
  std::shared_ptr<const std::vector<std::unique_ptr<Node>>> body_;
};

}  // namespace autan::jinja
