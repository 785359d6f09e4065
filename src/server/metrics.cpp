#include "server/metrics.h"

#include <cinttypes>
#include <cstdio>

namespace autan::server {
namespace {

void Line(std::string& out, const char* fmt, auto... args) {
  char buf[512];
  const int n = std::snprintf(buf, sizeof buf, fmt, args...);
  if (n > 0) out.append(buf, std::min(static_cast<size_t>(n), sizeof buf - 1));
}

void Head(std::string& out, const std::string& name, const char* type, const std::string& help) {
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

// Label values escape backslash, quote and newline.
std::string Escape(const std::string& s) {
  std::string e;
  for (char c : s) {
    if (c == '\\' || c == '"') e += '\\';
    if (c == '\n') {
      e += "\\n";
      continue;
    }
    e += c;
  }
  return e;
}

}  // namespace

void Histogram::Observe(double seconds) {
  size_t i = 0;
  while (i < kBounds.size() && seconds > kBounds[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_micros_.fetch_add(static_cast<uint64_t>(std::max(seconds, 0.0) * 1e6),
                        std::memory_order_relaxed);
}

void Histogram::Render(const std::string& name, const std::string& help, std::string& out) const {
  Head(out, name, "histogram", help);
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= kBounds.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    if (i < kBounds.size()) {
      Line(out, "%s_bucket{le=\"%g\"} %" PRIu64 "\n", name.c_str(), kBounds[i], cumulative);
    } else {
      Line(out, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n", name.c_str(), cumulative);
    }
  }
  Line(out, "%s_sum %.6f\n", name.c_str(),
       static_cast<double>(sum_micros_.load(std::memory_order_relaxed)) * 1e-6);
  Line(out, "%s_count %" PRIu64 "\n", name.c_str(), count_.load(std::memory_order_relaxed));
}

void Metrics::CountRequest(const std::string& route, int status) {
  std::lock_guard lock(mu_);
  ++requests_[{route, status}];
}

void Metrics::AddTokens(int64_t prompt_tokens, int64_t completion_tokens) {
  prompt_tokens_.fetch_add(prompt_tokens, std::memory_order_relaxed);
  completion_tokens_.fetch_add(completion_tokens, std::memory_order_relaxed);
}

std::string Metrics::Render(const SchedulerStats& engine, int32_t n_parallel) const {
  std::string out;
  Head(out, "autan_requests_total", "counter", "HTTP requests by route and status.");
  {
    std::lock_guard lock(mu_);
    for (const auto& [key, n] : requests_) {
      Line(out, "autan_requests_total{route=\"%s\",status=\"%d\"} %" PRIu64 "\n",
           Escape(key.first).c_str(), key.second, n);
    }
  }
  Head(out, "autan_prompt_tokens_total", "counter", "Prompt tokens of finished requests.");
  Line(out, "autan_prompt_tokens_total %" PRId64 "\n", prompt_tokens_.load());
  Head(out, "autan_completion_tokens_total", "counter", "Tokens generated for finished requests.");
  Line(out, "autan_completion_tokens_total %" PRId64 "\n", completion_tokens_.load());
  const double joules = energy_joules_.load();
  const int64_t tokens = prompt_tokens_.load() + completion_tokens_.load();
  const std::string model = Escape(model_);
  Head(out, "autan_energy_joules_total", "counter",
       "Energy of finished requests, measured (RAPL) or estimated, by model.");
  Line(out, "autan_energy_joules_total{model=\"%s\"} %.6f\n", model.c_str(), joules);
  Head(out, "autan_energy_joules_per_token", "gauge",
       "Energy over prompt and completion tokens of finished requests, by model.");
  Line(out, "autan_energy_joules_per_token{model=\"%s\"} %.9f\n", model.c_str(),
       tokens > 0 ? joules / static_cast<double>(tokens) : 0.0);
  Head(out, "autan_queue_depth", "gauge", "Requests waiting for a sequence slot.");
  Line(out, "autan_queue_depth %d\n", engine.queued);
  Head(out, "autan_active_requests", "gauge", "Requests holding a sequence slot.");
  Line(out, "autan_active_requests %d\n", engine.active);
  Head(out, "autan_parallel_slots", "gauge", "Sequences decoded together at most.");
  Line(out, "autan_parallel_slots %d\n", n_parallel);
  Head(out, "autan_batch_tokens", "gauge", "Tokens in the last forward step.");
  Line(out, "autan_batch_tokens %d\n", engine.last_batch_tokens);
  Head(out, "autan_kv_blocks", "gauge", "KV cache blocks in the pool.");
  Line(out, "autan_kv_blocks %d\n", engine.kv.total);
  Head(out, "autan_kv_blocks_in_use", "gauge", "KV cache blocks held by running requests.");
  Line(out, "autan_kv_blocks_in_use %d\n", engine.kv.in_use);
  Head(out, "autan_kv_blocks_cached", "gauge", "KV cache blocks holding a reusable prompt prefix.");
  Line(out, "autan_kv_blocks_cached %d\n", engine.kv.cached);
  Head(out, "autan_prefix_cache_lookup_tokens_total", "counter",
       "Prompt tokens looked up in the prefix cache.");
  Line(out, "autan_prefix_cache_lookup_tokens_total %" PRId64 "\n", engine.kv.lookup_tokens);
  Head(out, "autan_prefix_cache_hit_tokens_total", "counter",
       "Prompt tokens served from the prefix cache instead of computed.");
  Line(out, "autan_prefix_cache_hit_tokens_total %" PRId64 "\n", engine.kv.hit_tokens);
  Head(out, "autan_prefix_cache_hit_ratio", "gauge", "Hit tokens over lookup tokens so far.");
  Line(out, "autan_prefix_cache_hit_ratio %.4f\n",
       engine.kv.lookup_tokens > 0 ? static_cast<double>(engine.kv.hit_tokens) /
                                         static_cast<double>(engine.kv.lookup_tokens)
                                   : 0.0);
  Head(out, "autan_engine_steps_total", "counter", "Forward steps run by the engine.");
  Line(out, "autan_engine_steps_total %" PRId64 "\n", engine.steps);
  Head(out, "autan_engine_prompt_tokens_total", "counter", "Prompt tokens evaluated.");
  Line(out, "autan_engine_prompt_tokens_total %" PRId64 "\n", engine.prompt_tokens);
  Head(out, "autan_engine_generated_tokens_total", "counter", "Tokens sampled.");
  Line(out, "autan_engine_generated_tokens_total %" PRId64 "\n", engine.generated_tokens);
  ttft_.Render("autan_time_to_first_token_seconds",
               "From a request's arrival to its first generated token.", out);
  inter_token_.Render("autan_inter_token_latency_seconds",
                      "Between consecutive generated tokens of one sequence.", out);
  request_.Render("autan_request_duration_seconds", "From arrival to the last byte sent.", out);
  return out;
}

}  // namespace autan::server
