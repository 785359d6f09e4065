// Chat messages into a prompt: the model's own tokenizer.chat_template run by
// the Jinja interpreter; Mistral's instruct format at the token level (as
// mistral-common encodes it) for a model whose Mistral tokenizer file declares
// its version; or a built-in text format when there is neither.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.h"
#include "model/model.h"
#include "server/tool_schema.h"
#include "tokenizer/chat_format.h"
#include "tokenizer/jinja/template.h"
#include "tokenizer/mistral_instruct.h"

namespace autan::server {

class ChatPrompter {
 public:
  // `choice`: "" for the model's own template (else the instruct format its
  // Mistral tokenizer declares, else a built-in format), a built-in format
  // name ("mistral-v3", ...), "mistral-instruct" (the declared version) or
  // "mistral-instruct-v1|v2|v3|v7", or a Jinja file's path.
  static Result<ChatPrompter> Create(const Model& model, const std::string& choice);

  // The prompt's token ids. With continue_final the last message, an
  // assistant one, is left open for the model to continue. `suffix` (text in
  // which special tokens are parsed, e.g. a forced tool call's marker) is
  // appended.
  Result<std::vector<int32_t>> Encode(const nlohmann::ordered_json& messages,
                                      const nlohmann::ordered_json& tools, bool continue_final,
                                      std::string_view suffix = {}) const;

  // "the model's chat template" or "built-in format mistral-v1".
  const std::string& description() const { return description_; }
  // The tool-call format the template and vocabulary speak (built-in formats
  // render no tools).
  const ToolSyntax& tool_syntax() const { return tool_syntax_; }

 private:
  explicit ChatPrompter(Tokenizer tokenizer) : tokenizer_(std::move(tokenizer)) {}

  // The prompt text of a template or built-in format (special tokens written
  // as text, to be tokenized with special tokens parsed and none added).
  Result<std::string> Render(const nlohmann::ordered_json& messages,
                             const nlohmann::ordered_json& tools, bool continue_final) const;
  Result<std::string> RenderAll(const nlohmann::ordered_json& messages,
                                const nlohmann::ordered_json& tools,
                                bool add_generation_prompt) const;

  Tokenizer tokenizer_;
  std::optional<jinja::Template> jinja_;
  std::optional<MistralInstructVersion> mistral_;
  ChatFormat format_ = ChatFormat::kMistralV1;
  std::string bos_, eos_;
  std::string description_;
  ToolSyntax tool_syntax_;
};

}  // namespace autan::server
