#include "runtime/sampler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <numeric>
#include <string>
#include <vector>

#include "core/rng.h"

namespace autan {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// Parameters with every filter off, sampling at temperature 1.
SamplingParams Plain() {
  SamplingParams p;
  p.temperature = 1.0f;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  return p;
}

Sampler Make(const SamplingParams& params, int32_t n_vocab) {
  auto sampler = Sampler::Create(params, n_vocab);
  EXPECT_TRUE(sampler.ok()) << sampler.error().message;
  return std::move(sampler).value();
}

// The chain written out directly in double precision, with full sorts: the
// probability of each token being drawn after `history` was accepted.
std::vector<double> Expected(const std::vector<float>& logits, const SamplingParams& p,
                             const std::vector<int32_t>& history = {}) {
  const size_t n = logits.size();
  std::vector<double> l(logits.begin(), logits.end());
  for (const auto& [token, bias] : p.logit_bias) l[token] += bias;
  size_t from = 0;
  if (p.penalty_last_n >= 0) {
    from = history.size() - std::min(history.size(), static_cast<size_t>(p.penalty_last_n));
  }
  std::map<int32_t, int> count;
  for (size_t i = from; i < history.size(); ++i) ++count[history[i]];
  for (const auto& [token, c] : count) {
    double& x = l[token];
    x = x <= 0 ? x * p.repetition_penalty : x / p.repetition_penalty;
    x -= c * static_cast<double>(p.frequency_penalty) + p.presence_penalty;
  }
  std::vector<int32_t> order;
  for (size_t i = 0; i < n; ++i) {
    if (!std::isnan(l[i]) && l[i] != -INFINITY) order.push_back(static_cast<int32_t>(i));
  }
  std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return l[a] > l[b]; });
  std::vector<double> prob(n, 0.0);
  if (p.temperature <= 0) {
    prob[order[0]] = 1.0;
    return prob;
  }
  if (p.top_k > 0 && static_cast<size_t>(p.top_k) < order.size()) {
    if (std::abs(l[order[p.top_k - 1]] - l[order[p.top_k]]) < 1e-5) ADD_FAILURE() << "top-k tie";
    order.resize(p.top_k);
  }
  std::vector<double> q;
  for (int32_t t : order) q.push_back(std::exp((l[t] - l[order[0]]) / p.temperature));
  const double total = std::accumulate(q.begin(), q.end(), 0.0);
  for (double& x : q) x /= total;
  size_t keep = q.size();
  if (p.top_p < 1) {
    double cum = 0;
    for (size_t i = 0; i < q.size(); ++i) {
      cum += q[i];
      if (std::abs(cum - p.top_p) < 1e-6) ADD_FAILURE() << "top-p on a boundary";
      if (cum >= p.top_p) {
        keep = std::min(keep, i + 1);
        break;
      }
    }
  }
  for (size_t i = 0; p.min_p > 0 && i < q.size(); ++i) {
    if (std::abs(q[i] / q[0] - p.min_p) < 1e-6) ADD_FAILURE() << "min-p on a boundary";
    if (q[i] < p.min_p * q[0]) keep = std::min(keep, i);
  }
  const double kept = std::accumulate(q.begin(), q.begin() + static_cast<ptrdiff_t>(keep), 0.0);
  for (size_t i = 0; i < keep; ++i) prob[order[i]] = q[i] / kept;
  return prob;
}

// Upper 1e-6 quantile of chi-square with df degrees of freedom (Wilson-Hilferty).
double ChiSquareCritical(int df) {
  const double a = 2.0 / (9.0 * df);
  return df * std::pow(1.0 - a + 4.753 * std::sqrt(a), 3);
}

