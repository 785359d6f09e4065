// Scaled dot-product attention of one query head over a span of cached
// positions. Keys and values are stored as f16 in a ring of `capacity` slots:
// position p lives in slot p % capacity.
#pragma once

#include <cstddef>
#include <cstdint>

namespace autan::kernels {

struct HeadAttention {
  const float* q;     // [head_dim]
  const uint16_t* k;  // slot 0 of this layer, this kv head: slot s at k + s * row_stride
  const uint16_t* v;  // same layout as k
  size_t row_stride;  // elements between consecutive slots
  int32_t capacity;   // ring size in slots
  int32_t first_pos;  // first visible position (inclusive)
  int32_t last_pos;   // last visible position (inclusive)
  int32_t head_dim;
  float scale;    // usually 1/sqrt(head_dim)
  float* scores;  // scratch of at least last_pos - first_pos + 1 floats
  float* out;     // [head_dim]
};

void AttendHead(const HeadAttention& a);

}  // namespace autan::kernels
