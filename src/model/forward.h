// What one forward call consumes and produces. A batch holds tokens of one
// or more sequences; each sequence brings a view of its own KV cache.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/attention.h"

namespace autan {

using kernels::KvType;

// One sequence's keys and values, stored as `type` (rows of
// kernels::KvRowBytes(type, kv_dim) bytes). Position p lives in slot
// p % capacity. A sliding-window sequence needs capacity >= window + (tokens
// of that sequence in one batch) - 1 so that a batch never overwrites a
// position one of its own tokens still sees.
//
// Storage is [n_layers][layer_rows][kv_dim] for k and v each. Contiguous
// (blocks == null): slot s is row s and layer_rows == capacity. Paged: slot s
// is row s % block_size of block blocks[s / block_size] (kernels::KvSlotRow),
// and the storage is a pool of blocks shared with other sequences.
struct KvCacheView {
  uint8_t* k = nullptr;
  uint8_t* v = nullptr;
  int32_t capacity = 0;
  KvType type = KvType::kF16;
  const int32_t* blocks = nullptr;
  int32_t block_size = 0;
  int32_t layer_rows = 0;  // rows per layer in the storage

  size_t Row(int32_t slot) const { return kernels::KvSlotRow(slot, blocks, block_size); }
};

struct Batch {
  std::vector<int32_t> tokens;
  std::vector<int32_t> positions;  // position of each token in its sequence
  std::vector<int32_t> seq;        // index into the caches passed with the batch
  std::vector<uint8_t> want_logits;

  size_t size() const { return tokens.size(); }
  void Add(int32_t token, int32_t pos, int32_t seq_index, bool logits) {
    tokens.push_back(token);
    positions.push_back(pos);
    seq.push_back(seq_index);
    want_logits.push_back(logits ? 1 : 0);
  }
  void Clear() {
    tokens.clear();
    positions.clear();
    seq.clear();
    want_logits.clear();
  }
};

// Activation buffers reused across calls so a decode step allocates nothing.
struct ForwardScratch {
  std::vector<float> x, xb, q, k, v, att, hb, hb2, out;
  std::vector<float> rope;  // [n_tokens][2][rope_dims]: RoPE tables (kernels::RopeAngles)
  std::vector<uint8_t> matmul;
  std::vector<int32_t> logit_rows;
  // Mixture-of-experts routing and the rows of each expert's product.
  std::vector<float> moe_logits, moe_weight, moe_in, moe_y;
  std::vector<int32_t> moe_expert, moe_order, moe_picks;
};

}  // namespace autan