// Draws `draws` tokens and checks the counts against the expected
// distribution: never a token of probability 0, and a chi-square test on the
// rest (bins expecting fewer than 5 pooled).
void ExpectDistribution(Sampler& sampler, const std::vector<float>& logits,
                        const std::vector<double>& expected, int draws) {
  std::vector<int64_t> count(logits.size(), 0);
  for (int i = 0; i < draws; ++i) ++count[sampler.Sample(logits)];
  double chi2 = 0;
  int bins = 0;
  double pooled_expected = 0;
  int64_t pooled_count = 0;
  for (size_t t = 0; t < logits.size(); ++t) {
    const double e = expected[t] * draws;
    if (expected[t] == 0) {
      EXPECT_EQ(count[t], 0) << "token " << t << " has probability 0";
    } else if (e < 5) {
      pooled_expected += e;
      pooled_count += count[t];
    } else {
      chi2 += (count[t] - e) * (count[t] - e) / e;
      ++bins;
    }
  }
  if (pooled_expected > 0) {
    chi2 += (pooled_count - pooled_expected) * (pooled_count - pooled_expected) / pooled_expected;
    ++bins;
  }
  if (bins > 1) {
    EXPECT_LT(chi2, ChiSquareCritical(bins - 1)) << "bins=" << bins;
  }
}

// Eight tokens with these probabilities at temperature 1, placed at shuffled
// ids so that id order and probability order differ.
constexpr double kProbs[] = {0.30, 0.22, 0.16, 0.12, 0.08, 0.06, 0.04, 0.02};
constexpr int32_t kIds[] = {3, 0, 6, 1, 7, 2, 5, 4};

std::vector<float> EightLogits() {
  std::vector<float> logits(8);
  for (int i = 0; i < 8; ++i) logits[kIds[i]] = static_cast<float>(std::log(kProbs[i]) + 1.5);
  return logits;
}

std::vector<float> RandomLogits(Rng& rng, size_t n, double scale) {
  std::vector<float> logits(n);
  for (float& x : logits) x = static_cast<float>(scale * rng.Normal());
  return logits;
}

// ---------------------------------------------------------------- Create

TEST(SamplerCreate, RejectsInvalidParameters) {
  struct Case {
    const char* field;
    void (*edit)(SamplingParams&);
  };
  const Case cases[] = {
      {"temperature", [](SamplingParams& p) { p.temperature = -0.1f; }},
      {"temperature", [](SamplingParams& p) { p.temperature = NAN; }},
      {"temperature", [](SamplingParams& p) { p.temperature = kInf; }},
      {"top_p", [](SamplingParams& p) { p.top_p = 0.0f; }},
      {"top_p", [](SamplingParams& p) { p.top_p = -0.5f; }},
      {"top_p", [](SamplingParams& p) { p.top_p = 1.01f; }},
      {"top_p", [](SamplingParams& p) { p.top_p = NAN; }},
      {"min_p", [](SamplingParams& p) { p.min_p = -0.01f; }},
      {"min_p", [](SamplingParams& p) { p.min_p = 1.5f; }},
      {"min_p", [](SamplingParams& p) { p.min_p = NAN; }},
      {"repetition_penalty", [](SamplingParams& p) { p.repetition_penalty = 0.0f; }},
      {"repetition_penalty", [](SamplingParams& p) { p.repetition_penalty = -1.0f; }},
      {"repetition_penalty", [](SamplingParams& p) { p.repetition_penalty = kInf; }},
      {"repetition_penalty", [](SamplingParams& p) { p.repetition_penalty = NAN; }},
      {"presence_penalty", [](SamplingParams& p) { p.presence_penalty = kInf; }},
      {"presence_penalty", [](SamplingParams& p) { p.presence_penalty = NAN; }},
      {"frequency_penalty", [](SamplingParams& p) { p.frequency_penalty = -kInf; }},
      {"frequency_penalty", [](SamplingParams& p) { p.frequency_penalty = NAN; }},
      {"penalty_last_n", [](SamplingParams& p) { p.penalty_last_n = -2; }},
      {"logit_bias[0]",
       [](SamplingParams& p) {
         p.logit_bias = {{-1, 1.0f}};
       }},
      {"logit_bias[1]",
       [](SamplingParams& p) {
         p.logit_bias = {{0, 1.0f}, {100, 1.0f}};
       }},
      {"logit_bias[0]",
       [](SamplingParams& p) {
         p.logit_bias = {{5, NAN}};
       }},
      {"logit_bias[0]",
       [](SamplingParams& p) {
         p.logit_bias = {{5, kInf}};
       }},
      {"bans all 100",
       [](SamplingParams& p) {
         for (int32_t t = 0; t < 100; ++t) p.logit_bias.push_back({t, -kInf});
       }},
  };
  for (const Case& c : cases) {
    SamplingParams params;
    c.edit(params);
    auto sampler = Sampler::Create(params, 100);
    ASSERT_FALSE(sampler.ok()) << c.field;
    EXPECT_NE(sampler.error().message.find(c.field), std::string::npos)
        << c.field << ": " << sampler.error().message;
  }
  auto empty = Sampler::Create(SamplingParams{}, 0);
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.error().message.find("n_vocab"), std::string::npos);
}

