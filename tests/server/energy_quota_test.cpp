// Energy in /metrics, the quota error, and the Exchange that accounts usage.
#include <gtest/gtest.h>

#include "server/metrics.h"
#include "server/quota.h"

namespace autan::server {
namespace {

TEST(EnergyMetrics, JoulesTotalAndPerTokenByModel) {
  Metrics m("tiny \"q8\"");
  m.AddTokens(30, 0);
  m.AddTokens(0, 10);
  m.AddEnergy(1.5);
  m.AddEnergy(0.5);
  const std::string text = m.Render(SchedulerStats{}, 4);
  EXPECT_NE(text.find("# TYPE autan_energy_joules_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("autan_energy_joules_total{model=\"tiny \\\"q8\\\"\"} 2.000000\n"),
            std::string::npos)
      << text;
  // 2 J over 40 tokens.
  EXPECT_NE(text.find("autan_energy_joules_per_token{model=\"tiny \\\"q8\\\"\"} 0.050000000\n"),
            std::string::npos)
      << text;
}

store::QuotaState State(std::optional<int64_t> tokens, std::optional<double> joules,
                        int64_t used_tokens, double used_joules) {
  store::QuotaState s;
  s.quota = store::Quota{"user:x", tokens, joules};
  s.today = store::UsageDay{"2025-01-01", 3, used_tokens, 0, used_joules};
  s.now_ms = 1735740000000;        // 2025-01-01T14:00:00Z
  s.resets_at_ms = 1735776000000;  // 2025-01-02T00:00:00Z
  return s;
}

TEST(QuotaError, NoneUnderQuotaOrWithoutOne) {
  EXPECT_FALSE(QuotaError(State(100, std::nullopt, 99, 1e9), "user 'a'"));
  EXPECT_FALSE(QuotaError(State(std::nullopt, 5.0, 1'000'000, 4.9), "user 'a'"));
  store::QuotaState none = State(1, 1, 10, 10);
  none.quota.reset();
  EXPECT_FALSE(QuotaError(none, "user 'a'"));
}

TEST(QuotaError, A429NamingTheCapAndTheResetTime) {
  std::optional<ApiError> e = QuotaError(State(100, std::nullopt, 100, 0), "user 'alice'");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->status, 429);
  EXPECT_EQ(e->type, "insufficient_quota");
  EXPECT_EQ(e->message,
            "daily quota exceeded for user 'alice': 100 of 100 tokens used today (UTC); it "
            "resets at 2025-01-02T00:00:00Z");
  EXPECT_EQ(e->retry_after_seconds, 10 * 3600);
  HttpResponse r = ErrorResponse(*e);
  EXPECT_EQ(r.status, 429);
  bool retry_after = false;
  for (const auto& [name, value] : r.headers)
    retry_after |= name == "Retry-After" && value == "36000";
  EXPECT_TRUE(retry_after);
  e = QuotaError(State(std::nullopt, 2.5, 0, 3.0), "this API key");
  ASSERT_TRUE(e);
  EXPECT_NE(e->message.find("this API key: 3.0 of 2.5 joules"), std::string::npos) << e->message;
}

TEST(UtcTime, FormatsMilliseconds) {
  EXPECT_EQ(UtcTime(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(UtcTime(1735740061999), "2025-01-01T14:01:01Z");
}

class NullExchange : public Exchange {
 public:
  void Respond(HttpResponse) override {}
  void StartStream(HttpResponse) override {}
  void Send(std::string) override {}
  void EndStream() override {}
  void OnDisconnect(std::function<void()>) override {}
  void SetRoute(std::string) override {}
  void SetTokens(int64_t p, int64_t c) override { tokens = p + c; }
  int64_t tokens = 0;
};

TEST(AccountedExchange, RecordsTokensAndJoulesOnce) {
  auto inner = std::make_shared<NullExchange>();
  std::vector<store::UsageDelta> recorded;
  AccountedExchange ex(inner, [&](const store::UsageDelta& d) { recorded.push_back(d); });
  ex.SetEnergy(0.75);
  ex.SetTokens(12, 3);
  ex.SetTokens(12, 3);
  EXPECT_EQ(inner->tokens, 15);
  ASSERT_EQ(recorded.size(), 1u);
  EXPECT_EQ(recorded[0].prompt_tokens, 12);
  EXPECT_EQ(recorded[0].completion_tokens, 3);
  EXPECT_DOUBLE_EQ(recorded[0].energy_joules, 0.75);
}

}  // namespace
}  // namespace autan::server
