// Perplexity by llama.cpp's method (llama-perplexity): the text, tokenized
// with BOS, is cut into chunks of n_ctx tokens; each chunk is evaluated on its
// own with its first token replaced by BOS, and only the second half of the
// window is scored, so every scored token has at least n_ctx / 2 tokens of
// context.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/result.h"
#include "core/thread_pool.h"
#include "formats/kld_base.h"
#include "runtime/logprob_stats.h"
#include "runtime/session.h"

namespace autan {

struct PerplexityPlan {
  int32_t n_ctx = 0;
  int32_t n_chunks = 0;

  int32_t first() const { return n_ctx / 2; }  // first scored position
  int32_t n_scored() const { return kld_base::ScoredPerChunk(n_ctx); }
};

// Fails, as llama.cpp does, when the text has fewer than 2 * n_ctx tokens.
// max_chunks < 0: every whole chunk of the text.
Result<PerplexityPlan> PlanPerplexity(size_t n_tokens, int32_t n_ctx, int32_t max_chunks);

// The logits of chunk `chunk`'s scored positions, [n_scored][n_vocab]: row i
// predicts tokens[chunk * n_ctx + first + 1 + i]. Restarts the session, whose
// n_ctx must be at least plan.n_ctx.
Result<std::vector<float>> EvalPerplexityChunk(Session& session, std::span<const int32_t> tokens,
                                               const PerplexityPlan& plan, int32_t chunk);

// The tokens the rows of chunk `chunk` predict, [n_scored].
std::span<const int32_t> ScoredTokens(std::span<const int32_t> tokens, const PerplexityPlan& plan,
                                      int32_t chunk);

// Per scored row, on all threads (each row on one thread, so the values do
// not depend on the thread count): -log p of its token; the same while
// encoding each row for a KL-divergence base file (`rows`: n_scored *
// RowWords words); or the row compared with the base file's.
std::vector<double> ScoreRows(std::span<const float> logits, std::span<const int32_t> targets,
                              ThreadPool& pool);
std::vector<double> EncodeRows(std::span<const float> logits, std::span<const int32_t> targets,
                               ThreadPool& pool, std::span<uint16_t> rows);
std::vector<KlToken> CompareRows(std::span<const float> logits, std::span<const int32_t> targets,
                                 const kld_base::File& base, int32_t chunk, ThreadPool& pool);

}  // namespace autan