TEST(SamplerCreate, AcceptsBoundaryValues) {
  const std::vector<void (*)(SamplingParams&)> edits = {
      [](SamplingParams& p) { p.temperature = 0.0f; },
      [](SamplingParams& p) { p.top_p = 1.0f; },
      [](SamplingParams& p) { p.min_p = 0.0f; },
      [](SamplingParams& p) { p.min_p = 1.0f; },
      [](SamplingParams& p) { p.top_k = -3; },
      [](SamplingParams& p) { p.top_k = 1000; },
      [](SamplingParams& p) { p.penalty_last_n = -1; },
      [](SamplingParams& p) { p.penalty_last_n = 0; },
      [](SamplingParams& p) { p.repetition_penalty = 0.5f; },
      [](SamplingParams& p) { p.presence_penalty = -2.0f; },
      [](SamplingParams& p) {
        for (int32_t t = 1; t < 100; ++t) p.logit_bias.push_back({t, -kInf});
      },
  };
  for (size_t i = 0; i < edits.size(); ++i) {
    SamplingParams params;
    edits[i](params);
    auto sampler = Sampler::Create(params, 100);
    EXPECT_TRUE(sampler.ok()) << "case " << i << ": " << sampler.error().message;
  }
}

// ---------------------------------------------------------------- greedy

TEST(SamplerGreedy, PicksTheArgmax) {
  SamplingParams params;
  params.temperature = 0.0f;
  Sampler sampler = Make(params, 5000);
  Rng rng(7);
  for (int round = 0; round < 50; ++round) {
    const std::vector<float> logits = RandomLogits(rng, 5000, 3.0);
    const auto best = std::max_element(logits.begin(), logits.end()) - logits.begin();
    EXPECT_EQ(sampler.Sample(logits), best);
  }
}

TEST(SamplerGreedy, TiesGoToTheLowestId) {
  SamplingParams params;
  params.temperature = 0.0f;
  Sampler sampler = Make(params, 10);
  EXPECT_EQ(sampler.Sample(std::vector<float>{0, 1, 3, 2, 3, 0, 3, 1, 0, 0}), 2);
  EXPECT_EQ(sampler.Sample(std::vector<float>{5, 5, 5, 5, 5, 5, 5, 5, 5, 5}), 0);
  EXPECT_EQ(sampler.Sample(std::vector<float>{-1, -1, -1, -1, -1, -1, -1, -1, -1, -0.5}), 9);
}

TEST(SamplerGreedy, TopKOfOneEqualsGreedy) {
  SamplingParams greedy_params;
  greedy_params.temperature = 0.0f;
  SamplingParams top1 = Plain();
  top1.top_k = 1;
  top1.temperature = 1.5f;
  Sampler greedy = Make(greedy_params, 300);
  Sampler sampler = Make(top1, 300);
  Rng rng(11);
  for (int round = 0; round < 300; ++round) {
    // Integer logits: many ties at the top.
    std::vector<float> logits(300);
    for (float& x : logits) x = static_cast<float>(rng.Next() % 12);
    ASSERT_EQ(sampler.Sample(logits), greedy.Sample(logits)) << "round " << round;
  }
}

