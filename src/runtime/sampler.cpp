#include "runtime/sampler.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cfloat>
#include <cmath>
#include <limits>

#include "core/check.h"

namespace autan {
namespace {

// 1 / n!, rounded once at compile time (n! itself is exact in a double).
constexpr std::array<double, 12> kInvFactorial = [] {
  std::array<double, 12> table{};
  double factorial = 1;
  for (size_t n = 0; n < table.size(); ++n) {
    if (n > 0) factorial *= static_cast<double>(n);
    table[n] = 1.0 / factorial;
  }
  return table;
}();

// Same tokens on every machine needs the float operations below to round the
// same way everywhere: forbid fusing a*b+c into an FMA, which g++ does by
// default in C++ wherever the target has one (-march=native). Ignoring
// floating-point exception flags (no result changes) lets g++ vectorize the
// exp. Kept to these functions: g++ does not inline functions compiled with
// other options (such as the standard library's) into them.
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC push_options
#pragma GCC optimize("fp-contract=off", "no-trapping-math")
#endif

// x[i] = exp(x[i]) for every x[i] <= 0, from IEEE basic operations only:
// libm's exp may differ by an ulp between library versions and CPUs (glibc
// picks an FMA variant at run time), which would break cross-machine
// determinism. Branch-free so that the compiler vectorizes it.
void PortableExp(double* x, size_t n) {
  constexpr double kLog2e = 1.4426950408889634;
  // ln 2 split so that k * kLn2Hi is exact for |k| < 2^11 (as in fdlibm).
  constexpr double kLn2Hi = 6.93147180369123816490e-01;
  constexpr double kLn2Lo = 1.90821492927058770002e-10;
  constexpr double kRound = 0x1.8p52;  // adding it rounds to an integer
  // Below this 2^k leaves the normal range; exp is then < 1e-307 and a weight
  // that small next to the largest weight (1) is 0 for sampling.
  constexpr double kMin = -708.0;
  for (size_t i = 0; i < n; ++i) {
    const double v = x[i] < kMin ? kMin : x[i];
    const double t = v * kLog2e + kRound;
    const double k = t - kRound;
    const double r = (v - k * kLn2Hi) - k * kLn2Lo;  // |r| <= ln2 / 2
    // Taylor series to r^11: the remainder is below 0.35^12 / 12! < 1e-14,
    // far below what could change a draw.
    double p = kInvFactorial[11];
#pragma GCC unroll 11
    for (int j = 10; j >= 0; --j) p = p * r + kInvFactorial[static_cast<size_t>(j)];
    // k sits in the low bits of t; 2^k is built from its exponent field.
    const int64_t k_bits = __builtin_bit_cast(int64_t, t) - __builtin_bit_cast(int64_t, kRound);
    const double scale = __builtin_bit_cast(double, static_cast<uint64_t>(k_bits + 1023) << 52);
    x[i] = x[i] < kMin ? 0.0 : p * scale;
  }
}

// The penalties of one token seen `count` times in the window.
float Penalize(float logit, int32_t count, const SamplingParams& p) {
  // As llama.cpp: shrink a positive logit, push a non-positive one down.
  if (p.repetition_penalty != 1.0f) {
    logit = logit <= 0 ? logit * p.repetition_penalty : logit / p.repetition_penalty;
  }
  return logit - (static_cast<float>(count) * p.frequency_penalty + p.presence_penalty);
}

#if !defined(__clang__) && defined(__GNUC__)
#pragma GCC pop_options
#endif

// Top-p histogram bins: eighths of an octave of weight (weights are in
// [0, 1]), larger weights in lower bins, everything below 2^-64 in the last.
constexpr size_t kMassBins = 64 * 8 + 1;

size_t MassBin(double weight) {
  const uint64_t bits = std::bit_cast<uint64_t>(weight);
  const auto exponent = static_cast<int64_t>(bits >> 52);  // no sign bit: weight >= 0
  const auto eighth = static_cast<int64_t>((bits >> 49) & 7);
  const int64_t bin = (1023 - exponent) * 8 - eighth;  // 0 for weight 1
  return static_cast<size_t>(std::clamp<int64_t>(bin, 0, kMassBins - 1));
}

// Candidate order for top-k and top-p: larger logit first, then lower id. A
// strict total order, so heaps and sorts give the same result everywhere.
struct Before {
  template <typename C>
  bool operator()(const C& a, const C& b) const {
    if (a.logit != b.logit) return a.logit > b.logit;
    return a.id < b.id;
  }
};

}  // namespace

Result<Sampler> Sampler::Create(SamplingParams params, int32_t n_vocab) {
  if (n_vocab <= 0) return Fail("sampler: n_vocab must be > 0, got %d", n_vocab);
  const SamplingParams& p = params;
  if (!std::isfinite(p.temperature) || p.temperature < 0) {
    return Fail("sampler: temperature must be a finite number >= 0, got %g",
                static_cast<double>(p.temperature));
  }
  if (!(p.top_p > 0 && p.top_p <= 1)) {
    return Fail("sampler: top_p must be in (0, 1], got %g", static_cast<double>(p.top_p));
  }
  if (!(p.min_p >= 0 && p.min_p <= 1)) {
    return Fail("sampler: min_p must be in [0, 1], got %g", static_cast<double>(p.min_p));
  }
  if (!std::isfinite(p.repetition_penalty) || p.repetition_penalty <= 0) {
    return Fail("sampler: repetition_penalty must be a finite number > 0, got %g",
                static_cast<double>(p.repetition_penalty));
  }
  if (!std::isfinite(p.presence_penalty)) {
    return Fail("sampler: presence_penalty must be a finite number, got %g",
                static_cast<double>(p.presence_penalty));
  }
  if (!std::isfinite(p.frequency_penalty)) {
    return Fail("sampler: frequency_penalty must be a finite number, got %g",
                static_cast<double>(p.frequency_penalty));
  }
  if (p.penalty_last_n < -1) {
    return Fail("sampler: penalty_last_n must be >= -1 (-1: whole history), got %d",
                p.penalty_last_n);
  }
  std::vector<bool> banned(static_cast<size_t>(n_vocab), false);
  for (size_t i = 0; i < p.logit_bias.size(); ++i) {
    const auto [token, bias] = p.logit_bias[i];
    if (token < 0 || token >= n_vocab) {
      return Fail("sampler: logit_bias[%zu] names token %d, outside the vocabulary [0, %d)", i,
                  token, n_vocab);
    }
    if (std::isnan(bias) || bias == std::numeric_limits<float>::infinity()) {
      return Fail("sampler: logit_bias[%zu] for token %d must be a number or -inf, got %g", i,
                  token, static_cast<double>(bias));
    }
    if (bias == -std::numeric_limits<float>::infinity()) banned[static_cast<size_t>(token)] = true;
  }
  const auto first_allowed = std::find(banned.begin(), banned.end(), false);
  if (first_allowed == banned.end()) {
    return Fail("sampler: logit_bias bans all %d tokens of the vocabulary", n_vocab);
  }
  const auto fallback = static_cast<int32_t>(first_allowed - banned.begin());
  return Sampler(std::move(params), n_vocab, fallback);
}

Sampler::Sampler(SamplingParams params, int32_t n_vocab, int32_t fallback_token)
    : params_(std::move(params)),
      n_vocab_(n_vocab),
      fallback_token_(fallback_token),
      rng_(params_.seed) {}

// On first use, not at creation: a request waiting in the queue holds its
// sampler, and a thousand of them must not hold a vocabulary-sized buffer each.
void Sampler::AllocateBuffers() {
  logits_.resize(static_cast<size_t>(n_vocab_));
  const bool top_k_on = params_.top_k > 0 && params_.top_k < n_vocab_;
  const auto max_candidates = static_cast<size_t>(top_k_on ? params_.top_k : n_vocab_);
  candidates_.reserve(max_candidates);
  scratch_.reserve(max_candidates);
  bin_mass_.reserve(kMassBins);
  if (PenaltiesOn()) {
    slot_.assign(static_cast<size_t>(n_vocab_), -1);
    if (params_.penalty_last_n > 0) {
      window_.reserve(std::min<size_t>(static_cast<size_t>(params_.penalty_last_n), 4096));
    }
  }
}

bool Sampler::PenaltiesOn() const {
  return params_.penalty_last_n != 0 &&
         (params_.repetition_penalty != 1.0f || params_.presence_penalty != 0.0f ||
          params_.frequency_penalty != 0.0f);
}

int32_t Sampler::Sample(std::span<const float> logits) {
  AUTAN_CHECK(logits.size() == static_cast<size_t>(n_vocab_));
  if (logits_.empty()) AllocateBuffers();
  LoadLogits(logits);
  if (params_.temperature <= 0) return Greedy();
  SelectCandidates();
  if (candidates_.empty()) return fallback_token_;
  const double total = Softmax();
  // Min-p runs before top-p here, which picks the same tokens: both keep a
  // prefix of the same order, top-p measures its prefix against the total from
  // before min-p, and the ratio p / p_max does not change when top-p
  // renormalizes. Filtering first leaves top-p less to sort.
  MinP();
  TopP(total);
  return Draw();
}

void Sampler::LoadLogits(std::span<const float> logits) {
  std::copy(logits.begin(), logits.end(), logits_.begin());
  for (const auto& [token, bias] : params_.logit_bias) {
    logits_[static_cast<size_t>(token)] += bias;
  }
  if (!PenaltiesOn()) return;
  for (const Seen& seen : seen_) {
    float& logit = logits_[static_cast<size_t>(seen.token)];
    logit = Penalize(logit, seen.count, params_);
  }
}

int32_t Sampler::Greedy() const {
  // Starting from -inf with a strict > skips NaN and -inf, and keeps the lowest
  // id among ties.
  float best_logit = -std::numeric_limits<float>::infinity();
  int32_t best = -1;
  for (int32_t i = 0; i < n_vocab_; ++i) {
    if (logits_[static_cast<size_t>(i)] > best_logit) {
      best_logit = logits_[static_cast<size_t>(i)];
      best = i;
    }
  }
  return best >= 0 ? best : fallback_token_;
}

// Stage 4 and the candidate list: the top-k tokens, or every token that can be
// drawn (not NaN or -inf), with +inf clamped so that weights stay finite.
void Sampler::SelectCandidates() {
  const int32_t k = params_.top_k;
  candidates_.clear();
  sorted_ = false;  // in id order until sorted
  if (k <= 0 || k >= n_vocab_) {
    for (int32_t i = 0; i < n_vocab_; ++i) {
      const float logit = logits_[static_cast<size_t>(i)];
      if (logit > -std::numeric_limits<float>::infinity()) {
        candidates_.push_back({std::min(logit, FLT_MAX), i, 0.0});
      }
    }
    return;
  }
  // One pass with a heap of the k best so far, its worst on top: most tokens
  // only meet one comparison, against the worst logit kept. A later id never
  // beats an equal logit, so ties keep the lower id.
  for (int32_t i = 0; i < n_vocab_; ++i) {
    const float logit = std::min(logits_[static_cast<size_t>(i)], FLT_MAX);
    if (candidates_.size() < static_cast<size_t>(k)) {
      if (!(logit > -std::numeric_limits<float>::infinity())) continue;
      candidates_.push_back({logit, i, 0.0});
      std::push_heap(candidates_.begin(), candidates_.end(), Before{});
    } else if (logit > candidates_.front().logit) {
      std::pop_heap(candidates_.begin(), candidates_.end(), Before{});
      candidates_.back() = {logit, i, 0.0};
      std::push_heap(candidates_.begin(), candidates_.end(), Before{});
    }
  }
  std::sort_heap(candidates_.begin(), candidates_.end(), Before{});
  sorted_ = true;
}

double Sampler::Softmax() {
  float max_logit = candidates_[0].logit;
  if (!sorted_) {
    for (const Candidate& c : candidates_) max_logit = std::max(max_logit, c.logit);
  }
  // The largest logit gets weight exp(0) = 1 exactly, so p / p_max = weight.
  const double max = max_logit;
  const double inv_temperature = 1.0 / static_cast<double>(params_.temperature);
  const size_t n = candidates_.size();
  scratch_.resize(n);
  for (size_t i = 0; i < n; ++i) {
    scratch_[i] = (static_cast<double>(candidates_[i].logit) - max) * inv_temperature;
  }
  PortableExp(scratch_.data(), n);
  double total = 0;
  for (size_t i = 0; i < n; ++i) {
    candidates_[i].weight = scratch_[i];
    total += scratch_[i];
  }
  return total;
}

void Sampler::MinP() {
  if (params_.min_p <= 0) return;
  const double min_weight = params_.min_p;  // times p_max, whose weight is 1
  std::erase_if(candidates_, [&](const Candidate& c) { return c.weight < min_weight; });
}

void Sampler::TopP(double total) {
  if (params_.top_p >= 1) return;
  const double target = static_cast<double>(params_.top_p) * total;
  if (sorted_) {
    KeepPrefix(0, 0.0, target);
    return;
  }
  // Sorting up to 150k candidates would dominate the step. Instead, sum the
  // mass per weight bin (each bin is a run of consecutive candidates in
  // descending order), find the bin where the running mass reaches the
  // target, keep the bins before it as they are (in id order) and sort only
  // that bin.
  bin_mass_.assign(kMassBins, 0.0);
  for (const Candidate& c : candidates_) bin_mass_[MassBin(c.weight)] += c.weight;
  double mass = 0;
  size_t cut = 0;
  while (cut < kMassBins && mass + bin_mass_[cut] < target) mass += bin_mass_[cut++];
  if (cut == kMassBins) return;  // rounding left the target out of reach: keep all
  crossing_.clear();
  size_t kept = 0;
  for (const Candidate& c : candidates_) {
    const size_t bin = MassBin(c.weight);
    if (bin < cut) {
      candidates_[kept++] = c;
    } else if (bin == cut) {
      crossing_.push_back(c);
    }
  }
  std::sort(crossing_.begin(), crossing_.end(), Before{});
  candidates_.resize(kept);
  candidates_.insert(candidates_.end(), crossing_.begin(), crossing_.end());
  KeepPrefix(kept, mass, target);
}

// Keeps candidates_[0, i] for the first i >= from where the mass, adding
// weights from `from` on, reaches the target.
void Sampler::KeepPrefix(size_t from, double mass, double target) {
  for (size_t i = from; i < candidates_.size(); ++i) {
    mass += candidates_[i].weight;
    if (mass >= target) {
      candidates_.resize(i + 1);
      return;
    }
  }
}

int32_t Sampler::Draw() {
  double total = 0;
  for (const Candidate& c : candidates_) total += c.weight;
  const double u = rng_.Uniform() * total;
  double mass = 0;
  for (const Candidate& c : candidates_) {
    mass += c.weight;
    if (u < mass) return c.id;
  }
  // u rounded up to the total: take the last token that has any weight.
  for (auto it = candidates_.rbegin(); it != candidates_.rend(); ++it) {
    if (it->weight > 0) return it->id;
  }
  return candidates_.front().id;  // unreachable: p_max has weight 1
}

void Sampler::Accept(int32_t token) {
  AUTAN_CHECK(token >= 0 && token < n_vocab_);
  if (!PenaltiesOn()) return;
  if (logits_.empty()) AllocateBuffers();
  if (params_.penalty_last_n > 0) {
    const auto last_n = static_cast<size_t>(params_.penalty_last_n);
    if (window_.size() < last_n) {
      window_.push_back(token);
    } else {
      Uncount(window_[window_head_]);
      window_[window_head_] = token;
      window_head_ = (window_head_ + 1) % last_n;
    }
  }
  Count(token);
}

void Sampler::Count(int32_t token) {
  int32_t& slot = slot_[static_cast<size_t>(token)];
  if (slot < 0) {
    slot = static_cast<int32_t>(seen_.size());
    seen_.push_back({token, 0});
  }
  ++seen_[static_cast<size_t>(slot)].count;
}

void Sampler::Uncount(int32_t token) {
  const auto slot = static_cast<size_t>(slot_[static_cast<size_t>(token)]);
  if (--seen_[slot].count > 0) return;
  // Swap-remove: move the last entry into the freed slot.
  seen_[slot] = seen_.back();
  slot_[static_cast<size_t>(seen_[slot].token)] = static_cast<int32_t>(slot);
  seen_.pop_back();
  slot_[static_cast<size_t>(token)] = -1;
}

void Sampler::Reset() {
  for (const Seen& seen : seen_) slot_[static_cast<size_t>(seen.token)] = -1;
  seen_.clear();
  window_.clear();
  window_head_ = 0;
  rng_ = Rng(params_.seed);
}

}  // namespace autan
