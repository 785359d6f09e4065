// Row-level conversions and dot products for every weight type the engine
// computes with. These are the scalar reference kernels: numerics follow
// llama.cpp's reference quantizers and scalar dot products, so greedy outputs
// match it on the same model file.
#pragma once

#include <cstddef>

#include "core/dtype.h"

namespace autan::kernels {

// Weight types the engine computes with: F32, F16, BF16, Q4_0, Q4_1, Q5_0,
// Q5_1, Q8_0, Q4_K, Q5_K, Q6_K.
bool IsComputeType(DType t);

// The type an activation row is converted to before VecDot with weights of
// type `w` (as llama.cpp does): F32, F16 and BF16 keep their own type;
// Q4_0/Q5_0/Q8_0 -> Q8_0; Q4_1/Q5_1 -> Q8_1; Q4_K/Q5_K/Q6_K -> Q8_K.
// `w` must be a compute type.
DType VecDotType(DType w);

// Types QuantizeRow can produce: F32, F16, BF16, Q8_0, Q8_1, Q8_K, Q4_0,
// Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K.
bool CanQuantize(DType t);

// Converts `n` floats into a row of type `t` at `dst` (RowBytes(t, n) bytes).
// `n` must be a multiple of the block size of `t`.
void QuantizeRow(DType t, const float* src, void* dst, size_t n);

// Expands a row of `n` values of type `t` (a compute type, Q8_1 or Q8_K).
void DequantizeRow(DType t, const void* src, float* dst, size_t n);

// Dot product of a weight row of type `w` with an activation row already
// converted to VecDotType(w), both `n` values long.
float VecDot(DType w, size_t n, const void* w_row, const void* x_row);

}  // namespace autan::kernels
