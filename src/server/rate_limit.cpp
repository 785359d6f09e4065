#include "server/rate_limit.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace autan::server {
namespace {

// Beyond this many clients (addresses, when there are no keys), buckets that
// have refilled completely are forgotten: they hold nothing a new one would not.
constexpr size_t kMaxClients = 10000;

double PerSecond(int64_t per_minute) { return static_cast<double>(per_minute) / 60.0; }

std::string Seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f", std::max(1.0, std::ceil(s)));
  return buf;
}

}  // namespace

RateLimiter::Bucket& RateLimiter::Refill(const std::string& client, const RateLimits& limits,
                                         Clock::time_point now) {
  auto [it, fresh] = buckets_.try_emplace(client);
  Bucket& b = it->second;
  b.limits = limits;
  if (fresh) {
    b.requests = static_cast<double>(limits.rpm);
    b.tokens = static_cast<double>(limits.tpm);
    b.updated = now;
    return b;
  }
  const double dt = std::max(0.0, std::chrono::duration<double>(now - b.updated).count());
  b.requests = std::min(static_cast<double>(limits.rpm), b.requests + PerSecond(limits.rpm) * dt);
  b.tokens = std::min(static_cast<double>(limits.tpm), b.tokens + PerSecond(limits.tpm) * dt);
  b.updated = std::max(now, b.updated);
  return b;
}

void RateLimiter::Prune(Clock::time_point now) {
  if (buckets_.size() < kMaxClients) return;
  std::erase_if(buckets_, [&](const auto& entry) {
    const Bucket& b = entry.second;
    const RateLimits& l = b.limits;
    const double dt = std::chrono::duration<double>(now - b.updated).count();
    return b.requests + PerSecond(l.rpm) * dt >= static_cast<double>(l.rpm) &&
           b.tokens + PerSecond(l.tpm) * dt >= static_cast<double>(l.tpm);
  });
}

RateLimiter::Verdict RateLimiter::AdmitRequest(const std::string& client, const RateLimits& limits,
                                               Clock::time_point now) {
  if (!limits.any()) return {};
  std::lock_guard lock(mu_);
  Prune(now);
  Bucket& b = Refill(client, limits, now);
  if (limits.rpm <= 0) return {};
  if (b.requests >= 1.0) {
    b.requests -= 1.0;
    return {};
  }
  const double wait = (1.0 - b.requests) / PerSecond(limits.rpm);
  return {false, wait,
          "rate limit reached: " + std::to_string(limits.rpm) + " requests per minute; retry in " +
              Seconds(wait) + " s"};
}

RateLimiter::Verdict RateLimiter::ReserveTokens(const std::string& client, const RateLimits& limits,
                                                int64_t tokens, Clock::time_point now) {
  if (limits.tpm <= 0 || tokens <= 0) return {};
  std::lock_guard lock(mu_);
  Bucket& b = Refill(client, limits, now);
  if (tokens > limits.tpm) {
    return {false, 60.0,
            "this request may use " + std::to_string(tokens) +
                " tokens (its prompt and max_tokens), more than the limit of " +
                std::to_string(limits.tpm) +
                " tokens per minute: lower max_tokens or shorten the prompt"};
  }
  const double need = static_cast<double>(tokens);
  if (b.tokens >= need) {
    b.tokens -= need;
    return {};
  }
  const double wait = (need - b.tokens) / PerSecond(limits.tpm);
  return {false, wait,
          "rate limit reached: " + std::to_string(limits.tpm) +
              " tokens per minute; this request may use " + std::to_string(tokens) +
              " (its prompt and max_tokens); retry in " + Seconds(wait) + " s"};
}

void RateLimiter::Settle(const std::string& client, const RateLimits& limits, int64_t reserved,
                         int64_t used, Clock::time_point now) {
  if (limits.tpm <= 0 || reserved == used) return;
  std::lock_guard lock(mu_);
  Bucket& b = Refill(client, limits, now);
  b.tokens =
      std::min(static_cast<double>(limits.tpm), b.tokens + static_cast<double>(reserved - used));
}

std::vector<std::pair<std::string, std::string>> RateLimiter::Headers(const std::string& client,
                                                                      const RateLimits& limits,
                                                                      Clock::time_point now) {
  std::vector<std::pair<std::string, std::string>> h;
  if (!limits.any()) return h;
  std::lock_guard lock(mu_);
  const Bucket& b = Refill(client, limits, now);
  auto add = [&h](const char* what, int64_t limit, double level) {
    const double remaining = std::max(0.0, std::floor(level));
    const double reset = (static_cast<double>(limit) - level) / PerSecond(limit);
    h.emplace_back(std::string("x-ratelimit-limit-") + what, std::to_string(limit));
    h.emplace_back(std::string("x-ratelimit-remaining-") + what,
                   std::to_string(static_cast<int64_t>(remaining)));
    h.emplace_back(std::string("x-ratelimit-reset-") + what, FormatResetDuration(reset));
  };
  if (limits.rpm > 0) add("requests", limits.rpm, b.requests);
  if (limits.tpm > 0) add("tokens", limits.tpm, b.tokens);
  return h;
}

size_t RateLimiter::clients() const {
  std::lock_guard lock(mu_);
  return buckets_.size();
}

std::string FormatResetDuration(double seconds) {
  char buf[48];
  if (!(seconds > 0.0)) return "0s";
  if (seconds < 1.0) {
    std::snprintf(buf, sizeof buf, "%.0fms", std::max(1.0, std::ceil(seconds * 1000.0)));
    return buf;
  }
  if (seconds < 60.0) {
    std::snprintf(buf, sizeof buf, "%.2f", std::ceil(seconds * 100.0) / 100.0);
    std::string s = buf;
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
    return s + "s";
  }
  const int64_t total = static_cast<int64_t>(std::ceil(seconds));
  const int64_t h = total / 3600, m = total / 60 % 60, s = total % 60;
  if (h > 0) {
    std::snprintf(buf, sizeof buf, "%lldh%lldm%llds", static_cast<long long>(h),
                  static_cast<long long>(m), static_cast<long long>(s));
  } else {
    std::snprintf(buf, sizeof buf, "%lldm%llds", static_cast<long long>(m),
                  static_cast<long long>(s));
  }
  return buf;
}

}  // namespace autan::server
