// What an API request asks for and what a generation gives back, in plain
// structs: the schema files (openai_schema, mistral_schema) translate JSON to
// and from these, and nothing else in the server knows the wire format.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/energy_meter.h"
#include "runtime/sampler.h"
#include "server/tool_calls.h"

namespace autan::server {

enum class ResponseFormat { kText, kJsonObject, kJsonSchema };

// What chat and text completions share.
struct GenerationParams {
  std::string model;  // as requested; "" when the request names none
  SamplingParams sampling;
  std::optional<uint64_t> seed;
  std::optional<int32_t> max_tokens;
  std::vector<std::string> stop;
  int32_t logprobs = -1;  // -1: none; k >= 0: the chosen token's and the top k
  int32_t n = 1;          // choices per prompt
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  ResponseFormat format = ResponseFormat::kText;
  nlohmann::ordered_json schema;  // kJsonSchema: the JSON schema
};

struct ChatRequest {
  GenerationParams gen;
  // Each an object with "role" and a string "content" (content parts joined);
  // other fields (name, tool_calls, tool_call_id) kept for the template.
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();
  nlohmann::ordered_json tools;  // null when none; else validated function tools
  std::string tool_choice;       // "", "auto", "none", "any", "required" or "function"
  std::string tool_choice_name;  // tool_choice "function": the function it names
  bool parallel_tool_calls = true;
  bool continue_final = false;  // the last message is an assistant prefix to continue
  bool safe_prompt = false;     // Mistral: prepend its safety system prompt
};

struct CompletionRequest {
  GenerationParams gen;
  // One entry per prompt: text, or token ids when `ids_given`.
  std::vector<std::string> texts;
  std::vector<std::vector<int32_t>> ids;
  bool ids_given = false;
  bool echo = false;
};

// /v1/embeddings.
struct EmbeddingRequest {
  std::string model;
  // One entry per input: text, or token ids when `ids_given`.
  std::vector<std::string> texts;
  std::vector<std::vector<int32_t>> ids;
  bool ids_given = false;
  bool base64 = false;  // encoding_format "base64": little-endian float32 bytes
  std::optional<int32_t> dimensions;
};

// Mistral's /v1/fim/completions: the model writes what goes between `prompt`
// and `suffix`.
struct FimRequest {
  GenerationParams gen;
  std::string prompt;
  std::string suffix;
  int32_t min_tokens = 0;  // end-of-generation tokens are held back until this many
};

struct TokenLogprob {
  std::string token;  // the token's bytes (may be part of a UTF-8 character)
  float logprob = 0.0f;
  std::vector<std::pair<std::string, float>> top;
};

// A piece of one choice's output as it streams.
struct ChoiceDelta {
  int32_t index = 0;
  std::string text;
  std::vector<TokenLogprob> logprobs;
  std::string finish_reason;  // set in the choice's last delta: "stop", "length" or "tool_calls"
  std::vector<ToolCallDelta> tool_calls;
};

// One choice, complete.
struct ChoiceOutput {
  int32_t index = 0;
  std::string text;
  std::vector<TokenLogprob> logprobs;
  std::string finish_reason;
  std::vector<ToolCall> tool_calls;  // when any, `text` is what came before them
};

struct Usage {
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  // Extension fields (clients ignore them): the request's share of the
  // engine's energy, where it came from, and what it means in carbon and money.
  double energy_joules = 0.0;
  EnergySource energy_source = EnergySource::kEstimate;
  double co2e_grams = 0.0;
  double cost = 0.0;
  std::string currency;
};

// Fills the carbon and the cost from the joules.
inline void PriceUsage(const EnergyPricing& pricing, Usage& u) {
  u.co2e_grams = pricing.Co2eGrams(u.energy_joules);
  u.cost = pricing.Cost(u.energy_joules);
  u.currency = pricing.currency;
}

// The fields every response object and chunk carries.
struct ResponseMeta {
  std::string id;
  int64_t created = 0;  // Unix seconds
  std::string model;
};

}  // namespace autan::server
