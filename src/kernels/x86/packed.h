// Activation layouts the x86 kernels read, and the conversions into them
// (pack_avx2.cpp: call only on CPUs with AVX2 and F16C). MatMul converts the
// activations once per call; every weight row then reads them, so the
// layouts carry whatever saves work per weight row. Quants and scales are
// always bit-identical to QuantizeRow's (Q8_0, Q8_1, Q8_K, F16, BF16).
//
// A single activation row (decode) keeps a row layout. Larger batches are
// stored in groups of 8 rows interleaved by 4-value quads, so that one 256-bit
// register holds the same 4 values of 8 activation rows and a broadcast
// weight quad meets all 8 in one instruction.
#pragma once

#include <cstddef>
#include <cstdint>

namespace autan::kernels::x86 {

// One 32-value block of a single Q8_0 or Q8_1 activation row.
//
// Lane k (0..3) of a block is the 8 values 4k..4k+3 and 16+4k..16+4k+3, as
// the decode kernels of the 4- and 5-bit types read them in pairs of rows.
struct alignas(64) PackedQ8Block {
  int8_t qs[32];
  // -zero_point * (sum of the lane's quants): folds the weights' zero point
  // (8 for Q4_0, 16 for Q5_0) into the integer accumulator's start value.
  int32_t bias[4];
  float d;  // fp16 scale, widened
  float s;  // Q8_1: fp16 d * sum(qs), widened; else 0
  uint32_t unused[2];
};
static_assert(sizeof(PackedQ8Block) == 64);

// One 32-value block of a group of 8 activation rows (Q8_0, Q8_1 or Q8_K
// quants). Rows past the end of the batch are zero.
struct alignas(32) PackedQ8Group {
  int8_t qs[8][32];   // qs[k][4c + j]: value 4k + j of row c
  int32_t sum[8];     // per row: sum of the block's 32 quants
  int32_t sum_lo[8];  // per row: sum of its first 16
  float d[8];         // per row: the block's scale (Q8_K: its super-block's)
  float s[8];         // per row, Q8_1: fp16 d * sum(qs), widened; else 0
};
static_assert(sizeof(PackedQ8Group) == 384);

// The TypeKernels::packed_bytes and ::pack of each activation type: Q8_0
// quants with the zero point of Q4_0 (8), Q5_0 (16) or none (Q8_0); Q8_1
// (Q4_1, Q5_1); Q8_K (the K types, row layout: BlockQ8_K rows).
size_t PackedQ8Bytes(size_t cols, size_t batch);
void PackQ8ForQ4_0(const float* x, size_t cols, size_t batch, size_t begin, size_t end,
                   uint8_t* dst);
void PackQ8ForQ5_0(const float* x, size_t cols, size_t batch, size_t begin, size_t end,
                   uint8_t* dst);
void PackQ8ForQ8_0(const float* x, size_t cols, size_t batch, size_t begin, size_t end,
                   uint8_t* dst);
void PackQ8_1(const float* x, size_t cols, size_t batch, size_t begin, size_t end, uint8_t* dst);
size_t PackedQ8KBytes(size_t cols, size_t batch);
void PackQ8_K(const float* x, size_t cols, size_t batch, size_t begin, size_t end, uint8_t* dst);

// Float activations of F16/BF16 weights, row layout: each value rounded as
// QuantizeRow rounds it to the weight's type, widened back to f32 (F32
// weights read the activation rows themselves).
size_t PackedFloatBytes(size_t cols, size_t batch);
void PackF16(const float* x, size_t cols, size_t batch, size_t begin, size_t end, uint8_t* dst);
void PackBF16(const float* x, size_t cols, size_t batch, size_t begin, size_t end, uint8_t* dst);

}  // namespace autan::kernels::x86
