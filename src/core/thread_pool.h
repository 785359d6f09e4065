// A persistent pool: workers sleep between jobs and are woken per job, so a
// decode step's dozens of parallel loops create no threads. Work is split
// statically, and every kernel computes each output element on one thread in
// a fixed order, so results never depend on the thread count.
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

  // Runs fn(thread_index, n_threads) once on each thread and waits for all.
  void Run(const std::function<void(int, int)>& fn);

  // Splits [0, n) into size() contiguous ranges and runs fn(begin, end) on each.
  void ParallelFor(size_t n, const std::function<void(size_t, size_t)>& fn);

 private:
  void WorkerLoop(int index);

  int n_threads_;
  std::vector<std::thread> workers_;
  const std::function<void(int, int)>* job_ = nullptr;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stop_{false};
};

}  // namespace autan
