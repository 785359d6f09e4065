// Perplexity and KL-divergence arithmetic against values worked out by hand.
#include "runtime/logprob_stats.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "runtime/perplexity.h"

namespace autan {
namespace {

std::vector<uint16_t> Encode(const std::vector<float>& logits, int32_t token, double* nll) {
  std::vector<uint16_t> row(kld_base::RowWords(static_cast<int32_t>(logits.size())));
  *nll = EncodeLogProbs(logits, token, row);
  return row;
}

kld_base::Row AsRow(const std::vector<uint16_t>& words) {
  kld_base::Row r;
  std::memcpy(&r.scale, words.data(), 4);
  std::memcpy(&r.min_log_prob, words.data() + 2, 4);
  r.q = words.data() + 4;
  return r;
}

TEST(LogProbStats, TokenNllIsMinusLogSoftmax) {
  // softmax([0, ln 3]) = [1/4, 3/4]
  const std::vector<float> logits = {0.0f, std::log(3.0f)};
  EXPECT_NEAR(TokenNll(logits, 1), std::log(4.0 / 3.0), 1e-6);
  EXPECT_NEAR(TokenNll(logits, 0), std::log(4.0), 1e-6);
  const std::vector<float> uniform(1000, 7.5f);
  EXPECT_NEAR(TokenNll(uniform, 123), std::log(1000.0), 1e-9);
}

TEST(LogProbStats, EncodedLogProbsDecodeWithinHalfAStep) {
  // Log-probabilities of [2, 1, 0, -20]: the last lies below max - 16 and is clamped there.
  const std::vector<float> logits = {2.0f, 1.0f, 0.0f, -20.0f};
  double nll = 0;
  const std::vector<uint16_t> words = Encode(logits, 1, &nll);
  ASSERT_EQ(words.size(), 2u * 2 + 4);  // two floats, four codes
  const double lse = std::log(std::exp(2.0) + std::exp(1.0) + 1.0 + std::exp(-20.0));
  EXPECT_NEAR(nll, lse - 1.0, 1e-6);
  const kld_base::Row row = AsRow(words);
  EXPECT_FLOAT_EQ(row.scale, 16.0f / 65535);
  EXPECT_NEAR(row.min_log_prob, -14.0 - lse, 1e-5);  // min clamped to 2 - 16
  for (int i = 0; i < 3; ++i) {
    EXPECT_NEAR(row.LogProb(i), logits[i] - lse, row.scale / 2 + 1e-6) << i;
  }
  EXPECT_NEAR(row.LogProb(3), -14.0 - lse, 1e-5);
}

TEST(LogProbStats, KlAgainstABaseWorkedByHand) {
  // base p = [1/2, 1/2]; model p = [1/4, 3/4]:
  // KL = 1/2 ln(2) + 1/2 ln(2/3) = 1/2 ln(4/3); p(token 1) moves by +1/4.
  double nll_base = 0;
  const std::vector<uint16_t> base = Encode({0.0f, 0.0f}, 1, &nll_base);
  const KlToken t = CompareWithBase(std::vector<float>{0.0f, std::log(3.0f)}, AsRow(base), 1);
  EXPECT_NEAR(t.kld, 0.5 * std::log(4.0 / 3.0), 1e-6);
  EXPECT_NEAR(t.nll, std::log(4.0 / 3.0), 1e-6);
  EXPECT_NEAR(t.nll_base, std::log(2.0), 1e-6);
  EXPECT_NEAR(t.p_diff, 0.25, 1e-6);
  EXPECT_FALSE(t.same_top);  // base ties go to the first token, the model prefers the second
  const KlToken same = CompareWithBase(std::vector<float>{0.0f, 0.0f}, AsRow(base), 0);
  EXPECT_NEAR(same.kld, 0.0, 1e-7);
  EXPECT_TRUE(same.same_top);
}

TEST(LogProbStats, PerplexityAndItsErrorAsLlamaCppComputesThem) {
  NllSum sum;
  for (double v : {1.0, 2.0, 3.0, 4.0}) sum.Add(v);
  // mean 2.5; population variance 30/4 - 2.5^2 = 1.25; error sqrt(1.25 / 3) * e^2.5.
  EXPECT_NEAR(sum.Ppl(), std::exp(2.5), 1e-9);
  EXPECT_NEAR(sum.PplError(), std::sqrt(1.25 / 3) * std::exp(2.5), 1e-9);
  NllSum one;
  one.Add(3.0);
  EXPECT_EQ(one.PplError(), 0.0);
}

TEST(LogProbStats, PercentilesInterpolate) {
  const std::vector<float> v = {1, 2, 3, 4};
  EXPECT_FLOAT_EQ(Percentile(v, 0.5f), 2.5f);
  EXPECT_FLOAT_EQ(Percentile(v, 0.9f), 3.7f);  // 0.9 * 3 = 2.7: 3 + 0.7
  EXPECT_FLOAT_EQ(Percentile(v, 0.0f), 1.0f);
  EXPECT_FLOAT_EQ(Percentile(v, 1.0f), 4.0f);
}

TEST(LogProbStats, SummaryOfTokens) {
  std::vector<KlToken> tokens;
  for (int i = 0; i < 20; ++i) {
    // kld 0.01 * i; nll = nll_base + 0.1 so ln(PPL ratio) = 0.1 exactly;
    // p_diff alternating +-0.02; same top on every fourth token.
    tokens.push_back({.kld = 0.01 * i,
                      .p_diff = i % 2 == 0 ? 0.02f : -0.02f,
                      .nll = 2.1f + 0.01f * static_cast<float>(i),
                      .nll_base = 2.0f + 0.01f * static_cast<float>(i),
                      .same_top = i % 4 == 0});
  }
  const KlReport r = SummarizeKl(tokens);
  EXPECT_EQ(r.count, 20u);
  EXPECT_NEAR(r.kld.mean, 0.095, 1e-12);
  // sample std of 0.01 * (0..19) over sqrt(n - 1) with llama.cpp's population variance
  EXPECT_NEAR(r.kld.error, std::sqrt((0.0001 * 2470 / 20 - 0.095 * 0.095) / 19), 1e-9);
  EXPECT_NEAR(r.ln_ppl_ratio.mean, 0.1, 1e-6);
  EXPECT_NEAR(r.ln_ppl_ratio.error, 0.0, 1e-4);  // the two logs move together
  EXPECT_NEAR(r.ln_ppl_correlation, 1.0, 1e-3);
  EXPECT_NEAR(r.ppl_ratio.mean, std::exp(0.1), 1e-6);
  EXPECT_NEAR(r.p_diff.mean, 0.0, 1e-9);
  EXPECT_NEAR(r.p_diff_rms.mean, 0.02, 1e-7);
  EXPECT_DOUBLE_EQ(r.same_top.mean, 0.25);
  EXPECT_NEAR(r.same_top.error, std::sqrt(0.25 * 0.75 / 19), 1e-12);
  EXPECT_FLOAT_EQ(Percentile(r.kld_sorted, 0.5f), 0.095f);
  EXPECT_FLOAT_EQ(r.kld_sorted.back(), 0.19f);
}

TEST(Perplexity, PlanFollowsLlamaCpp) {
  Result<PerplexityPlan> p = PlanPerplexity(1000, 128, -1);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->n_chunks, 7);  // whole chunks only
  EXPECT_EQ(p->first(), 64);
  EXPECT_EQ(p->n_scored(), 63);  // positions 64..126 predict tokens 65..127
  EXPECT_EQ(PlanPerplexity(1000, 128, 3)->n_chunks, 3);
  Result<PerplexityPlan> short_text = PlanPerplexity(255, 128, -1);
  ASSERT_FALSE(short_text.ok());
  EXPECT_NE(short_text.error().message.find("at least 256"), std::string::npos);
  EXPECT_FALSE(PlanPerplexity(1000, 2, -1).ok());
  const std::vector<int32_t> tokens = [] {
    std::vector<int32_t> t(300);
    for (int i = 0; i < 300; ++i) t[i] = i;
    return t;
  }();
  const std::span<const int32_t> scored = ScoredTokens(tokens, *p, 1);
  EXPECT_EQ(scored.front(), 128 + 65);
  EXPECT_EQ(scored.size(), 63u);
}

}  // namespace
}  // namespace autan
