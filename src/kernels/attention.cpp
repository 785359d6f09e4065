// KV row storage and the scalar reference attention; the SIMD kernel is in
// attention_hwy-inl.h.
#include "kernels/attention.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/check.h"
#include "core/dtype.h"
#include "core/fp16.h"
#include "kernels/quant.h"
#include "kernels/quant_blocks.h"

namespace autan::kernels {

size_t KvRowBytes(KvType type, size_t n) {
  if (type == KvType::kF16) return n * sizeof(uint16_t);
  AUTAN_CHECK(n % kQK == 0);
  return n / kQK * sizeof(BlockQ8_0);
}

void StoreKvRow(KvType type, const float* src, void* dst, size_t n) {
  if (type == KvType::kF16) {
    uint16_t* out = static_cast<uint16_t*>(dst);
    for (size_t i = 0; i < n; ++i) out[i] = Fp32ToFp16(src[i]);
    return;
  }
  AUTAN_CHECK(n % kQK == 0);
  QuantizeRow(DType::kQ8_0, src, dst, n);  // ggml's rounding: scale = max|x| / 127
}

namespace scalar {
namespace {

void ExpandRow(KvType type, const uint8_t* row, float* out, size_t n) {
  DequantizeRow(type == KvType::kF16 ? DType::kF16 : DType::kQ8_0, row, out, n);
}

}  // namespace

void AttendGroup(const GroupAttention& a) {
  const size_t hd = static_cast<size_t>(a.head_dim);
  std::vector<float> k(hd), v(hd), acc(hd);
  for (int32_t g = 0; g < a.n_q; ++g) {
    const float* q = a.q + g * hd;
    float max = -INFINITY;
    float sum = 0.0f;
    std::fill(acc.begin(), acc.end(), 0.0f);
    for (int32_t pos = a.first_pos; pos <= a.last_pos; ++pos) {
      const size_t offset = KvSlotRow(pos % a.capacity, a.blocks, a.block_size) * a.row_bytes;
      ExpandRow(a.type, a.k + offset, k.data(), hd);
      ExpandRow(a.type, a.v + offset, v.data(), hd);
      float dot = 0.0f;
      for (size_t d = 0; d < hd; ++d) dot += q[d] * k[d];
      const float s = dot * a.scale;
      if (s > max) {  // rescale what was summed under the old maximum
        const float correction = max == -INFINITY ? 0.0f : std::exp(max - s);
        sum *= correction;
        for (float& x : acc) x *= correction;
        max = s;
      }
      const float w = std::exp(s - max);
      sum += w;
      for (size_t d = 0; d < hd; ++d) acc[d] += w * v[d];
    }
    const float inv = 1.0f / sum;
    for (size_t d = 0; d < hd; ++d) a.out[g * hd + d] = acc[d] * inv;
  }
}

}  // namespace scalar
}  // namespace autan::kernels
