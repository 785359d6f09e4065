#include "runtime/perplexity.h"

#include <algorithm>

#include "core/check.h"

namespace autan {
namespace {

size_t VocabOf(std::span<const float> logits, std::span<const int32_t> targets) {
  AUTAN_CHECK(!targets.empty() && logits.size() % targets.size() == 0);
  return logits.size() / targets.size();
}

}  // namespace

Result<PerplexityPlan> PlanPerplexity(size_t n_tokens, int32_t n_ctx, int32_t max_chunks) {
  if (n_ctx < 4) return Fail("context size %d too small for perplexity (at least 4)", n_ctx);
  if (n_tokens < 2 * static_cast<size_t>(n_ctx)) {
    return Fail("the text has %zu tokens; a context of %d needs at least %d", n_tokens, n_ctx,
                2 * n_ctx);
  }
  const size_t whole = n_tokens / static_cast<size_t>(n_ctx);
  const size_t n_chunks = max_chunks < 0 ? whole : std::min(whole, static_cast<size_t>(max_chunks));
  if (n_chunks == 0) return Fail("no chunk to evaluate (--chunks 0)");
  return PerplexityPlan{.n_ctx = n_ctx, .n_chunks = static_cast<int32_t>(n_chunks)};
}

Result<std::vector<float>> EvalPerplexityChunk(Session& session, std::span<const int32_t> tokens,
                                               const PerplexityPlan& plan, int32_t chunk) {
  AUTAN_CHECK(chunk >= 0 && chunk < plan.n_chunks);
  const size_t start = static_cast<size_t>(chunk) * static_cast<size_t>(plan.n_ctx);
  AUTAN_CHECK(start + static_cast<size_t>(plan.n_ctx) <= tokens.size());
  // The last position predicts beyond the chunk: neither it nor its keys are needed.
  std::vector<int32_t> input(tokens.begin() + static_cast<ptrdiff_t>(start),
                             tokens.begin() + static_cast<ptrdiff_t>(start) + plan.n_ctx - 1);
  const Tokenizer& tok = session.model().tokenizer();
  if (tok.add_bos() && tok.bos() >= 0) input[0] = tok.bos();
  session.Reset();
  return session.EvalAll(input, static_cast<size_t>(plan.first()));
}

std::span<const int32_t> ScoredTokens(std::span<const int32_t> tokens, const PerplexityPlan& plan,
                                      int32_t chunk) {
  const size_t start = static_cast<size_t>(chunk) * static_cast<size_t>(plan.n_ctx);
  return tokens.subspan(start + static_cast<size_t>(plan.first()) + 1,
                        static_cast<size_t>(plan.n_scored()));
}

std::vector<double> ScoreRows(std::span<const float> logits, std::span<const int32_t> targets,
                              ThreadPool& pool) {
  const size_t n_vocab = VocabOf(logits, targets);
  std::vector<double> nll(targets.size());
  pool.ParallelFor(targets.size(), [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      nll[i] = TokenNll(logits.subspan(i * n_vocab, n_vocab), targets[i]);
    }
  });
  return nll;
}

std::vector<double> EncodeRows(std::span<const float> logits, std::span<const int32_t> targets,
                               ThreadPool& pool, std::span<uint16_t> rows) {
  const size_t n_vocab = VocabOf(logits, targets);
  const size_t words = kld_base::RowWords(static_cast<int32_t>(n_vocab));
  AUTAN_CHECK(rows.size() == words * targets.size());
  std::vector<double> nll(targets.size());
  pool.ParallelFor(targets.size(), [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      nll[i] = EncodeLogProbs(logits.subspan(i * n_vocab, n_vocab), targets[i],
                              rows.subspan(i * words, words));
    }
  });
  return nll;
}

std::vector<KlToken> CompareRows(std::span<const float> logits, std::span<const int32_t> targets,
                                 const kld_base::File& base, int32_t chunk, ThreadPool& pool) {
  const size_t n_vocab = VocabOf(logits, targets);
  AUTAN_CHECK(n_vocab == static_cast<size_t>(base.n_vocab()));
  std::vector<KlToken> out(targets.size());
  pool.ParallelFor(targets.size(), [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      out[i] = CompareWithBase(logits.subspan(i * n_vocab, n_vocab),
                               base.row(chunk, static_cast<int32_t>(i)), targets[i]);
    }
  });
  return out;
}

}  // namespace autan
