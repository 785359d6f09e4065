#include "server/rate_limit.h"

#include <gtest/gtest.h>

#include <map>

namespace autan::server {
namespace {

using Clock = RateLimiter::Clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

std::map<std::string, std::string> HeaderMap(
    const std::vector<std::pair<std::string, std::string>>& headers) {
  return {headers.begin(), headers.end()};
}

TEST(RateLimiter, RequestsRefillAtTheLimitsPace) {
  RateLimiter limiter;
  const RateLimits limits{.rpm = 60};  // one request a second
  const Clock::time_point t0{};
  for (int i = 0; i < 60; ++i) EXPECT_TRUE(limiter.AdmitRequest("a", limits, t0).ok) << i;
  RateLimiter::Verdict v = limiter.AdmitRequest("a", limits, t0);
  EXPECT_FALSE(v.ok);
  EXPECT_DOUBLE_EQ(v.retry_after, 1.0);
  EXPECT_NE(v.message.find("60 requests per minute"), std::string::npos) << v.message;
  // Another client has its own budget.
  EXPECT_TRUE(limiter.AdmitRequest("b", limits, t0).ok);
  // Half a second refills half a request: still no.
  v = limiter.AdmitRequest("a", limits, t0 + milliseconds(500));
  EXPECT_FALSE(v.ok);
  EXPECT_NEAR(v.retry_after, 0.5, 1e-9);
  EXPECT_TRUE(limiter.AdmitRequest("a", limits, t0 + milliseconds(1000)).ok);
  EXPECT_FALSE(limiter.AdmitRequest("a", limits, t0 + milliseconds(1000)).ok);
  // A long pause refills to the limit, no further.
  const Clock::time_point later = t0 + seconds(3600);
  for (int i = 0; i < 60; ++i) EXPECT_TRUE(limiter.AdmitRequest("a", limits, later).ok) << i;
  EXPECT_FALSE(limiter.AdmitRequest("a", limits, later).ok);
}

TEST(RateLimiter, TokensAreReservedThenSettled) {
  RateLimiter limiter;
  const RateLimits limits{.tpm = 6000};  // 100 tokens a second
  const Clock::time_point t0{};
  EXPECT_TRUE(limiter.ReserveTokens("k", limits, 5000, t0).ok);
  RateLimiter::Verdict v = limiter.ReserveTokens("k", limits, 2000, t0);
  EXPECT_FALSE(v.ok);
  EXPECT_DOUBLE_EQ(v.retry_after, 10.0);  // 1000 missing at 100 a second
  // The first request used 1200 of its 5000: 3800 come back.
  limiter.Settle("k", limits, 5000, 1200, t0);
  EXPECT_TRUE(limiter.ReserveTokens("k", limits, 2000, t0).ok);
  auto h = HeaderMap(limiter.Headers("k", limits, t0));
  EXPECT_EQ(h["x-ratelimit-limit-tokens"], "6000");
  EXPECT_EQ(h["x-ratelimit-remaining-tokens"], "2800");
  EXPECT_EQ(h["x-ratelimit-reset-tokens"], "32s");       // 3200 missing at 100 a second
  EXPECT_EQ(h.count("x-ratelimit-limit-requests"), 0u);  // no request limit set
  // More than a minute's budget can never pass.
  v = limiter.ReserveTokens("k", limits, 6001, t0 + seconds(600));
  EXPECT_FALSE(v.ok);
  EXPECT_NE(v.message.find("more than the limit"), std::string::npos) << v.message;
  // Refunds never fill beyond the limit.
  limiter.Settle("k", limits, 100000, 0, t0 + seconds(600));
  EXPECT_EQ(
      HeaderMap(limiter.Headers("k", limits, t0 + seconds(600)))["x-ratelimit-remaining-tokens"],
      "6000");
}

TEST(RateLimiter, HeadersForRequests) {
  RateLimiter limiter;
  const RateLimits limits{.rpm = 120, .tpm = 1000};
  const Clock::time_point t0{};
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(limiter.AdmitRequest("k", limits, t0).ok);
  auto h = HeaderMap(limiter.Headers("k", limits, t0));
  EXPECT_EQ(h["x-ratelimit-limit-requests"], "120");
  EXPECT_EQ(h["x-ratelimit-remaining-requests"], "117");
  EXPECT_EQ(h["x-ratelimit-reset-requests"], "1.5s");  // 3 requests at 2 a second
  EXPECT_EQ(h["x-ratelimit-remaining-tokens"], "1000");
  EXPECT_EQ(h["x-ratelimit-reset-tokens"], "0s");
  EXPECT_TRUE(limiter.Headers("k", RateLimits{}, t0).empty());
}

TEST(RateLimiter, NoLimitsAdmitEverything) {
  RateLimiter limiter;
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(limiter.AdmitRequest("x", {}, Clock::time_point{}).ok);
  EXPECT_TRUE(limiter.ReserveTokens("x", {}, int64_t{1} << 40, Clock::time_point{}).ok);
  EXPECT_EQ(limiter.clients(), 0u);
}

TEST(RateLimiter, ForgetsIdleClientsBeyondManyAddresses) {
  RateLimiter limiter;
  const RateLimits limits{.rpm = 10};
  const Clock::time_point t0{};
  for (int i = 0; i < 10000; ++i) limiter.AdmitRequest("ip" + std::to_string(i), limits, t0);
  EXPECT_EQ(limiter.clients(), 10000u);
  // A minute later every bucket is full again: they go when the next one comes.
  limiter.AdmitRequest("new", limits, t0 + seconds(60));
  EXPECT_EQ(limiter.clients(), 1u);
}

TEST(RateLimiter, ResetDurationsAsOpenAiWritesThem) {
  EXPECT_EQ(FormatResetDuration(0.0), "0s");
  EXPECT_EQ(FormatResetDuration(0.0171), "18ms");
  EXPECT_EQ(FormatResetDuration(1.0), "1s");
  EXPECT_EQ(FormatResetDuration(8.64), "8.64s");
  EXPECT_EQ(FormatResetDuration(360.0), "6m0s");
  EXPECT_EQ(FormatResetDuration(3723.0), "1h2m3s");
}

}  // namespace
}  // namespace autan::server
