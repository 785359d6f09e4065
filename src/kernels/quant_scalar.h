// The scalar reference kernel of each type, called by the dispatch in
// quant.cpp. SIMD kernels added later are tested against these. `n` counts
// values and is a multiple of the block size (checked by the callers in
// quant.cpp). Arithmetic follows llama.cpp's reference quantizers and scalar
// vec_dot fallbacks operation by operation, so results match bit for bit.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>

#include "kernels/quant_blocks.h"

namespace autan::kernels::scalar {

// Round to nearest, ties to even, independent of the floating-point
// environment (valid for |x| < 2^22, as in ggml's nearest_int).
inline int NearestInt(float x) {
  const float shifted = x + 12582912.0f;  // 1.5 * 2^23: the integer lands in the low mantissa
  return static_cast<int>(std::bit_cast<uint32_t>(shifted) & 0x007fffffu) - 0x00400000;
}

// Sub-block j (0..7) scale and min of a Q4_K/Q5_K block: 6 bits each, packed
// in 12 bytes. j < 4: low 6 bits of bytes j and j + 4. j >= 4: low nibbles
// from byte j + 4 (scale) and its high nibble (min), top 2 bits from the top
// bits of bytes j - 4 (scale) and j (min).
inline void UnpackScaleMinK4(int j, const uint8_t* q, uint8_t* scale, uint8_t* min) {
  if (j < 4) {
    *scale = q[j] & 63;
    *min = q[j + 4] & 63;
  } else {
    *scale = static_cast<uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
    *min = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

// Legacy 32-value blocks (quant_legacy.cpp).
void QuantizeQ4_0(const float* x, BlockQ4_0* y, size_t n);
void QuantizeQ4_1(const float* x, BlockQ4_1* y, size_t n);
void QuantizeQ5_0(const float* x, BlockQ5_0* y, size_t n);
void QuantizeQ5_1(const float* x, BlockQ5_1* y, size_t n);
void QuantizeQ8_0(const float* x, BlockQ8_0* y, size_t n);
void QuantizeQ8_1(const float* x, BlockQ8_1* y, size_t n);
void DequantizeQ4_0(const BlockQ4_0* x, float* y, size_t n);
void DequantizeQ4_1(const BlockQ4_1* x, float* y, size_t n);
void DequantizeQ5_0(const BlockQ5_0* x, float* y, size_t n);
void DequantizeQ5_1(const BlockQ5_1* x, float* y, size_t n);
void DequantizeQ8_0(const BlockQ8_0* x, float* y, size_t n);
void DequantizeQ8_1(const BlockQ8_1* x, float* y, size_t n);
float DotQ4_0(size_t n, const BlockQ4_0* w, const BlockQ8_0* x);
float DotQ4_1(size_t n, const BlockQ4_1* w, const BlockQ8_1* x);
float DotQ5_0(size_t n, const BlockQ5_0* w, const BlockQ8_0* x);
float DotQ5_1(size_t n, const BlockQ5_1* w, const BlockQ8_1* x);
float DotQ8_0(size_t n, const BlockQ8_0* w, const BlockQ8_0* x);

// 256-value super-blocks (quant_k.cpp).
void QuantizeQ4_K(const float* x, BlockQ4_K* y, size_t n);
void QuantizeQ5_K(const float* x, BlockQ5_K* y, size_t n);
void QuantizeQ6_K(const float* x, BlockQ6_K* y, size_t n);
void QuantizeQ8_K(const float* x, BlockQ8_K* y, size_t n);
void DequantizeQ4_K(const BlockQ4_K* x, float* y, size_t n);
void DequantizeQ5_K(const BlockQ5_K* x, float* y, size_t n);
void DequantizeQ6_K(const BlockQ6_K* x, float* y, size_t n);
void DequantizeQ8_K(const BlockQ8_K* x, float* y, size_t n);
float DotQ4_K(size_t n, const BlockQ4_K* w, const BlockQ8_K* x);
float DotQ5_K(size_t n, const BlockQ5_K* w, const BlockQ8_K* x);
float DotQ6_K(size_t n, const BlockQ6_K* w, const BlockQ8_K* x);

// Float types (quant.cpp): products in float, summed in double as ggml's
// scalar dots do.
float DotF32(size_t n, const float* w, const float* x);
float DotF16(size_t n, const uint16_t* w, const uint16_t* x);
float DotBF16(size_t n, const uint16_t* w, const uint16_t* x);

}  // namespace autan::kernels::scalar
