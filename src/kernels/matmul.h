// Matrix-vector / matrix-matrix product of a weight matrix in any compute type
// with f32 activations: the one entry point models call for linear layers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/dtype.h"
#include "core/thread_pool.h"

namespace autan::kernels {

// y[b*rows + r] = dot(W row r, x row b) for b < batch. W is `rows` rows of
// `cols` values of type `w` (GGUF layout: a tensor with dims [cols, rows]);
// x is f32 [batch][cols]; y is f32 [batch][rows]. Each x row is converted once
// to VecDotType(w) into `scratch` (grown as needed; keep it between calls to
// avoid allocations), then output rows are split over the pool. Every y
// element is computed by one thread in a fixed order, so the result does not
// depend on the thread count. `cols` must be a multiple of w's block size.
void MatMul(DType w, const void* weights, size_t rows, size_t cols, const float* x, size_t batch,
            float* y, ThreadPool& pool, std::vector<uint8_t>& scratch);

}  // namespace autan::kernels
