#include "kernels/attention.h"

#include "core/fp16.h"
#include "kernels/ops.h"

namespace autan::kernels {

void AttendHead(const HeadAttention& a) {
  const int32_t n = a.last_pos - a.first_pos + 1;
  for (int32_t i = 0; i < n; ++i) {
    const uint16_t* k = a.k + static_cast<size_t>((a.first_pos + i) % a.capacity) * a.row_stride;
    float dot = 0.0f;
    for (int32_t d = 0; d < a.head_dim; ++d) dot += a.q[d] * Fp16ToFp32(k[d]);
    a.scores[i] = dot * a.scale;
  }
  Softmax(a.scores, static_cast<size_t>(n));
  for (int32_t d = 0; d < a.head_dim; ++d) a.out[d] = 0.0f;
  for (int32_t i = 0; i < n; ++i) {
    const uint16_t* v = a.v + static_cast<size_t>((a.first_pos + i) % a.capacity) * a.row_stride;
    const float w = a.scores[i];
    for (int32_t d = 0; d < a.head_dim; ++d) a.out[d] += w * Fp16ToFp32(v[d]);
  }
}

}  // namespace autan::kernels
