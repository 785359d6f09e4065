#include "runtime/logprob_stats.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/check.h"

namespace autan {
namespace {

// Round to nearest through the float mantissa (valid below 2^22), as llama.cpp.
int NearestInt(float v) {
  float shifted = v + 12582912.f;
  int32_t i;
  std::memcpy(&i, &shifted, sizeof(i));
  return (i & 0x007fffff) - 0x00400000;
}

struct MaxAndLogSum {
  float max;
  int32_t argmax;
  double log_sum_exp;  // log sum exp(logit - max)
};

MaxAndLogSum Normalizer(std::span<const float> logits) {
  float max = logits[0];
  int32_t argmax = 0;
  for (size_t i = 1; i < logits.size(); ++i) {
    if (logits[i] > max) {
      max = logits[i];
      argmax = static_cast<int32_t>(i);
    }
  }
  double sum = 0;
  for (float v : logits) sum += std::exp(v - max);
  return {max, argmax, std::log(sum)};
}

// mean and its standard error; no error below 11 values, as llama.cpp.
MeanError MeanAndError(double sum, double sum2, size_t count) {
  if (count < 1) return {};
  const double mean = sum / static_cast<double>(count);
  const double var = sum2 / static_cast<double>(count) - mean * mean;
  return {mean, var > 0 && count > 10 ? std::sqrt(var / static_cast<double>(count - 1)) : 0.0};
}

}  // namespace

double TokenNll(std::span<const float> logits, int32_t token) {
  const MaxAndLogSum n = Normalizer(logits);
  return n.log_sum_exp - static_cast<double>(logits[token] - n.max);
}

double EncodeLogProbs(std::span<const float> logits, int32_t token, std::span<uint16_t> row) {
  AUTAN_CHECK(row.size() == kld_base::RowWords(static_cast<int32_t>(logits.size())));
  const MaxAndLogSum n = Normalizer(logits);
  const float log_sum_exp = static_cast<float>(n.log_sum_exp);
  float min = *std::min_element(logits.begin(), logits.end());
  min = std::max(min, n.max - 16);
  const float min_log_prob = min - n.max - log_sum_exp;
  const float scale = (n.max - min) / 65535.f;
  std::memcpy(row.data(), &scale, sizeof(scale));
  std::memcpy(row.data() + 2, &min_log_prob, sizeof(min_log_prob));
  uint16_t* q = row.data() + 4;
  std::fill(q, row.data() + row.size(), uint16_t{0});
  if (scale != 0) {
    const float inv_scale = 1 / scale;
    for (size_t i = 0; i < logits.size(); ++i) {
      if (logits[i] > min) q[i] = static_cast<uint16_t>(NearestInt(inv_scale * (logits[i] - min)));
    }
  }
  return static_cast<double>(n.max + log_sum_exp - logits[token]);
}

KlToken CompareWithBase(std::span<const float> logits, const kld_base::Row& base, int32_t token) {
  const MaxAndLogSum n = Normalizer(logits);
  const float log_sum_exp = static_cast<float>(n.log_sum_exp);
  KlToken t;
  t.nll = n.max + log_sum_exp - logits[token];
  t.nll_base = -base.LogProb(token);
  const float log_norm = n.max + log_sum_exp;  // log p_model[i] = logits[i] - log_norm
  double sum = 0;
  int32_t argmax_base = 0;
  float max_base = 0;
  for (size_t i = 0; i < logits.size(); ++i) {
    const float lp_base = base.LogProb(static_cast<int32_t>(i));
    if (i == 0 || lp_base > max_base) {
      max_base = lp_base;
      argmax_base = static_cast<int32_t>(i);
    }
    // Tokens below e^-16 add nothing measurable and their 16-bit codes are clamped.
    if (lp_base > -16.f) sum += std::exp(lp_base) * (lp_base - logits[i] + log_norm);
  }
  t.kld = sum;
  t.same_top = n.argmax == argmax_base;
  t.p_diff = std::exp(-t.nll) - std::exp(-t.nll_base);
  return t;
}

double NllSum::Ppl() const {
  return count_ == 0 ? 0.0 : std::exp(sum_ / static_cast<double>(count_));
}

double NllSum::PplError() const {
  if (count_ < 2) return 0.0;
  const double mean = sum_ / static_cast<double>(count_);
  const double var = sum2_ / static_cast<double>(count_) - mean * mean;
  return var > 0 ? std::sqrt(var / static_cast<double>(count_ - 1)) * Ppl() : 0.0;
}

KlReport SummarizeKl(std::span<const KlToken> tokens) {
  KlReport r;
  r.count = tokens.size();
  if (tokens.empty()) return r;
  double nll = 0, nll2 = 0, base = 0, base2 = 0, cross = 0, kld = 0, kld2 = 0;
  double pd = 0, pd2 = 0, pd4 = 0;
  size_t same = 0;
  for (const KlToken& t : tokens) {
    nll += t.nll;
    nll2 += double{t.nll} * t.nll;
    base += t.nll_base;
    base2 += double{t.nll_base} * t.nll_base;
    cross += double{t.nll} * t.nll_base;
    kld += t.kld;
    kld2 += t.kld * t.kld;
    const double d2 = double{t.p_diff} * t.p_diff;
    pd += t.p_diff;
    pd2 += d2;
    pd4 += d2 * d2;
    same += t.same_top ? 1 : 0;
    r.kld_sorted.push_back(static_cast<float>(t.kld));
    r.p_diff_sorted.push_back(t.p_diff);
  }
  const size_t n = tokens.size();
  const double dn = static_cast<double>(n);
  const MeanError log_ppl = MeanAndError(nll, nll2, n);
  const MeanError log_base = MeanAndError(base, base2, n);
  r.ppl = {std::exp(log_ppl.mean), std::exp(log_ppl.mean) * log_ppl.error};
  r.ppl_base = {std::exp(log_base.mean), std::exp(log_base.mean) * log_base.error};
  const double cov = n < 10 ? 0.0 : (cross / dn - (nll / dn) * (base / dn)) / (dn - 1);
  const double err_product = log_ppl.error * log_base.error;
  r.ln_ppl_correlation = err_product > 0 ? cov / err_product : 0.0;
  const double ratio_error = std::sqrt(
      std::max(0.0, log_ppl.error * log_ppl.error + log_base.error * log_base.error - 2 * cov));
  r.ln_ppl_ratio = {log_ppl.mean - log_base.mean, ratio_error};
  r.ppl_ratio = {std::exp(r.ln_ppl_ratio.mean), std::exp(r.ln_ppl_ratio.mean) * ratio_error};
  const double ppl_cov = r.ppl.mean * r.ppl_base.mean * cov;
  r.ppl_diff = {r.ppl.mean - r.ppl_base.mean,
                std::sqrt(std::max(0.0, r.ppl.error * r.ppl.error +
                                            r.ppl_base.error * r.ppl_base.error - 2 * ppl_cov))};
  r.kld = MeanAndError(kld, kld2, n);
  r.p_diff = MeanAndError(pd, pd2, n);
  const MeanError mse = MeanAndError(pd2, pd4, n);
  const double rms = std::sqrt(mse.mean);
  r.p_diff_rms = {rms, rms > 0 ? 0.5 / rms * mse.error : 0.0};
  const double top = static_cast<double>(same) / dn;
  r.same_top = {top, n > 1 ? std::sqrt(top * (1 - top) / (dn - 1)) : 0.0};
  std::sort(r.kld_sorted.begin(), r.kld_sorted.end());
  std::sort(r.p_diff_sorted.begin(), r.p_diff_sorted.end());
  return r;
}

float Percentile(std::span<const float> sorted, float fraction) {
  AUTAN_CHECK(!sorted.empty());
  if (fraction <= 0) return sorted.front();
  if (fraction >= 1) return sorted.back();
  float p = fraction * static_cast<float>(sorted.size() - 1);
  const size_t i = static_cast<size_t>(p);
  p -= static_cast<float>(i);
  return (1 - p) * sorted[i] + p * sorted[std::min(i + 1, sorted.size() - 1)];
}

}  // namespace autan