// ---------------------------------------------------------------- distributions

struct DistributionCase {
  const char* name;
  SamplingParams params;
};

TEST(SamplerDistribution, MatchesTheExactChainOnEightTokens) {
  auto with = [](auto edit) {
    SamplingParams p = Plain();
    edit(p);
    return p;
  };
  const DistributionCase cases[] = {
      {"plain softmax", Plain()},
      {"temperature 0.5", with([](SamplingParams& p) { p.temperature = 0.5f; })},
      {"temperature 1.7", with([](SamplingParams& p) { p.temperature = 1.7f; })},
      {"top_k 3", with([](SamplingParams& p) { p.top_k = 3; })},
      {"top_k 5 temperature 0.7", with([](SamplingParams& p) {
         p.top_k = 5;
         p.temperature = 0.7f;
       })},
      {"top_p 0.6", with([](SamplingParams& p) { p.top_p = 0.6f; })},
      {"top_p 0.5", with([](SamplingParams& p) { p.top_p = 0.5f; })},
      {"top_p 0.8 temperature 2", with([](SamplingParams& p) {
         p.top_p = 0.8f;
         p.temperature = 2.0f;
       })},
      {"min_p 0.35", with([](SamplingParams& p) { p.min_p = 0.35f; })},
      {"min_p 0.2 temperature 0.6", with([](SamplingParams& p) {
         p.min_p = 0.2f;
         p.temperature = 0.6f;
       })},
      {"all filters", with([](SamplingParams& p) {
         p.top_k = 6;
         p.temperature = 0.9f;
         p.top_p = 0.9f;
         p.min_p = 0.1f;
       })},
      {"defaults", SamplingParams{}},
  };
  const std::vector<float> logits = EightLogits();
  uint64_t seed = 100;
  for (const DistributionCase& c : cases) {
    SCOPED_TRACE(c.name);
    SamplingParams params = c.params;
    params.seed = seed++;
    Sampler sampler = Make(params, 8);
    ExpectDistribution(sampler, logits, Expected(logits, params), 100000);
  }
}

TEST(SamplerDistribution, MatchesWithPenaltiesAndBias) {
  SamplingParams params = Plain();
  params.repetition_penalty = 1.3f;
  params.presence_penalty = 0.2f;
  params.frequency_penalty = 0.1f;
  params.penalty_last_n = 5;
  params.logit_bias = {{2, 0.5f}, {3, -kInf}, {4, 1.0f}, {2, 0.25f}};
  params.top_p = 0.95f;
  params.min_p = 0.02f;
  params.seed = 5;
  const std::vector<float> logits = EightLogits();
  const std::vector<int32_t> history = {3, 3, 6, 1, 6, 0, 6, 7, 2};
  Sampler sampler = Make(params, 8);
  for (int32_t t : history) sampler.Accept(t);
  ExpectDistribution(sampler, logits, Expected(logits, params, history), 100000);
}

// A larger vocabulary: a head of a few hundred plausible tokens in a long
// tail, so that top-p keeps many tokens spread over many weight bins.
std::vector<float> HeadAndTail(Rng& rng, size_t n, size_t head) {
  std::vector<float> logits(n);
  for (size_t i = 0; i < n; ++i) {
    logits[i] = static_cast<float>(i < head ? 2.0 * rng.Uniform() : -6.0 + rng.Normal());
  }
  for (size_t i = n - 1; i > 0; --i) std::swap(logits[i], logits[rng.Next() % (i + 1)]);
  return logits;
}

