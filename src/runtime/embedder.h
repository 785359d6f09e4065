// Embeddings beside the scheduler: one worker thread, with its own thread pool
// and session (one sequence's KV cache), embeds queued requests one input at a
// time. The model is immutable and shared, so this path never waits for the
// scheduler's engine thread nor makes it wait: running streams keep decoding
// while embeddings are computed, the two only share the cores. A small pool
// (one thread by default) keeps that sharing gentle.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/result.h"
#include "model/model.h"
#include "runtime/session.h"

namespace autan {

struct EmbedderOptions {
  int32_t n_ctx = 4096;      // most tokens in one input
  int32_t max_batch = 512;   // tokens per forward call
  int threads = 1;           // the worker's thread pool, the worker included
  int32_t max_queue = 64;    // requests waiting beyond the running one
  size_t max_inputs = 2048;  // inputs in one request (OpenAI's limit)
};

struct EmbeddingJob {
  std::vector<std::vector<int32_t>> inputs;
  // Runs on the worker thread, once: every input's embedding ([dim], unit
  // length) in input order, or why there is none (cancelled, shutting down).
  // Must not block.
  std::function<void(Result<std::vector<std::vector<float>>>)> on_done;
  // Past this, the job fails before its next input (also while it waits).
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
};

class Embedder {
 public:
  static Result<std::unique_ptr<Embedder>> Create(std::shared_ptr<const Model> model,
                                                  EmbedderOptions options);
  ~Embedder();  // fails what is queued and joins the worker

  enum class Refusal { kNone, kInvalid, kQueueFull, kShuttingDown };
  struct Submitted {
    uint64_t id = 0;
    Refusal refusal = Refusal::kNone;
    std::string message;  // why it was refused
    bool ok() const { return refusal == Refusal::kNone; }
  };
  // Queues a job. A refused job's on_done is never called.
  Submitted Submit(EmbeddingJob job);
  // Ends a job before its next input; its on_done reports the cancellation.
  void Cancel(uint64_t id);
  // Refuses new jobs; returns once every queued and running one is done.
  void Drain();

  const EmbedderOptions& options() const { return options_; }

 private:
  struct Pending {
    uint64_t id = 0;
    EmbeddingJob job;
  };
  Embedder(std::shared_ptr<const Model> model, EmbedderOptions options);
  void WorkerLoop();
  bool Cancelled(uint64_t id);
  void Run(Pending& p);

  std::shared_ptr<const Model> model_;
  EmbedderOptions options_;

  std::mutex mu_;
  std::condition_variable wake_, idle_;
  std::deque<Pending> queue_;
  std::vector<uint64_t> cancelled_;
  uint64_t next_id_ = 1;
  bool running_ = false;  // the worker holds a job
  bool stop_ = false, draining_ = false;

  std::unique_ptr<ThreadPool> pool_;  // worker-thread state
  std::unique_ptr<Session> session_;
  std::thread worker_;
};

}  // namespace autan
