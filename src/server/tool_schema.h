// Which tool-call format a model writes, and the JSON schema that forces a
// call in that format (tool_choice "any"/"required" or a named function):
// the constrained decoder then only lets the model write calls of the
// declared functions with arguments their parameters schemas accept.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/result.h"
#include "server/tool_calls.h"
#include "tokenizer/tokenizer.h"

namespace autan::server {

struct ToolSyntax {
  ToolDialect dialect = ToolDialect::kNone;
  std::string marker;         // Mistral: "[TOOL_CALLS]", what opens the calls
  int32_t marker_token = -1;  // the marker's control token, when the vocabulary has one
};

// Mistral's format when the chat template writes [TOOL_CALLS] or the
// vocabulary has it as a control token; Llama 3.1's JSON when the template
// asks for {"name": ..., "parameters": ...}; none otherwise. `chat_template`
// is the Jinja source, "" for a built-in format (which renders no tools).
ToolSyntax DetectToolSyntax(std::string_view chat_template, const Tokenizer& tokenizer);

// The schema of what follows the marker: Mistral's list of one or more
// {"name", "arguments"} objects (at most one when !parallel), Llama's single
// {"name", "parameters"} object. `tools` is the request's validated list;
// `only` names the one function allowed, "" for any of them. Local $refs in
// the parameters schemas are rewritten to their new place.
nlohmann::ordered_json ForcedToolCallSchema(ToolDialect dialect,
                                            const nlohmann::ordered_json& tools,
                                            const std::string& only, bool parallel);

}  // namespace autan::server