TEST(SamplerDistribution, MatchesOnALargeVocabulary) {
  Rng rng(2024);
  const std::vector<float> logits = HeadAndTail(rng, 2048, 256);
  auto with = [](auto edit) {
    SamplingParams p = Plain();
    edit(p);
    return p;
  };
  const DistributionCase cases[] = {
      {"top_p 0.8", with([](SamplingParams& p) { p.top_p = 0.8f; })},
      {"top_p 0.9 min_p 0.3", with([](SamplingParams& p) {
         p.top_p = 0.9f;
         p.min_p = 0.3f;
       })},
      {"top_k 100 temperature 1.3 top_p 0.97", with([](SamplingParams& p) {
         p.top_k = 100;
         p.temperature = 1.3f;
         p.top_p = 0.97f;
       })},
  };
  for (const DistributionCase& c : cases) {
    SCOPED_TRACE(c.name);
    Sampler sampler = Make(c.params, 2048);
    const std::vector<double> expected = Expected(logits, c.params);
    const auto support =
        std::count_if(expected.begin(), expected.end(), [](double p) { return p > 0; });
    EXPECT_GT(support, 64) << "the case should keep many tokens";
    ExpectDistribution(sampler, logits, expected, 20000);
  }
}

// Support of the filters, counted by hand on kProbs (sorted descending).
std::vector<int32_t> DrawnSupport(const SamplingParams& params, int draws) {
  Sampler sampler = Make(params, 8);
  const std::vector<float> logits = EightLogits();
  std::vector<bool> seen(8, false);
  for (int i = 0; i < draws; ++i) seen[sampler.Sample(logits)] = true;
  std::vector<int32_t> ids;
  for (int32_t t = 0; t < 8; ++t) {
    if (seen[t]) ids.push_back(t);
  }
  return ids;
}

std::vector<int32_t> MostLikely(int count) {
  std::vector<int32_t> ids(kIds, kIds + count);
  std::sort(ids.begin(), ids.end());
  return ids;
}

TEST(SamplerFilters, TopPKeepsTheShortestPrefixReachingP) {
  // Cumulative mass: 0.30, 0.52, 0.68, 0.80, 0.88, ...
  const std::pair<float, int> cases[] = {{0.29f, 1}, {0.31f, 2}, {0.51f, 2}, {0.53f, 3},
                                         {0.67f, 3}, {0.69f, 4}, {0.79f, 4}, {0.81f, 5}};
  for (const auto& [top_p, kept] : cases) {
    SamplingParams params = Plain();
    params.top_p = top_p;
    EXPECT_EQ(DrawnSupport(params, 20000), MostLikely(kept)) << "top_p=" << top_p;
  }
}

TEST(SamplerFilters, MinPKeepsTokensAtLeastMinPTimesTheBest) {
  // p / p_max: 1, 0.733, 0.533, 0.4, 0.267, 0.2, 0.133, 0.067.
  const std::pair<float, int> cases[] = {{0.9f, 1},  {0.7f, 2}, {0.5f, 3}, {0.35f, 4},
                                         {0.25f, 5}, {0.1f, 7}, {0.05f, 8}};
  for (const auto& [min_p, kept] : cases) {
    SamplingParams params = Plain();
    params.min_p = min_p;
    EXPECT_EQ(DrawnSupport(params, 20000), MostLikely(kept)) << "min_p=" << min_p;
  }
}

TEST(SamplerFilters, TopKKeepsTheKMostLikely) {
  for (int k = 1; k <= 8; ++k) {
    SamplingParams params = Plain();
    params.top_k = k;
    EXPECT_EQ(DrawnSupport(params, 20000), MostLikely(k)) << "top_k=" << k;
  }
}

