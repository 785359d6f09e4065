// Per-client rate limits as OpenAI applies them: requests and tokens per
// minute. Each is a bucket that holds one minute's budget and refills
// continuously (limit / 60 per second), so a client may spend its whole
// budget at once and then goes at the limit's pace. Tokens are reserved when a
// request is admitted (its prompt plus the most it may generate) and what it
// did not use is given back when it completes. The time is passed in, so
// tests need no clock.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace autan::server {

struct RateLimits {
  int64_t rpm = 0;  // requests per minute; 0: no limit
  int64_t tpm = 0;  // tokens per minute; 0: no limit
  bool any() const { return rpm > 0 || tpm > 0; }
};

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  struct Verdict {
    bool ok = true;
    double retry_after = 0.0;  // seconds until the budget covers the request
    std::string message;       // why not, for the 429
  };

  // Takes one request from the client's budget.
  Verdict AdmitRequest(const std::string& client, const RateLimits& limits, Clock::time_point now);
  // Takes `tokens` from the client's token budget.
  Verdict ReserveTokens(const std::string& client, const RateLimits& limits, int64_t tokens,
                        Clock::time_point now);
  // A request that reserved `reserved` tokens used `used`: the difference goes
  // back (or, if it used more, is taken too).
  void Settle(const std::string& client, const RateLimits& limits, int64_t reserved, int64_t used,
              Clock::time_point now);

  // OpenAI's x-ratelimit-{limit,remaining,reset}-{requests,tokens} headers
  // for the client now, for the limits that are set.
  std::vector<std::pair<std::string, std::string>> Headers(const std::string& client,
                                                           const RateLimits& limits,
                                                           Clock::time_point now);

  size_t clients() const;

 private:
  struct Bucket {
    double requests = 0.0, tokens = 0.0;
    Clock::time_point updated;
    RateLimits limits;  // the last ones applied, to know when it is full again
  };
  Bucket& Refill(const std::string& client, const RateLimits& limits, Clock::time_point now);
  void Prune(Clock::time_point now);

  mutable std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
};

// A duration the way OpenAI writes x-ratelimit-reset-*: "20ms", "1s", "8.64s",
// "6m0s", "1h2m3s".
std::string FormatResetDuration(double seconds);

}  // namespace autan::server
