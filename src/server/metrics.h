// Counters and histograms for GET /metrics, in Prometheus' text format.
// Every method is thread-safe; those the engine thread calls (tokens,
// latencies) only touch atomics.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "runtime/scheduler.h"

namespace autan::server {

class Histogram {
 public:
  static constexpr std::array<double, 14> kBounds = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                     0.25,  0.5,    1,     2.5,  5,     10,   30};
  void Observe(double seconds);
  // Appends the _bucket, _sum and _count lines.
  void Render(const std::string& name, const std::string& help, std::string& out) const;

 private:
  std::array<std::atomic<uint64_t>, kBounds.size() + 1> buckets_{};  // the last is +Inf
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_micros_{0};
};

class Metrics {
 public:
  // `model` labels the per-model series (energy).
  explicit Metrics(std::string model = "") : model_(std::move(model)) {}
  void CountRequest(const std::string& route, int status);
  void AddTokens(int64_t prompt_tokens, int64_t completion_tokens);
  // A finished request's (or choice's) share of the engine's energy.
  void AddEnergy(double joules) { energy_joules_.fetch_add(joules, std::memory_order_relaxed); }
  void ObserveTimeToFirstToken(double seconds) { ttft_.Observe(seconds); }
  void ObserveInterToken(double seconds) { inter_token_.Observe(seconds); }
  void ObserveRequest(double seconds) { request_.Observe(seconds); }

  // Everything, with the engine's gauges from `engine`.
  std::string Render(const SchedulerStats& engine, int32_t n_parallel) const;

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;  // guarded by mu_
  std::atomic<int64_t> prompt_tokens_{0};
  std::atomic<int64_t> completion_tokens_{0};
  std::atomic<double> energy_joules_{0.0};
  const std::string model_;
  Histogram ttft_, inter_token_, request_;
};

}  // namespace autan::server
