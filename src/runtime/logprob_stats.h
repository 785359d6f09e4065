// Per-token log-probability arithmetic of llama.cpp's llama-perplexity
// (examples/perplexity/perplexity.cpp), kept step for step so that the two
// programs' perplexity and KL-divergence figures can be compared.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "formats/kld_base.h"

namespace autan {

// -log p(token) under softmax(logits): float maximum, double sum of expf.
double TokenNll(std::span<const float> logits, int32_t token);

// Writes the log-probabilities of `logits` as a kld_base row into `row`
// (kld_base::RowWords words): logits below max - 16 are clamped there, the
// rest quantized to 16 bits over that range. Returns -log p(token).
double EncodeLogProbs(std::span<const float> logits, int32_t token, std::span<uint16_t> row);

// One scored token of a model compared with the base model's row.
struct KlToken {
  double kld = 0;      // KL(base || model), over the base's tokens with log p > -16
  float p_diff = 0;    // p_model(token) - p_base(token)
  float nll = 0;       // -log p_model(token)
  float nll_base = 0;  // -log p_base(token)
  bool same_top = false;
};
KlToken CompareWithBase(std::span<const float> logits, const kld_base::Row& base, int32_t token);

// Perplexity over scored tokens: exp(mean nll) and its standard error
// ppl * sqrt(var(nll) / (n - 1)), as llama.cpp's "Final estimate".
class NllSum {
 public:
  void Add(double nll) {
    sum_ += nll;
    sum2_ += nll * nll;
    ++count_;
  }
  size_t count() const { return count_; }
  double Ppl() const;
  double PplError() const;  // 0 while undefined (fewer than 2 tokens)

 private:
  double sum_ = 0, sum2_ = 0;
  size_t count_ = 0;
};

struct MeanError {
  double mean = 0;
  double error = 0;
};

// llama.cpp's KL-divergence report over all scored tokens so far.
struct KlReport {
  size_t count = 0;
  MeanError ppl, ppl_base;  // exp(mean nll), error propagated
  double ln_ppl_correlation = 0;
  MeanError ln_ppl_ratio, ppl_ratio, ppl_diff;
  MeanError kld;
  MeanError p_diff;      // mean of p_model - p_base
  MeanError p_diff_rms;  // sqrt(mean of squares)
  MeanError same_top;    // fraction of tokens with the same most likely token
  std::vector<float> kld_sorted, p_diff_sorted;
};
KlReport SummarizeKl(std::span<const KlToken> tokens);

// Linear interpolation between the two nearest of `sorted` values, as
// llama.cpp's percentile; fraction 0.5 is the median.
float Percentile(std::span<const float> sorted, float fraction);

}  // namespace autan