TEST(SamplerFilters, TiesGoToTheLowestIdsInEveryFilter) {
  // 100 equal logits: each token has mass 0.01, so top-p 0.305 needs 31.
  const std::vector<float> logits(100, 0.5f);
  for (int32_t top_k : {0, 99}) {  // top-p on the unsorted and the top-k path
    SamplingParams params = Plain();
    params.top_k = top_k;
    params.top_p = 0.305f;
    Sampler sampler = Make(params, 100);
    std::vector<int> count(100, 0);
    for (int i = 0; i < 20000; ++i) ++count[sampler.Sample(logits)];
    for (int32_t t = 0; t < 100; ++t) {
      if (t <= 30) {
        EXPECT_GT(count[t], 0) << "top_k=" << top_k << " token " << t;
      } else {
        EXPECT_EQ(count[t], 0) << "top_k=" << top_k << " token " << t;
      }
    }
  }
  SamplingParams params = Plain();
  params.top_k = 10;
  Sampler sampler = Make(params, 100);
  for (int i = 0; i < 2000; ++i) ASSERT_LT(sampler.Sample(logits), 10);
}

// ---------------------------------------------------------------- penalties

// Checks that `token`, with raw logit `raw`, ends at `expected` after the
// history: a greedy sampler must prefer a rival just above that value and
// `token` over a rival just below it.
void ExpectAdjustedLogit(SamplingParams params, const std::vector<int32_t>& history, float raw,
                         double expected) {
  params.temperature = 0.0f;
  constexpr int32_t kToken = 3, kRival = 9;
  const double delta = 1e-3 * std::max(1.0, std::abs(expected));
  for (double offset : {delta, -delta}) {
    std::vector<float> logits(12, -50.0f);
    logits[kToken] = raw;
    logits[kRival] = static_cast<float>(expected + offset);
    Sampler sampler = Make(params, 12);
    for (int32_t t : history) sampler.Accept(t == -1 ? kToken : t);
    EXPECT_EQ(sampler.Sample(logits), offset > 0 ? kRival : kToken)
        << "raw " << raw << " should become " << expected;
  }
}

constexpr int32_t kSelf = -1;  // stands for the token under test in histories

TEST(SamplerPenalties, RepetitionDividesPositiveAndMultipliesNegativeLogits) {
  SamplingParams params;
  params.repetition_penalty = 1.25f;
  ExpectAdjustedLogit(params, {kSelf}, 2.0f, 1.6);
  ExpectAdjustedLogit(params, {kSelf, kSelf, kSelf}, 2.0f, 1.6);  // count does not matter
  ExpectAdjustedLogit(params, {kSelf}, -2.0f, -2.5);
  ExpectAdjustedLogit(params, {0, 1}, 2.0f, 2.0);  // not seen: untouched
  params.repetition_penalty = 0.5f;                // below 1 favours repeats
  ExpectAdjustedLogit(params, {kSelf}, 2.0f, 4.0);
}

TEST(SamplerPenalties, PresenceAndFrequencyFollowOpenAi) {
  SamplingParams params;
  params.presence_penalty = 0.7f;
  ExpectAdjustedLogit(params, {kSelf}, 1.0f, 0.3);
  ExpectAdjustedLogit(params, {kSelf, kSelf, kSelf}, 1.0f, 0.3);
  params.presence_penalty = 0.0f;
  params.frequency_penalty = 0.25f;
  ExpectAdjustedLogit(params, {kSelf}, 1.0f, 0.75);
  ExpectAdjustedLogit(params, {kSelf, 0, kSelf, kSelf}, 1.0f, 0.25);
  params.frequency_penalty = -0.5f;  // negative values encourage repeats
  ExpectAdjustedLogit(params, {kSelf, kSelf}, 1.0f, 2.0);
}

TEST(SamplerPenalties, RepetitionComesBeforePresenceAndFrequency) {
  SamplingParams params;
  params.repetition_penalty = 1.5f;
  params.presence_penalty = 0.5f;
  params.frequency_penalty = 0.2f;
  ExpectAdjustedLogit(params, {kSelf, 5, kSelf}, 3.0f, 3.0 / 1.5 - 2 * 0.2 - 0.5);
  ExpectAdjustedLogit(params, {kSelf, 5, kSelf}, -1.0f, -1.0 * 1.5 - 2 * 0.2 - 0.5);
}

