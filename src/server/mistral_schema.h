// Mistral's additions to the chat request (its SDK and La Plateforme API):
// random_seed, safe_prompt, `prefix: true` on a final assistant message and
// tool_choice "any"; and its fill-in-the-middle request.
#pragma once

#include <optional>

#include "server/api_error.h"
#include "server/api_types.h"
#include "server/schema_fields.h"

namespace autan::server {

// The system prompt Mistral's API prepends when safe_prompt is true.
inline constexpr const char* kMistralSafePrompt =
    "Always assist with care, respect, and truth. Respond with utmost utility yet securely. "
    "Avoid harmful, unethical, prejudiced, or negative content. Ensure replies promote fairness "
    "and positivity.";

// Reads Mistral's fields from `body` into `out` (messages already parsed).
void ReadMistralChatFields(FieldReader& fields, const nlohmann::ordered_json& body,
                           ChatRequest& out);

// Applies safe_prompt to the messages: the safety prompt becomes, or opens,
// the system message.
void ApplySafePrompt(nlohmann::ordered_json& messages);

// /v1/fim/completions: model, prompt, suffix, min_tokens and the sampling
// fields chat takes (max_tokens, temperature, top_p, stop, random_seed, stream).
std::optional<ApiError> ParseFimRequest(const nlohmann::ordered_json& body, int32_t n_vocab,
                                        FimRequest& out);

}  // namespace autan::server
