// Continuous batching: one engine thread owns the model's compute and a set
// of sequence slots; requests join the running batch at the next step, long
// prompts are prefilled in chunks interleaved with the other slots' decoding,
// and every request samples from its own logits with its own sampler, so its
// output does not depend on what else is in the batch.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/result.h"
#include "model/model.h"
#include "runtime/generate.h"
#include "runtime/kv_blocks.h"
#include "runtime/kv_cache.h"
#include "runtime/sampler.h"
#include "tokenizer/utf8_stream.h"

namespace autan {

// Adjusts logits before sampling and follows the tokens chosen (constrained
// decoding plugs in here).
class LogitsProcessor {
 public:
  virtual ~LogitsProcessor() = default;
  virtual void Apply(std::span<float> logits) = 0;
  virtual void Accept(int32_t token) = 0;
  // True once the constrained output is complete; generation then ends.
  virtual bool Complete() const = 0;
};

struct TokenEvent {
  int32_t token = 0;
  std::string text;      // complete UTF-8 characters this token finishes (may be empty)
  float logprob = 0.0f;  // log p(token) under the model's distribution, when requested
  std::vector<std::pair<int32_t, float>> top_logprobs;  // best first, when requested
};

struct CompletionSummary {
  FinishReason finish = FinishReason::kLength;
  int32_t prompt_tokens = 0;
  int32_t completion_tokens = 0;
  double queue_seconds = 0.0;        // submitted -> admitted to a slot
  double first_token_seconds = 0.0;  // submitted -> first token
  double total_seconds = 0.0;        // submitted -> done
  std::string text_tail;             // an unfinished UTF-8 sequence left at the end
};

struct GenerationRequest {
  std::vector<int32_t> prompt;
  SamplingParams sampling;
  int32_t max_tokens = 256;
  bool stop_at_end_of_generation = true;
  int32_t logprobs = -1;  // -1: none; 0: the chosen token's; k: also the top k
  std::unique_ptr<LogitsProcessor> processor;
  // Both run on the engine thread and must not block. on_token returns false
  // to stop the request (a client went away, a stop sequence matched).
  std::function<bool(const TokenEvent&)> on_token;
  std::function<void(const CompletionSummary&)> on_done;
  // Past this, the request ends with kTimedOut at the next step, whether it
  // is still waiting for a slot (then it never runs) or running.
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
};

struct SchedulerOptions {
  int32_t n_parallel = 4;          // sequences decoded together
  int32_t n_ctx = 4096;            // positions per sequence
  int32_t max_batch_tokens = 512;  // tokens per forward step (decode + prefill chunks)
  int32_t max_queue = 64;          // waiting requests beyond the busy slots
  int threads = 1;
  KvType kv_type = KvType::kF16;
  int32_t kv_block_size = 16;  // positions per KV block
  bool prefix_cache = true;    // reuse the KV blocks of earlier prompts' common prefixes
};

struct SchedulerStats {
  int64_t requests_done = 0;
  int64_t prompt_tokens = 0;
  int64_t generated_tokens = 0;
  int32_t queued = 0;
  int32_t active = 0;
  int32_t last_batch_tokens = 0;
  int64_t steps = 0;
  KvBlockStats kv;  // blocks and prefix-cache hits
};

class Scheduler {
 public:
  static Result<std::unique_ptr<Scheduler>> Create(std::shared_ptr<const Model> model,
                                                   SchedulerOptions options);
  ~Scheduler();  // cancels what is still running and joins the engine thread

  enum class Refusal { kNone, kInvalid, kQueueFull, kShuttingDown };
  struct Submitted {
    uint64_t id = 0;  // to cancel it with
    Refusal refusal = Refusal::kNone;
    std::string message;  // why it was refused
    bool ok() const { return refusal == Refusal::kNone; }
  };
  // Queues a request. A refused request's callbacks are never called.
  Submitted Submit(GenerationRequest request);
  // Ends a request at the next step; its on_done reports kStopped.
  void Cancel(uint64_t id);
  // Refuses new requests; returns once every queued and running one is done.
  void Drain();

  SchedulerStats Stats() const;
  const SchedulerOptions& options() const { return options_; }
  const Model& model() const { return *model_; }

 private:
  struct Slot;
  struct Pending;
  Scheduler(std::shared_ptr<const Model> model, SchedulerOptions options);
  void EngineLoop();
  bool Admit(std::unique_lock<std::mutex>& lock);
  void Step();
  void Finish(Slot& slot, FinishReason reason);
  void EmitToken(Slot& slot, std::span<float> logits);
  void PublishStats();

  std::shared_ptr<const Model> model_;
  SchedulerOptions options_;

  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  std::deque<Pending> queue_;
  std::vector<uint64_t> cancelled_;
  uint64_t next_id_ = 1;
  bool stop_ = false;
  bool draining_ = false;
  SchedulerStats stats_;

  // Engine-thread state.
  Batch batch_;
  ForwardScratch scratch_;
  std::vector<float> logits_;
  std::unique_ptr<ThreadPool> pool_;
  std::unique_ptr<KvBlockPool> kv_pool_;
  std::vector<Slot> slots_;  // after kv_pool_: their blocks go back to it first
  std::thread engine_;
};

}  // namespace autan
