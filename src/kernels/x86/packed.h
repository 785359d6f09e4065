// Activation layouts the x86 kernels read, and the conversions into them
// (pack_avx2.cpp: call only on CPUs with AVX2 and F16C). MatMul converts each activation
// row once per call; every weight row then reads it, so the layout carries
// whatever saves work per weight row.
#pragma once

#include <cstddef>
#include <cstdint>

namespace autan::kernels::x86 {

// One 32-value block of a Q8_0 or Q8_1 activation, on its own cache line.
// Values and scales are bit-identical to QuantizeRow's Q8_0 / Q8_1 output.
//
// Lane k (0..3) of a block is the 8 values 4k..4k+3 and 16+4k..16+4k+3: the
// kernels of the 4- and 5-bit types keep one float accumulator per lane.
struct alignas(64) PackedQ8Block {
  int8_t qs[32];
  // -offset * (sum of the lane's quants): folds the weights' zero point
  // (8 for Q4_0, 16 for Q5_0) into the integer accumulator's start value.
  int32_t bias[4];
  float d;  // fp16 scale, widened
  float s;  // Q8_1: fp16 d * sum(qs), widened; else 0
  uint32_t unused[2];
};
static_assert(sizeof(PackedQ8Block) == 64);

// Bytes of a packed row of `n` values (a multiple of 32).
size_t PackedQ8Bytes(size_t n);
// Q8_0 quants with the zero-point bias of Q4_0, Q5_0 or none (Q8_0).
void PackQ8ForQ4_0(const float* x, size_t n, uint8_t* dst);
void PackQ8ForQ5_0(const float* x, size_t n, uint8_t* dst);
void PackQ8ForQ8_0(const float* x, size_t n, uint8_t* dst);
// Q8_1 quants (with s) for Q4_1 and Q5_1.
void PackQ8_1(const float* x, size_t n, uint8_t* dst);

// Q8_K rows for the K-quant weights, as QuantizeRow writes them.
size_t PackedQ8KBytes(size_t n);
void PackQ8_K(const float* x, size_t n, uint8_t* dst);

// Float activations of F16/BF16 weights: each value rounded as QuantizeRow
// rounds it to the weight's type, widened back to f32 (F32 weights read the
// activation row itself).
size_t PackedFloatBytes(size_t n);
void PackF16(const float* x, size_t n, uint8_t* dst);
void PackBF16(const float* x, size_t n, uint8_t* dst);

}  // namespace autan::kernels::x86
