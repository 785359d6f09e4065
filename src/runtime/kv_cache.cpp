#include "runtime/kv_cache.h"

#include <algorithm>

#include "core/check.h"

namespace autan {

Result<KvType> ParseKvType(std::string_view name) {
  if (name == "f16") return KvType::kF16;
  if (name == "q8_0") return KvType::kQ8_0;
  return Fail("unknown KV cache type '%.*s' (expected f16 or q8_0)", static_cast<int>(name.size()),
              name.data());
}

const char* KvTypeName(KvType type) { return type == KvType::kF16 ? "f16" : "q8_0"; }

Status KvCache::Supports(const ModelConfig& config, KvType type) {
  if (type == KvType::kQ8_0 && config.head_dim % 32 != 0) {
    return Fail(
        "KV cache type q8_0 needs a head dimension that is a multiple of 32; this model's "
        "is %d (use f16)",
        config.head_dim);
  }
  return {};
}

int32_t KvCache::Capacity(const ModelConfig& config, int32_t n_ctx, int32_t max_batch) {
  if (config.sliding_window <= 0) return n_ctx;
  return std::min(n_ctx, config.sliding_window + max_batch - 1);
}

KvCache::KvCache(const ModelConfig& config, int32_t n_ctx, int32_t max_batch, KvType type)
    : capacity_(Capacity(config, n_ctx, max_batch)), type_(type) {
  AUTAN_CHECK(Supports(config, type).ok());
  const size_t row = kernels::KvRowBytes(type, static_cast<size_t>(config.kv_dim()));
  const size_t n = static_cast<size_t>(config.n_layers) * capacity_ * row;
  k_.assign(n, 0);
  v_.assign(n, 0);
}

}  // namespace autan
