// Token sampler: turns one step of raw logits into the next token id.
//
// The chain, in this order (each stage is skipped when its parameter is off):
//   1. logit bias        logit += bias (a bias of -inf bans the token)
//   2. penalties         over the last penalty_last_n accepted tokens, for each
//                        token seen `count` times: repetition (llama.cpp: divide a
//                        positive logit, multiply a non-positive one), then
//                        logit -= frequency * count + presence
//   3. greedy            temperature <= 0: the argmax, ties to the lowest id;
//                        nothing below runs and no random number is drawn
//   4. top-k             the k largest logits
//   5. temperature       logit / temperature
//   6. softmax
//   7. top-p             the shortest prefix, by descending probability, whose
//                        mass is >= top_p
//   8. min-p             tokens with p >= min_p * p_max
//   9. renormalize, then draw with one uniform from the sampler's own Rng.
// Ties in ordering always go to the lower token id, and every sum runs in a
// fixed order with a portable exp, so the same parameters, seed and logits give
// the same tokens on every machine.
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "core/result.h"
#include "core/rng.h"

namespace autan {

struct SamplingParams {
  float temperature = 0.8f;         // <= 0: greedy
  int32_t top_k = 40;               // <= 0: off
  float top_p = 0.95f;              // 1: off
  float min_p = 0.05f;              // 0: off
  float repetition_penalty = 1.0f;  // 1: off
  float presence_penalty = 0.0f;    // OpenAI: logit -= presence * (count > 0)
  float frequency_penalty = 0.0f;   // OpenAI: logit -= frequency * count
  int32_t penalty_last_n = 64;      // recent tokens the penalties see; -1: all, 0: none
  std::vector<std::pair<int32_t, float>> logit_bias;  // (token, bias); repeats add up
  uint64_t seed = 0;
};

// One per generated sequence; not thread-safe, cheap to keep per session.
class Sampler {
 public:
  // Checks every parameter against n_vocab; the error names the bad field.
  static Result<Sampler> Create(SamplingParams params, int32_t n_vocab);

  // Picks the next token from n_vocab raw logits (left untouched). NaN logits
  // are never picked and +inf counts as the largest float. Should every token be
  // excluded (all -inf or NaN), returns the lowest id the logit bias does not ban.
  int32_t Sample(std::span<const float> logits);

  // Records a token of the sequence (prompt or generated) for the penalties;
  // token must be in [0, n_vocab).
  void Accept(int32_t token);

  // Forgets the history and restarts the random stream from the seed.
  void Reset();

  const SamplingParams& params() const { return params_; }
  int32_t n_vocab() const { return n_vocab_; }

 private:
  // A token still in play, with its (biased, penalized) logit and, once the
  // softmax ran, its unnormalized weight exp((logit - max) / temperature).
  struct Candidate {
    float logit;
    int32_t id;
    double weight;
  };

  Sampler(SamplingParams params, int32_t n_vocab, int32_t fallback_token);

  void LoadLogits(std::span<const float> logits);  // stages 1-2
  int32_t Greedy() const;
  void SelectCandidates();
  double Softmax();  // returns the total weight
  void MinP();
  void TopP(double total);
  void KeepPrefix(size_t from, double mass, double target);
  int32_t Draw();

  // Penalty bookkeeping: each token seen in the window has a slot in seen_.
  void Count(int32_t token);
  void Uncount(int32_t token);
  bool PenaltiesOn() const;
  void AllocateBuffers();

  SamplingParams params_;
  int32_t n_vocab_;
  int32_t fallback_token_;  // lowest id not banned by the bias
  Rng rng_;

  // Buffers reused by every call, allocated by the first Sample or Accept:
  // they reach their size on the first calls, after which sampling allocates
  // nothing.
  std::vector<float> logits_;          // [n_vocab] biased, penalized logits
  std::vector<Candidate> candidates_;  // the tokens still in play
  bool sorted_ = false;                // candidates_ by descending logit, then id (else by id)
  std::vector<double> scratch_;        // softmax arguments, then weights
  std::vector<double> bin_mass_;       // top-p: mass per weight bin
  std::vector<Candidate> crossing_;    // top-p: the bin where the mass reaches top_p

  struct Seen {
    int32_t token;
    int32_t count;
  };
  std::vector<Seen> seen_;       // tokens with count > 0 in the window
  std::vector<int32_t> slot_;    // [n_vocab] index into seen_, -1 if unseen
  std::vector<int32_t> window_;  // ring buffer of the last penalty_last_n tokens
  size_t window_head_ = 0;       // oldest entry once the ring is full
};

}  // namespace autan
