// Block layouts of the GGUF quantized types, byte for byte as ggml stores them
// (ggml-common.h). Half-precision fields are raw IEEE binary16 bits; convert
// with Fp16ToFp32 / Fp32ToFp16 from core/fp16.h.
#pragma once

#include <cstddef>
#include <cstdint>

namespace autan::kernels {

inline constexpr size_t kQK = 32;           // values per block of the legacy types
inline constexpr size_t kQK_K = 256;        // values per super-block of the K types
inline constexpr size_t kScaleBytesK = 12;  // packed 6-bit scales and mins of Q4_K/Q5_K

// x = d * (q - 8), q in [0, 15]. qs[j] holds value j in its low nibble and
// value j + 16 in its high nibble.
struct BlockQ4_0 {
  uint16_t d;
  uint8_t qs[kQK / 2];
};

// x = d * q + m, q in [0, 15]; nibbles as in Q4_0.
struct BlockQ4_1 {
  uint16_t d;
  uint16_t m;
  uint8_t qs[kQK / 2];
};

// x = d * (q - 16), q in [0, 31]: the low 4 bits as in Q4_0, bit 4 of value j
// in bit j of the little-endian 32-bit word qh.
struct BlockQ5_0 {
  uint16_t d;
  uint8_t qh[4];
  uint8_t qs[kQK / 2];
};

// x = d * q + m, q in [0, 31]; bits as in Q5_0.
struct BlockQ5_1 {
  uint16_t d;
  uint16_t m;
  uint8_t qh[4];
  uint8_t qs[kQK / 2];
};

// x = d * q, q in [-127, 127].
struct BlockQ8_0 {
  uint16_t d;
  int8_t qs[kQK];
};

// Q8_0 plus s = d * sum(q), so a dot with a Q4_1/Q5_1 block can apply the
// offset m once per block.
struct BlockQ8_1 {
  uint16_t d;
  uint16_t s;
  int8_t qs[kQK];
};

// 8 sub-blocks of 32: x = d * sc[j] * q - dmin * mn[j], q in [0, 15], with
// 6-bit sc/mn packed in `scales` (see UnpackScaleMinK4 in quant_scalar.h).
// qs[32*k + l] holds value 64*k + l (low nibble) and 64*k + 32 + l (high).
struct BlockQ4_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[kScaleBytesK];
  uint8_t qs[kQK_K / 2];
};

// Q4_K with a fifth bit: bit (2*k) of qh[l] is bit 4 of value 64*k + l, bit
// (2*k + 1) that of value 64*k + 32 + l.
struct BlockQ5_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[kScaleBytesK];
  uint8_t qh[kQK_K / 8];
  uint8_t qs[kQK_K / 2];
};

// 16 sub-blocks of 16: x = d * scales[j] * (q - 32), q in [0, 63]. Per half
// (128 values) h: ql[64*h + l] holds values l (low nibble) and 64 + l (high),
// ql[64*h + 32 + l] values 32 + l and 96 + l; qh[32*h + l] holds the top two
// bits of values l, 32 + l, 64 + l, 96 + l in bit pairs 0-1, 2-3, 4-5, 6-7.
struct BlockQ6_K {
  uint8_t ql[kQK_K / 2];
  uint8_t qh[kQK_K / 4];
  int8_t scales[kQK_K / 16];
  uint16_t d;
};

// Activation type for the K dots: x = d * q, with the sum of each 16 quants.
struct BlockQ8_K {
  float d;
  int8_t qs[kQK_K];
  int16_t bsums[kQK_K / 16];
};

static_assert(sizeof(BlockQ4_0) == 18 && alignof(BlockQ4_0) == 2);
static_assert(sizeof(BlockQ4_1) == 20 && alignof(BlockQ4_1) == 2);
static_assert(sizeof(BlockQ5_0) == 22 && alignof(BlockQ5_0) == 2);
static_assert(sizeof(BlockQ5_1) == 24 && alignof(BlockQ5_1) == 2);
static_assert(sizeof(BlockQ8_0) == 34 && alignof(BlockQ8_0) == 2);
static_assert(sizeof(BlockQ8_1) == 36 && alignof(BlockQ8_1) == 2);
static_assert(sizeof(BlockQ4_K) == 144 && alignof(BlockQ4_K) == 2);
static_assert(sizeof(BlockQ5_K) == 176 && alignof(BlockQ5_K) == 2);
static_assert(sizeof(BlockQ6_K) == 210 && alignof(BlockQ6_K) == 2);
static_assert(sizeof(BlockQ8_K) == 292 && alignof(BlockQ8_K) == 4);
static_assert(offsetof(BlockQ5_0, qs) == 6 && offsetof(BlockQ5_1, qs) == 8);
static_assert(offsetof(BlockQ4_K, qs) == 16 && offsetof(BlockQ5_K, qs) == 48);
static_assert(offsetof(BlockQ6_K, scales) == 192 && offsetof(BlockQ6_K, d) == 208);
static_assert(offsetof(BlockQ8_K, bsums) == 260);

}  // namespace autan::kernels
