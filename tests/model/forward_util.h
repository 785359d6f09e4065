// The logits of every position of `tokens`, from a fresh F16 KV cache: in one
// batch, or one token per forward pass (`one_by_one`), as decoding runs.
#pragma once

#include <cstdint>
#include <vector>

#include "core/thread_pool.h"
#include "model/model.h"
#include "runtime/kv_cache.h"

namespace autan::testing {

inline std::vector<float> AllLogits(const Model& m, const std::vector<int32_t>& tokens,
                                    bool one_by_one = false) {
  const size_t n_vocab = static_cast<size_t>(m.config().n_vocab);
  KvCache cache(m.config(), 64, static_cast<int32_t>(tokens.size()), KvType::kF16);
  ForwardScratch scratch;
  ThreadPool pool(2);
  std::vector<float> logits(tokens.size() * n_vocab);
  const size_t step = one_by_one ? 1 : tokens.size();
  for (size_t i = 0; i < tokens.size(); i += step) {
    Batch b;
    for (size_t j = i; j < i + step; ++j) b.Add(tokens[j], static_cast<int32_t>(j), 0, true);
    const KvCacheView view = cache.view();
    m.Forward(b, {&view, 1}, scratch, pool, &logits[i * n_vocab]);
  }
  return logits;
}

}  // namespace autan::testing
