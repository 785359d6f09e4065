// OpenAI's API on the wire: request bodies of /v1/chat/completions and
// /v1/completions into api_types structs, and results into OpenAI's response
// objects and stream chunks. Mistral's additions live in mistral_schema.h.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "server/api_error.h"
#include "server/api_types.h"
#include "server/schema_fields.h"

namespace autan::server {

using Json = nlohmann::ordered_json;

// A request body: a JSON object, or a 400 saying where the JSON broke.
std::optional<ApiError> ParseJsonBody(std::string_view body, Json& out);

// n_vocab bounds token ids (logit_bias, prompts given as ids).
std::optional<ApiError> ParseChatRequest(const Json& body, int32_t n_vocab, ChatRequest& out);
std::optional<ApiError> ParseCompletionRequest(const Json& body, int32_t n_vocab,
                                               CompletionRequest& out);
// `dim` is the model's width, the only `dimensions` it can give.
std::optional<ApiError> ParseEmbeddingRequest(const Json& body, int32_t n_vocab, int32_t dim,
                                              EmbeddingRequest& out);

// The sampling, length, stop and format fields every generation route shares.
void ReadGenerationParams(FieldReader& f, int32_t n_vocab, GenerationParams& g);

// "chat.completion" / "text_completion" with every choice and the usage.
Json ChatCompletionObject(const ResponseMeta& meta, const std::vector<ChoiceOutput>& choices,
                          bool with_logprobs, const Usage& usage);
Json TextCompletionObject(const ResponseMeta& meta, const std::vector<ChoiceOutput>& choices,
                          bool with_logprobs, const Usage& usage);

// Stream chunks. The first chunk of each chat choice carries the role.
Json ChatRoleChunk(const ResponseMeta& meta, int32_t index, bool include_usage);
// A chat delta as chunks: its text, then one chunk per tool call delta.
std::vector<Json> ChatDeltaChunks(const ResponseMeta& meta, const ChoiceDelta& delta,
                                  bool with_logprobs, bool include_usage);
Json TextDeltaChunk(const ResponseMeta& meta, const ChoiceDelta& delta, bool with_logprobs,
                    bool include_usage);
// The last chunk when stream_options.include_usage: no choices, the usage.
Json UsageChunk(const ResponseMeta& meta, const char* object, const Usage& usage);

// {"object": "list", "data": [{"object": "embedding", "index", "embedding"}],
// "model", "usage"}; each embedding a list of numbers or, with base64, the
// base64 of its little-endian float32 bytes. The id is Mistral's addition.
Json EmbeddingListObject(const ResponseMeta& meta, const std::vector<std::vector<float>>& data,
                         bool base64, const Usage& usage);

Json ModelObject(const std::string& id, int64_t created);
Json ModelList(const std::string& id, int64_t created);

}  // namespace autan::server
