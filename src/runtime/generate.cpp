#include "runtime/generate.h"

#include <chrono>

namespace autan {

const char* FinishReasonName(FinishReason r) {
  switch (r) {
    case FinishReason::kLength:
      return "length";
    case FinishReason::kEndOfGeneration:
      return "stop";
    case FinishReason::kStopped:
      return "stopped";
    case FinishReason::kContextFull:
      return "context_full";
    case FinishReason::kTimedOut:
      return "timed_out";
  }
  return "unknown";
}

Result<GenerateStats> Generate(Session& session, Sampler& sampler, std::span<const int32_t> prompt,
                               const GenerateParams& params,
                               const std::function<bool(int32_t)>& on_token) {
  using Clock = std::chrono::steady_clock;
  GenerateStats stats;
  stats.prompt_tokens = static_cast<int32_t>(prompt.size());
  const Clock::time_point start = Clock::now();
  Result<std::span<const float>> logits = session.Eval(prompt);
  if (!logits.ok()) return logits.error();
  for (int32_t id : prompt) sampler.Accept(id);
  const Clock::time_point prompt_done = Clock::now();
  stats.prompt_seconds = std::chrono::duration<double>(prompt_done - start).count();

  const Tokenizer& tokenizer = session.model().tokenizer();
  stats.finish = FinishReason::kLength;
  while (stats.generated_tokens < params.max_tokens) {
    const int32_t token = sampler.Sample(*logits);
    sampler.Accept(token);
    ++stats.generated_tokens;
    if (params.stop_at_end_of_generation && tokenizer.IsEndOfGeneration(token)) {
      stats.finish = FinishReason::kEndOfGeneration;
      break;
    }
    if (!on_token(token)) {
      stats.finish = FinishReason::kStopped;
      break;
    }
    if (stats.generated_tokens == params.max_tokens) break;
    if (session.n_past() >= session.n_ctx()) {
      stats.finish = FinishReason::kContextFull;
      break;
    }
    const int32_t next[] = {token};
    logits = session.Eval(next);
    if (!logits.ok()) return logits.error();
  }
  stats.generate_seconds = std::chrono::duration<double>(Clock::now() - prompt_done).count();
  return stats;
}

}  // namespace autan