TEST(SamplerPenalties, BiasComesBeforePenalties) {
  SamplingParams params;
  params.logit_bias = {{3, 1.0f}, {3, 0.5f}};  // token 3 is the token under test
  ExpectAdjustedLogit(params, {}, 1.0f, 2.5);
  params.repetition_penalty = 2.0f;
  ExpectAdjustedLogit(params, {kSelf}, 1.0f, 1.25);  // (1 + 1.5) / 2, not 1 / 2 + 1.5
  params.logit_bias = {{3, -3.0f}};
  ExpectAdjustedLogit(params, {kSelf}, 1.0f, -4.0);  // the bias made it negative
}

TEST(SamplerPenalties, LookOnlyAtTheLastNTokens) {
  SamplingParams params;
  params.frequency_penalty = 0.25f;
  params.penalty_last_n = 3;
  ExpectAdjustedLogit(params, {kSelf, kSelf, 0, 1, 2}, 1.0f, 1.0);
  ExpectAdjustedLogit(params, {kSelf, kSelf, 0, kSelf, 2}, 1.0f, 0.75);
  ExpectAdjustedLogit(params, {0, kSelf, kSelf, kSelf}, 1.0f, 0.25);
  params.penalty_last_n = 0;
  ExpectAdjustedLogit(params, {kSelf, kSelf, kSelf}, 1.0f, 1.0);
  params.penalty_last_n = -1;
  std::vector<int32_t> long_history = {kSelf, kSelf};
  for (int i = 0; i < 500; ++i) long_history.push_back(i % 3);
  ExpectAdjustedLogit(params, long_history, 1.0f, 0.5);
}

TEST(SamplerPenalties, ResetForgetsTheHistory) {
  SamplingParams params;
  params.temperature = 0.0f;
  params.presence_penalty = 5.0f;
  Sampler sampler = Make(params, 4);
  const std::vector<float> logits = {0.0f, 3.0f, 2.0f, 0.0f};
  sampler.Accept(1);
  EXPECT_EQ(sampler.Sample(logits), 2);
  sampler.Reset();
  EXPECT_EQ(sampler.Sample(logits), 1);
}

// A long random history through a small window, checked at every step against
// the penalties recomputed from scratch.
TEST(SamplerPenalties, SlidingWindowMatchesRecount) {
  SamplingParams params;
  params.temperature = 0.0f;
  params.repetition_penalty = 1.2f;
  params.presence_penalty = 0.3f;
  params.frequency_penalty = 0.4f;
  params.penalty_last_n = 7;
  Sampler sampler = Make(params, 10);
  Rng rng(99);
  std::vector<int32_t> history;
  int checked = 0;
  for (int step = 0; step < 2000; ++step) {
    const std::vector<float> logits = RandomLogits(rng, 10, 1.0);
    const std::vector<double> expected = Expected(logits, params, history);
    const int32_t best =
        static_cast<int32_t>(std::max_element(expected.begin(), expected.end()) - expected.begin());
    // At temperature 1 with no filter, log(p_best / p_second) is the logit
    // margin: skip near-ties, where float and double rounding may disagree.
    SamplingParams flat = params;
    flat.temperature = 1.0f;
    flat.top_k = 0;
    flat.top_p = 1.0f;
    flat.min_p = 0.0f;
    const std::vector<double> p = Expected(logits, flat, history);
    double second = 0;
    for (size_t t = 0; t < p.size(); ++t) {
      if (static_cast<int32_t>(t) != best) second = std::max(second, p[t]);
    }
    if (std::log(p[best] / second) > 1e-4) {
      ASSERT_EQ(sampler.Sample(logits), best) << "step " << step;
      ++checked;
    }
    const auto next = static_cast<int32_t>(rng.Next() % 4);  // few ids: many repeats
    sampler.Accept(next);
    history.push_back(next);
  }
  EXPECT_GT(checked, 1900);
}

