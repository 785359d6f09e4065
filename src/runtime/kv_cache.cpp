#include "runtime/kv_cache.h"

#include <algorithm>

namespace autan {

int32_t KvCache::Capacity(const ModelConfig& config, int32_t n_ctx, int32_t max_batch) {
  if (config.sliding_window <= 0) return n_ctx;
  return std::min(n_ctx, config.sliding_window + max_batch - 1);
}

KvCache::KvCache(const ModelConfig& config, int32_t n_ctx, int32_t max_batch)
    : capacity_(Capacity(config, n_ctx, max_batch)) {
  const size_t n = static_cast<size_t>(config.n_layers) * capacity_ * config.kv_dim();
  k_.assign(n, 0);
  v_.assign(n, 0);
}

}  // namespace autan
