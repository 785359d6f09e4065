// Scaled dot-product attention of the query heads that share one KV head
// (grouped-query attention) over a span of cached positions. Keys and values
// live in a ring of `capacity` slots: position p is in slot p % capacity.
// Slots are either contiguous rows or, in a paged cache, rows of fixed-size
// blocks named by a block table.
#pragma once

#include <cstddef>
#include <cstdint>

namespace autan::kernels {

// How cached keys and values are stored. kQ8_0 uses ggml's Q8_0 blocks
// (an f16 scale and 32 int8 values), so each head's slice of a row must be a
// multiple of 32 values.
enum class KvType : uint8_t { kF16, kQ8_0 };

inline constexpr int kMaxHeadDim = 1024;  // as ModelConfig::Validate allows

// Bytes taken by `n` cached values (n a multiple of 32 for kQ8_0); also the
// byte offset of value n within a row, for n a multiple of 32.
size_t KvRowBytes(KvType type, size_t n);

// Stores `n` floats as one cached row (or a head's slice of one) at `dst`.
void StoreKvRow(KvType type, const float* src, void* dst, size_t n);

// Row of the storage that holds `slot`: the slot itself in a contiguous
// cache; with a block table, row (slot % block_size) of block
// blocks[slot / block_size].
inline size_t KvSlotRow(int32_t slot, const int32_t* blocks, int32_t block_size) {
  if (blocks == nullptr) return static_cast<size_t>(slot);
  return static_cast<size_t>(blocks[slot / block_size]) * static_cast<size_t>(block_size) +
         static_cast<size_t>(slot % block_size);
}

struct GroupAttention {
  const float* q;    // [n_q][head_dim]: query heads sharing this KV head
  int32_t n_q;       // number of those heads
  const uint8_t* k;  // this layer and KV head in storage row 0; row r at k + r * row_bytes
  const uint8_t* v;  // same layout as k
  size_t row_bytes;  // bytes between consecutive rows
  KvType type;
  int32_t capacity;                 // ring size in slots
  const int32_t* blocks = nullptr;  // block table (see KvSlotRow), or null when contiguous
  int32_t block_size = 0;           // slots per block when paged
  int32_t first_pos;                // first visible position (inclusive)
  int32_t last_pos;                 // last visible position (inclusive)
  int32_t head_dim;                 // at most kMaxHeadDim
  float scale;                      // usually 1/sqrt(head_dim)
  float* out;                       // [n_q][head_dim]
};

// One pass over keys and values with an online softmax (running maximum and
// sum), reading each cached row once for all n_q queries. SIMD, dispatched to
// the best target of the CPU. Each query's result depends only on that query
// and the cache, never on n_q or on the other queries.
void AttendGroup(const GroupAttention& a);

namespace scalar {
// Reference: per query, a straightforward online softmax one position at a time.
void AttendGroup(const GroupAttention& a);
}  // namespace scalar

}  // namespace autan::kernels
