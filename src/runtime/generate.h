// The generation loop shared by the CLI and the server: evaluate a prompt,
// then sample and feed back one token at a time.
#pragma once

#include <functional>
#include <span>

#include "core/result.h"
#include "runtime/sampler.h"
#include "runtime/session.h"

namespace autan {

// kTimedOut: the request's deadline passed (in the queue or while running).
enum class FinishReason { kLength, kEndOfGeneration, kStopped, kContextFull, kTimedOut };
const char* FinishReasonName(FinishReason r);

struct GenerateParams {
  int32_t max_tokens = 256;
  bool stop_at_end_of_generation = true;
};

struct GenerateStats {
  int32_t prompt_tokens = 0;
  int32_t generated_tokens = 0;
  double prompt_seconds = 0.0;
  double generate_seconds = 0.0;  // from the first sampled token to the last
  FinishReason finish = FinishReason::kLength;
};

// Appends `prompt` to the session (which may already hold earlier turns),
// then generates. on_token(id) returns false to stop early. Every token the
// session sees is also given to the sampler for its penalties.
Result<GenerateStats> Generate(Session& session, Sampler& sampler, std::span<const int32_t> prompt,
                               const GenerateParams& params,
                               const std::function<bool(int32_t)>& on_token);

}  // namespace autan
