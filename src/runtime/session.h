// A single conversation's state over a shared model: its KV cache, position
// and scratch buffers. Sessions are independent; many can share one Model.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "core/result.h"
#include "core/thread_pool.h"
#include "model/model.h"
#include "runtime/kv_cache.h"

namespace autan {

struct SessionOptions {
  int32_t n_ctx = 4096;     // most positions this session may reach
  int32_t max_batch = 512;  // prompt tokens per forward call
  KvType kv_type = KvType::kF16;
};

class Session {
 public:
  // Fails when the options are out of range for the model.
  static Result<std::unique_ptr<Session>> Create(std::shared_ptr<const Model> model,
                                                 ThreadPool& pool, SessionOptions options);

  // Appends tokens and returns the logits after the last one.
  Result<std::span<const float>> Eval(std::span<const int32_t> tokens);
  // Appends tokens and returns logits for every one of them from index
  // `logits_from` on, [n - logits_from][n_vocab]; the earlier ones are not
  // computed (perplexity scores only the second half of a window).
  Result<std::vector<float>> EvalAll(std::span<const int32_t> tokens, size_t logits_from = 0);
  // The embedding of `tokens` on their own (the session starts over): the
  // mean of their final normalized hidden states, scaled to unit L2 norm,
  // [dim]. No logits are computed.
  Result<std::vector<float>> Embed(std::span<const int32_t> tokens);

  void Reset() { n_past_ = 0; }
  // Forgets every position from n on, so a conversation can continue from a
  // shared prefix. False when the cache no longer holds that prefix (a
  // sliding window has wrapped past it).
  bool Rewind(int32_t n);
  int32_t n_past() const { return n_past_; }
  int32_t n_ctx() const { return options_.n_ctx; }
  const Model& model() const { return *model_; }
  size_t kv_bytes() const { return cache_.bytes(); }

 private:
  Session(std::shared_ptr<const Model> model, ThreadPool& pool, SessionOptions options);
  Status Check(std::span<const int32_t> tokens) const;
  // Runs tokens in chunks of max_batch, writing the logits of tokens from
  // index `logits_from` on to `logits`, one row each.
  void Run(std::span<const int32_t> tokens, size_t logits_from, float* logits);

  std::shared_ptr<const Model> model_;
  ThreadPool& pool_;
  SessionOptions options_;
  KvCache cache_;
  int32_t n_past_ = 0;
  Batch batch_;
  ForwardScratch scratch_;
  std::vector<float> logits_;
  std::vector<float> hidden_;  // [max_batch][dim], for Embed
};

}  // namespace autan
