// Chat messages into prompt text: the model's own tokenizer.chat_template run
// by the Jinja interpreter, or a built-in format when the file has none.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/result.h"
#include "model/model.h"
#include "server/tool_schema.h"
#include "tokenizer/chat_format.h"
#include "tokenizer/jinja/template.h"

namespace autan::server {

class ChatPrompter {
 public:
  // `choice`: "" for the model's own template (a built-in format when it has
  // none), a built-in format name ("mistral-v3", ...) or a Jinja file's path.
  static Result<ChatPrompter> Create(const Model& model, const std::string& choice);

  // The prompt text (special tokens written as text: tokenize it with special
  // tokens parsed and none added). With continue_final the last message, an
  // assistant one, is left open for the model to continue.
  Result<std::string> Render(const nlohmann::ordered_json& messages,
                             const nlohmann::ordered_json& tools, bool continue_final) const;

  // "the model's chat template" or "built-in format mistral-v1".
  const std::string& description() const { return description_; }
  // The tool-call format the template and vocabulary speak (built-in formats
  // render no tools).
  const ToolSyntax& tool_syntax() const { return tool_syntax_; }

 private:
  Result<std::string> RenderAll(const nlohmann::ordered_json& messages,
                                const nlohmann::ordered_json& tools,
                                bool add_generation_prompt) const;

  std::optional<jinja::Template> jinja_;
  ChatFormat format_ = ChatFormat::kMistralV1;
  std::string bos_, eos_;
  std::string description_;
  ToolSyntax tool_syntax_;
};

}  // namespace autan::server
