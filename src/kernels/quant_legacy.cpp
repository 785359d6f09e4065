// Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 and Q8_1: 32 values per block. Quantizers
// round as llama.cpp's quantize_row_*_ref, dots follow its scalar
// ggml_vec_dot_*_q8_* fallbacks (integer sum per block, then the scales, in
// the same float operation order).
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>

#include "core/fp16.h"
#include "kernels/quant_scalar.h"

namespace autan::kernels::scalar {
namespace {

constexpr size_t kHalf = kQK / 2;

// Value with the largest magnitude (the first one on ties), keeping its sign.
float SignedAbsMax(const float* x, size_t n) {
  float amax = 0.0f;
  float max = 0.0f;
  for (size_t j = 0; j < n; ++j) {
    if (amax < std::fabs(x[j])) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  return max;
}

float AbsMax(const float* x, size_t n) {
  float amax = 0.0f;
  for (size_t j = 0; j < n; ++j) amax = std::max(amax, std::fabs(x[j]));
  return amax;
}

void MinMax(const float* x, size_t n, float* min, float* max) {
  *min = FLT_MAX;
  *max = -FLT_MAX;
  for (size_t j = 0; j < n; ++j) {
    *min = std::min(*min, x[j]);
    *max = std::max(*max, x[j]);
  }
}

// Bit 4 of the 32 quants of a Q5 block, one bit per value (little-endian).
uint32_t LoadHighBits(const uint8_t qh[4]) {
  return static_cast<uint32_t>(qh[0]) | static_cast<uint32_t>(qh[1]) << 8 |
         static_cast<uint32_t>(qh[2]) << 16 | static_cast<uint32_t>(qh[3]) << 24;
}

void StoreHighBits(uint32_t bits, uint8_t qh[4]) {
  for (int k = 0; k < 4; ++k) qh[k] = static_cast<uint8_t>(bits >> (8 * k));
}

// Symmetric 4/5-bit quantization: d = max / -half_range so the extreme value
// maps to q = 0, the others to round(x/d) + half_range clamped to the top code.
template <int kHalfRange>
void QuantizeSymmetric(const float* x, uint16_t* d_out, uint8_t* q) {
  const float d = SignedAbsMax(x, kQK) / -static_cast<float>(kHalfRange);
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  *d_out = Fp32ToFp16(d);
  for (size_t j = 0; j < kQK; ++j) {
    // Truncation of a value >= 0 after adding half_range + 0.5: round half up.
    const int v = static_cast<int>(x[j] * id + (static_cast<float>(kHalfRange) + 0.5f));
    q[j] = static_cast<uint8_t>(std::min(2 * kHalfRange - 1, v));
  }
}

// Asymmetric quantization: x = d * q + min with q in [0, levels - 1].
template <int kLevels>
void QuantizeAffine(const float* x, uint16_t* d_out, uint16_t* m_out, uint8_t* q) {
  float min;
  float max;
  MinMax(x, kQK, &min, &max);
  const float d = (max - min) / static_cast<float>(kLevels - 1);
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  *d_out = Fp32ToFp16(d);
  *m_out = Fp32ToFp16(min);
  for (size_t j = 0; j < kQK; ++j) {
    const int v = static_cast<int>((x[j] - min) * id + 0.5f);
    q[j] = static_cast<uint8_t>(std::min(kLevels - 1, v));
  }
}

void PackNibbles(const uint8_t* q, uint8_t* qs) {
  for (size_t j = 0; j < kHalf; ++j) {
    qs[j] = static_cast<uint8_t>((q[j] & 0xF) | ((q[j + kHalf] & 0xF) << 4));
  }
}

uint32_t PackHighBits(const uint8_t* q) {
  uint32_t bits = 0;
  for (size_t j = 0; j < kQK; ++j) bits |= static_cast<uint32_t>((q[j] >> 4) & 1) << j;
  return bits;
}

// Quants of a Q8_0/Q8_1 block; returns the scale d = amax / 127 unrounded.
float QuantizeQ8Block(const float* x, int8_t* qs) {
  const float d = AbsMax(x, kQK) / 127.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  // std::round: half away from zero, like roundf in the reference.
  for (size_t j = 0; j < kQK; ++j) qs[j] = static_cast<int8_t>(std::round(x[j] * id));
  return d;
}

// The two halves of a 4-bit block: value j is the low nibble of qs[j], value
// j + 16 its high nibble.
int LowNibble(const uint8_t* qs, size_t j) { return qs[j] & 0xF; }
int HighNibble(const uint8_t* qs, size_t j) { return qs[j] >> 4; }

// 5-bit values j and j + 16 of a Q5 block.
int Q5Low(const uint8_t* qs, uint32_t qh, size_t j) {
  return LowNibble(qs, j) | static_cast<int>(((qh >> j) & 1) << 4);
}
int Q5High(const uint8_t* qs, uint32_t qh, size_t j) {
  return HighNibble(qs, j) | static_cast<int>(((qh >> (j + kHalf)) & 1) << 4);
}

}  // namespace

void QuantizeQ4_0(const float* x, BlockQ4_0* y, size_t n) {
  for (size_t i = 0; i < n / kQK; ++i, x += kQK) {
    uint8_t q[kQK];
    QuantizeSymmetric<8>(x, &y[i].d, q);
    PackNibbles(q, y[i].qs);
  }
}

void QuantizeQ4_1(const float* x, BlockQ4_1* y, size_t n) {
  for (size_t i = 0; i < n / kQK; ++i, x += kQK) {
    uint8_t q[kQK];
    QuantizeAffine<16>(x, &y[i].d, &y[i].m, q);
    PackNibbles(q, y[i].qs);
  }
}

void QuantizeQ5_0(const float* x, BlockQ5_0* y, size_t n) {
  for (size_t i = 0; i < n / kQK; ++i, x += kQK) {
    uint8_t q[kQK];
    QuantizeSymmetric<16>(x, &y[i].d, q);
    PackNibbles(q, y[i].qs);
    StoreHighBits(PackHighBits(q), y[i].qh);
  }
}

void QuantizeQ5_1(const float* x, BlockQ5_1* y, size_t n) {
  for (size_t i = 0; i < n / kQK; ++i, x += kQK) {
    uint8_t q[kQK];
    QuantizeAffine<32>(x, &y[i].d, &y[i].m, q);
    PackNibbles(q, y[i].qs);
    StoreHighBits(PackHighBits(q), y[i].qh);
  }
}

void QuantizeQ8_0(const float* x, BlockQ8_0* y, size_t n) {
  for (size_t i = 0; i < n / kQK; ++i, x += kQK) {
    y[i].d = Fp32ToFp16(QuantizeQ8Block(x, y[i].qs));
  }
}

void QuantizeQ8_1(const float* x, BlockQ8_1* y, size_t n) {
  for (size_t i = 0; i < n / kQK; ++i, x += kQK) {
    const float d = QuantizeQ8Block(x, y[i].qs);
    int sum = 0;
    for (size_t j = 0; j < kQK; ++j) sum += y[i].qs[j];
    y[i].d = Fp32ToFp16(d);
    y[i].s = Fp32ToFp16(static_cast<float>(sum) * d);
  }
}

void DequantizeQ4_0(const BlockQ4_0* x, float* y, size_t n) {
  for (size_t i = 0; i < n / kQK; ++i, y += kQK) {
    const float d = Fp16ToFp32(x[i].d);
    for (size_t j = 0; j < kHalf; ++j) {
      y[j] = static_cast<float>(LowNibble(x[i].qs, j) - 8) * d;
      y[j + kHalf] = static_cast<float>(HighNibble(x[i].qs, j) - 8) * d;
    }
  }
}

void DequantizeQ4_1(const BlockQ4_1* x, float* y, size_t n) {
  for (size_t i = 0; i < n / kQK; ++i, y += kQK) {
    const float d = Fp16ToFp32(x[i].d);
    const float m = Fp16ToFp32(x[i].m);
    for (size_t j = 0; j < kHalf; ++j) {
      y[j] = static_cast<float>(LowNibble(x[i].qs, j)) * d + m;
      y[j + kHalf] = static_cast<float>(HighNibble(x[i].qs, j)) * d + m;
    }
  }
}

void DequantizeQ5_0(const BlockQ5_0* x, float* y, size_t n) {
  for (size_t i = 0; i < n / kQK; ++i, y += kQK) {
    const float d = Fp16ToFp32(x[i].d);
    const uint32_t qh = LoadHighBits(x[i].qh);
    for (size_t j = 0; j < kHalf; ++j) {
      y[j] = static_cast<float>(Q5Low(x[i].qs, qh, j) - 16) * d;
      y[j + kHalf] = static_cast<float>(Q5High(x[i].qs, qh, j) - 16) * d;
    }
  }
}

void DequantizeQ5_1(const BlockQ5_1* x, float* y, size_t n) {
  for (size_t i = 0; i < n / kQK; ++i, y += kQK) {
    const float d = Fp16ToFp32(x[i].d);
    const float m = Fp16ToFp32(x[i].m);
    const uint32_t qh = LoadHighBits(x[i].qh);
    for (size_t j = 0; j < kHalf; ++j) {
      y[j] = static_cast<float>(Q5Low(x[i].qs, qh, j)) * d + m;
      y[j + kHalf] = static_cast<float>(Q5High(x[i].qs, qh, j)) * d + m;
    }
  }
}

void DequantizeQ8_0(const BlockQ8_0* x, float* y, size_t n) {
  for (size_t i = 0; i < n / kQK; ++i, y += kQK) {
    const float d = Fp16ToFp32(x[i].d);
    for (size_t j = 0; j < kQK; ++j) y[j] = static_cast<float>(x[i].qs[j]) * d;
  }
}

void DequantizeQ8_1(const BlockQ8_1* x, float* y, size_t n) {
  for (size_t i = 0; i < n / kQK; ++i, y += kQK) {
    const float d = Fp16ToFp32(x[i].d);
    for (size_t j = 0; j < kQK; ++j) y[j] = static_cast<float>(x[i].qs[j]) * d;
  }
}

// The float expressions below keep the reference's operation order, which
// differs between types; changing it changes the last bits of the result.

float DotQ4_0(size_t n, const BlockQ4_0* w, const BlockQ8_0* x) {
  float sum = 0.0f;
  for (size_t i = 0; i < n / kQK; ++i) {
    int sumi = 0;
    for (size_t j = 0; j < kHalf; ++j) {
      sumi += (LowNibble(w[i].qs, j) - 8) * x[i].qs[j];
      sumi += (HighNibble(w[i].qs, j) - 8) * x[i].qs[j + kHalf];
    }
    sum += static_cast<float>(sumi) * Fp16ToFp32(w[i].d) * Fp16ToFp32(x[i].d);
  }
  return sum;
}

float DotQ4_1(size_t n, const BlockQ4_1* w, const BlockQ8_1* x) {
  float sum = 0.0f;
  for (size_t i = 0; i < n / kQK; ++i) {
    int sumi = 0;
    for (size_t j = 0; j < kHalf; ++j) {
      sumi += LowNibble(w[i].qs, j) * x[i].qs[j];
      sumi += HighNibble(w[i].qs, j) * x[i].qs[j + kHalf];
    }
    sum += (Fp16ToFp32(w[i].d) * Fp16ToFp32(x[i].d)) * static_cast<float>(sumi) +
           Fp16ToFp32(w[i].m) * Fp16ToFp32(x[i].s);
  }
  return sum;
}

float DotQ5_0(size_t n, const BlockQ5_0* w, const BlockQ8_0* x) {
  float sum = 0.0f;
  for (size_t i = 0; i < n / kQK; ++i) {
    const uint32_t qh = LoadHighBits(w[i].qh);
    int sumi = 0;
    for (size_t j = 0; j < kHalf; ++j) {
      sumi += (Q5Low(w[i].qs, qh, j) - 16) * x[i].qs[j];
      sumi += (Q5High(w[i].qs, qh, j) - 16) * x[i].qs[j + kHalf];
    }
    sum += (Fp16ToFp32(w[i].d) * Fp16ToFp32(x[i].d)) * static_cast<float>(sumi);
  }
  return sum;
}

float DotQ5_1(size_t n, const BlockQ5_1* w, const BlockQ8_1* x) {
  float sum = 0.0f;
  for (size_t i = 0; i < n / kQK; ++i) {
    const uint32_t qh = LoadHighBits(w[i].qh);
    int sumi = 0;
    for (size_t j = 0; j < kHalf; ++j) {
      sumi += Q5Low(w[i].qs, qh, j) * x[i].qs[j];
      sumi += Q5High(w[i].qs, qh, j) * x[i].qs[j + kHalf];
    }
    sum += (Fp16ToFp32(w[i].d) * Fp16ToFp32(x[i].d)) * static_cast<float>(sumi) +
           Fp16ToFp32(w[i].m) * Fp16ToFp32(x[i].s);
  }
  return sum;
}

float DotQ8_0(size_t n, const BlockQ8_0* w, const BlockQ8_0* x) {
  float sum = 0.0f;
  for (size_t i = 0; i < n / kQK; ++i) {
    int sumi = 0;
    for (size_t j = 0; j < kQK; ++j) sumi += w[i].qs[j] * x[i].qs[j];
    sum += static_cast<float>(sumi) * (Fp16ToFp32(w[i].d) * Fp16ToFp32(x[i].d));
  }
  return sum;
}

}  // namespace autan::kernels::scalar
