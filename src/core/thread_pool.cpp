#include "core/thread_pool.h"

#include <algorithm>

namespace autan {
namespace {

// Spinning briefly before sleeping keeps the wake-up latency of back-to-back
// jobs (one per matmul during decode) far below a futex round trip.
constexpr int kSpinIterations = 20000;

template <typename T, typename Pred>
void SpinThenWait(const std::atomic<T>& a, Pred done) {
  for (int i = 0; i < kSpinIterations; ++i) {
    T v = a.load(std::memory_order_acquire);
    if (done(v)) return;
#if defined(__x86_64__)
    __builtin_ia32_pause();
#endif
  }
  for (;;) {
    T v = a.load(std::memory_order_acquire);
    if (done(v)) return;
    a.wait(v, std::memory_order_acquire);
  }
}

uint32_t Generation(uint64_t word) { return static_cast<uint32_t>(word >> 32); }
uint32_t NextIndex(uint64_t word) { return static_cast<uint32_t>(word); }

}  // namespace

ThreadPool::ThreadPool(int n_threads) : n_threads_(std::max(1, n_threads)) {
  workers_.reserve(n_threads_ - 1);
  for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

ThreadPool::~ThreadPool() {
  stop_.store(true, std::memory_order_release);
  job_word_.store(static_cast<uint64_t>(generation_ + 1) << 32, std::memory_order_release);
  job_word_.notify_all();
  for (std::thread& t : workers_) t.join();
}

// Claims the indices of job `generation` one at a time and runs them, until
// none is left or a newer job has replaced it. A claim is a compare-exchange
// on the word holding both, so a thread that wakes late can never take an
// index of a later job; and the caller of Run waits only for indices that
// were claimed, not for threads that have not woken yet.
void ThreadPool::RunIndices(uint32_t generation) {
  const uint32_t n = static_cast<uint32_t>(n_threads_);
  uint64_t word = job_word_.load(std::memory_order_acquire);
  for (;;) {
    if (Generation(word) != generation || NextIndex(word) >= n) return;
    if (!job_word_.compare_exchange_weak(word, word + 1, std::memory_order_acq_rel,
                                         std::memory_order_acquire)) {
      continue;
    }
    // The job stays alive until this index is counted done.
    (*job_)(static_cast<int>(NextIndex(word)), n_threads_);
    if (done_.fetch_add(1, std::memory_order_acq_rel) + 1 == n_threads_) done_.notify_one();
    word = job_word_.load(std::memory_order_acquire);
  }
}

void ThreadPool::WorkerLoop() {
  uint32_t seen = 0;
  for (;;) {
    SpinThenWait(job_word_, [seen](uint64_t w) { return Generation(w) != seen; });
    if (stop_.load(std::memory_order_acquire)) return;
    seen = Generation(job_word_.load(std::memory_order_acquire));
    RunIndices(seen);
  }
}

void ThreadPool::Run(const std::function<void(int, int)>& fn) {
  if (n_threads_ == 1) {
    fn(0, 1);
    return;
  }
  job_ = &fn;
  done_.store(0, std::memory_order_relaxed);
  ++generation_;
  job_word_.store(static_cast<uint64_t>(generation_) << 32, std::memory_order_release);
  job_word_.notify_all();
  RunIndices(generation_);
  SpinThenWait(done_, [this](int d) { return d == n_threads_; });
}

void ThreadPool::ParallelFor(size_t n, const std::function<void(size_t, size_t)>& fn) {
  if (n == 0) return;
  Run([&](int t, int nt) {
    const size_t begin = n * static_cast<size_t>(t) / static_cast<size_t>(nt);
    const size_t end = n * static_cast<size_t>(t + 1) / static_cast<size_t>(nt);
    if (begin < end) fn(begin, end);
  });
}

}  // namespace autan
