// Usage per API key, every user's usage, and daily quotas: kept across
// reopening, reset at UTC midnight by the store's clock.
#include <gtest/gtest.h>

#include "store_test_util.h"

namespace autan::store {
namespace {

using testing::Must;

class Quotas : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = testing::OpenOrDie(testing::TestOptions(tmp_.path(), &clock_));
    ASSERT_NE(store_, nullptr);
    alice_ = testing::MakeUser(*store_, "alice");
  }
  void Reopen() {
    store_.reset();
    store_ = testing::OpenOrDie(testing::TestOptions(tmp_.path(), &clock_));
    ASSERT_NE(store_, nullptr);
  }
  testing::TempDir tmp_;
  testing::TestClock clock_;  // 2025-01-01T00:00:00Z
  std::unique_ptr<Store> store_;
  User alice_;
};

TEST_F(Quotas, ExceededOnceTodaysUsageReachesACapAndResetAtMidnight) {
  const std::string subject = "user:" + alice_.id;
  ASSERT_TRUE(store_->SetQuota({subject, 100, std::nullopt}).ok());
  clock_.ms->store(1735740000000);  // 2025-01-01T14:00:00Z
  ASSERT_TRUE(store_->AddUsage(alice_.id, {60, 30, 2.0}).ok());
  QuotaState s = Must(store_->GetQuotaState(subject));
  EXPECT_FALSE(s.Exceeded());  // 90 of 100
  EXPECT_EQ(s.today.day, "2025-01-01");
  EXPECT_EQ(s.resets_at_ms, 1735776000000);  // 2025-01-02T00:00:00Z
  ASSERT_TRUE(store_->AddUsage(alice_.id, {5, 5, 0.0}).ok());
  Reopen();  // usage and quotas are stored
  s = Must(store_->GetQuotaState(subject));
  EXPECT_TRUE(s.Exceeded());
  ASSERT_TRUE(s.quota.has_value());
  EXPECT_EQ(*s.quota->tokens_per_day, 100);
  EXPECT_EQ(s.today.prompt_tokens + s.today.completion_tokens, 100);
  clock_.ms->store(1735776000000);  // midnight: a new day
  s = Must(store_->GetQuotaState(subject));
  EXPECT_FALSE(s.Exceeded());
  EXPECT_EQ(s.today.day, "2025-01-02");
  EXPECT_EQ(s.today.prompt_tokens, 0);
}

TEST_F(Quotas, JoulesCapAndKeysAreCountedApart) {
  ASSERT_TRUE(store_->SetQuota({"key:file:0123456789abcdef", std::nullopt, 5.0}).ok());
  ASSERT_TRUE(store_->AddKeyUsage("file:0123456789abcdef", {10, 10, 4.5}).ok());
  EXPECT_FALSE(Must(store_->GetQuotaState("key:file:0123456789abcdef")).Exceeded());
  ASSERT_TRUE(store_->AddKeyUsage("file:0123456789abcdef", {1, 1, 0.5}).ok());
  EXPECT_TRUE(Must(store_->GetQuotaState("key:file:0123456789abcdef")).Exceeded());
  // Another key and the user have their own days.
  EXPECT_FALSE(Must(store_->GetQuotaState("key:other")).Exceeded());
  EXPECT_EQ(Must(store_->GetQuotaState("user:" + alice_.id)).today.requests, 0);
  std::vector<UsageDay> days =
      Must(store_->ListKeyUsage("file:0123456789abcdef", "2025-01-01", "2025-01-01"));
  ASSERT_EQ(days.size(), 1u);
  EXPECT_EQ(days[0].requests, 2);
  EXPECT_DOUBLE_EQ(days[0].energy_joules, 5.0);
}

TEST_F(Quotas, SetListRemoveAndValidate) {
  ASSERT_TRUE(store_->SetQuota({"user:" + alice_.id, 10, 2.5}).ok());
  ASSERT_TRUE(store_->SetQuota({"key:abc", 7, std::nullopt}).ok());
  std::vector<Quota> all = Must(store_->ListQuotas());
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].subject, "key:abc");
  EXPECT_EQ(all[0].joules_per_day, std::nullopt);
  EXPECT_DOUBLE_EQ(*all[1].joules_per_day, 2.5);
  ASSERT_TRUE(store_->SetQuota({"key:abc", std::nullopt, std::nullopt}).ok());  // removed
  EXPECT_EQ(Must(store_->ListQuotas()).size(), 1u);
  EXPECT_FALSE(store_->SetQuota({"user:not-an-id", 1, std::nullopt}).ok());
  EXPECT_FALSE(store_->SetQuota({"group:x", 1, std::nullopt}).ok());
  EXPECT_FALSE(store_->SetQuota({"key:abc", -1, std::nullopt}).ok());
  EXPECT_FALSE(store_->AddKeyUsage("bad key", {1, 0, 0}).ok());
  EXPECT_FALSE(store_->GetQuotaState("nobody").ok());
}

TEST_F(Quotas, EveryUsersDaysForTheAdministrator) {
  User bob = testing::MakeUser(*store_, "bob");
  ASSERT_TRUE(store_->AddUsage(bob.id, {1, 2, 3.0}).ok());
  ASSERT_TRUE(store_->AddUsage(alice_.id, {4, 5, 6.0}).ok());
  clock_.ms->fetch_add(24 * 3600 * 1000);
  ASSERT_TRUE(store_->AddUsage(alice_.id, {7, 8, 9.0}).ok());
  std::vector<UserUsageDay> days = Must(store_->ListAllUsage("2025-01-01", "2025-01-31"));
  ASSERT_EQ(days.size(), 3u);
  EXPECT_EQ(days[0].username, "alice");
  EXPECT_EQ(days[0].usage.day, "2025-01-01");
  EXPECT_EQ(days[1].username, "bob");
  EXPECT_DOUBLE_EQ(days[1].usage.energy_joules, 3.0);
  EXPECT_EQ(days[2].usage.day, "2025-01-02");
  EXPECT_EQ(days[2].usage.completion_tokens, 8);
  EXPECT_FALSE(store_->ListAllUsage("2025-01", "2025-02").ok());
}

}  // namespace
}  // namespace autan::store
