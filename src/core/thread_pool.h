// A persistent pool: workers sleep between jobs and are woken per job, so a
// decode step's dozens of parallel loops create no threads. A job's indices
// 0..size()-1 go to whichever threads claim them first: the caller never
// waits for a worker that is not running (another process holding its core),
// it runs that index itself. Every kernel computes each output element in a
// fixed order whatever thread runs it, so results never depend on the thread
// count or on who ran what.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

namespace autan {

class ThreadPool {
 public:
  // `n_threads` counts the calling thread, which takes part in every job.
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Runs fn(index, size()) once for each index in [0, size()), spread over
  // the threads, and returns when all have run. Per-index state (scratch
  // indexed by `index`) is never used by two threads at once.
  void Run(const std::function<void(int, int)>& fn);

  // Splits [0, n) into size() contiguous ranges and runs fn(begin, end) on each.
  void ParallelFor(size_t n, const std::function<void(size_t, size_t)>& fn);

 private:
  void WorkerLoop();
  void RunIndices(uint32_t generation);

  int n_threads_;
  std::vector<std::thread> workers_;
  const std::function<void(int, int)>* job_ = nullptr;
  uint32_t generation_ = 0;  // of the last job; written by the caller of Run only
  // The current job's generation (high 32 bits) and its next unclaimed index.
  std::atomic<uint64_t> job_word_{0};
  std::atomic<int> done_{0};  // indices of the current job that have run
  std::atomic<bool> stop_{false};
};

}  // namespace autan
