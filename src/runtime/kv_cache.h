// One sequence's key/value cache. With a sliding window it is a ring of
// window + max_batch - 1 slots, so memory stays bounded however long the
// sequence grows; without one it holds the whole context.
#pragma once

#include <cstdint>
#include <vector>

#include "model/config.h"
#include "model/forward.h"

namespace autan {

class KvCache {
 public:
  // n_ctx: most positions the sequence may reach; max_batch: most tokens of
  // this sequence in one forward call.
  KvCache(const ModelConfig& config, int32_t n_ctx, int32_t max_batch);

  KvCacheView view() { return {k_.data(), v_.data(), capacity_}; }
  int32_t capacity() const { return capacity_; }
  size_t bytes() const { return (k_.size() + v_.size()) * sizeof(uint16_t); }

  // Slots needed for these settings, without allocating (memory estimates).
  static int32_t Capacity(const ModelConfig& config, int32_t n_ctx, int32_t max_batch);

 private:
  int32_t capacity_;
  std::vector<uint16_t> k_;  // f16 [n_layers][capacity][kv_dim]
  std::vector<uint16_t> v_;
};

}  // namespace autan
