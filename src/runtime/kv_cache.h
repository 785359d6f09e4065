// One sequence's key/value cache. With a sliding window it is a ring of
// window + max_batch - 1 slots, so memory stays bounded however long the
// sequence grows; without one it holds the whole context.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "model/config.h"
#include "model/forward.h"

namespace autan {

// "f16" or "q8_0".
Result<KvType> ParseKvType(std::string_view name);
const char* KvTypeName(KvType type);

class KvCache {
 public:
  // Whether `type` can hold this model's heads (Q8_0 needs head_dim % 32 == 0).
  static Status Supports(const ModelConfig& config, KvType type);

  // n_ctx: most positions the sequence may reach; max_batch: most tokens of
  // this sequence in one forward call. `type` must pass Supports().
  KvCache(const ModelConfig& config, int32_t n_ctx, int32_t max_batch, KvType type = KvType::kF16);

  KvCacheView view() {
    return {.k = k_.data(),
            .v = v_.data(),
            .capacity = capacity_,
            .type = type_,
            .layer_rows = capacity_};
  }
  int32_t capacity() const { return capacity_; }
  KvType type() const { return type_; }
  size_t bytes() const { return k_.size() + v_.size(); }

  // Slots needed for these settings, without allocating (memory estimates).
  static int32_t Capacity(const ModelConfig& config, int32_t n_ctx, int32_t max_batch);

 private:
  int32_t capacity_;
  KvType type_;
  std::vector<uint8_t> k_;  // [n_layers][capacity][KvRowBytes(type, kv_dim)]
  std::vector<uint8_t> v_;
};

}  // namespace autan