// ---------------------------------------------------------------- bias, odd logits

TEST(SamplerBias, MinusInfinityIsNeverSampled) {
  SamplingParams params = Plain();
  params.temperature = 3.0f;
  params.logit_bias = {{kIds[0], -kInf}, {kIds[1], -kInf}};
  Sampler sampler = Make(params, 8);
  const std::vector<float> logits = EightLogits();
  std::vector<int> count(8, 0);
  for (int i = 0; i < 50000; ++i) ++count[sampler.Sample(logits)];
  EXPECT_EQ(count[kIds[0]], 0);
  EXPECT_EQ(count[kIds[1]], 0);
  for (int i = 2; i < 8; ++i) EXPECT_GT(count[kIds[i]], 0);

  params.temperature = 0.0f;
  Sampler greedy = Make(params, 8);
  EXPECT_EQ(greedy.Sample(logits), kIds[2]);
}

TEST(SamplerBias, NonFiniteLogits) {
  SamplingParams params = Plain();
  params.logit_bias = {{0, -kInf}, {1, -kInf}};
  Sampler sampler = Make(params, 6);
  // Nothing can be drawn: the lowest id the bias allows.
  EXPECT_EQ(sampler.Sample(std::vector<float>(6, -kInf)), 2);
  EXPECT_EQ(sampler.Sample(std::vector<float>(6, NAN)), 2);
  // NaN is never drawn; +inf always is.
  const std::vector<float> with_nan = {1, NAN, 1, NAN, 1, NAN};
  for (int i = 0; i < 2000; ++i) {
    const int32_t t = sampler.Sample(with_nan);
    ASSERT_TRUE(t == 2 || t == 4) << t;
  }
  const std::vector<float> with_inf = {1, 1, 1, kInf, 1, 1};
  for (int i = 0; i < 200; ++i) ASSERT_EQ(sampler.Sample(with_inf), 3);
  params.temperature = 0.0f;
  Sampler greedy = Make(params, 6);
  EXPECT_EQ(greedy.Sample(with_nan), 2);
  EXPECT_EQ(greedy.Sample(with_inf), 3);
}

// ---------------------------------------------------------------- determinism

std::vector<int32_t> Generate(Sampler& sampler, uint64_t logits_seed, int steps) {
  Rng rng(logits_seed);
  std::vector<int32_t> tokens;
  for (int i = 0; i < steps; ++i) {
    const std::vector<float> logits = RandomLogits(rng, 1000, 2.0);
    tokens.push_back(sampler.Sample(logits));
    sampler.Accept(tokens.back());
  }
  return tokens;
}

TEST(SamplerDeterminism, SameSeedSameTokensDifferentSeedOtherTokens) {
  SamplingParams params;
  params.top_k = 0;
  params.temperature = 1.2f;
  params.repetition_penalty = 1.1f;
  params.seed = 1234;
  Sampler a = Make(params, 1000);
  Sampler b = Make(params, 1000);
  const std::vector<int32_t> first = Generate(a, 5, 300);
  EXPECT_EQ(Generate(b, 5, 300), first);
  a.Reset();
  EXPECT_EQ(Generate(a, 5, 300), first);

  params.seed = 1235;
  Sampler c = Make(params, 1000);
  const std::vector<int32_t> other = Generate(c, 5, 300);
  int same = 0;
  for (size_t i = 0; i < first.size(); ++i) same += first[i] == other[i];
  EXPECT_LT(same, 150);
}

TEST(SamplerDeathTest, RejectsMisuse) {
  Sampler sampler = Make(SamplingParams{}, 10);
  EXPECT_DEATH(sampler.Accept(10), "check failed");
  EXPECT_DEATH(sampler.Accept(-1), "check failed");
  EXPECT_DEATH(sampler.Sample(std::vector<float>(9, 0.0f)), "check failed");
}

}  // namespace
}  // namespace autan
