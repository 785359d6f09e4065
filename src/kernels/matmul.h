// Matrix-vector / matrix-matrix product of a weight matrix in any compute type
// with f32 activations: the one entry point models call for linear layers.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/dtype.h"
#include "core/thread_pool.h"

namespace autan::kernels {

// y[b*rows + r] = dot(W row r, x row b) for b < batch. W is `rows` rows of
// `cols` values of type `w` (GGUF layout: a tensor with dims [cols, rows]);
// x is f32 [batch][cols]; y is f32 [batch][rows]. Each x row is converted once
// (to VecDotType(w), in the layout the kernels read) into `scratch` (grown as
// needed; keep it between calls to avoid allocations), then output rows are
// split over the pool. Every y element is computed by one thread with the
// same operations whatever the batch size and the thread count, so results do
// not depend on either. `cols` must be a multiple of w's block size.
void MatMul(DType w, const void* weights, size_t rows, size_t cols, const float* x, size_t batch,
            float* y, ThreadPool& pool, std::vector<uint8_t>& scratch);

// --- Kernel sets -----------------------------------------------------------
// MatMul runs the best set this CPU supports, chosen once. Sets differ only
// in the last bits of the results; within a set, results are identical for
// every batch size and thread count.

// One call of a weight type's product: rows [row_begin, row_end) against
// every activation row.
struct GemmArgs {
  const uint8_t* w;  // weight row 0
  size_t w_stride;   // bytes between weight rows
  const uint8_t* x;  // activation row 0, as `pack` wrote it
  size_t x_stride;   // bytes between activation rows
  size_t cols;       // values per row
  size_t batch;      // activation rows
  size_t row_begin;
  size_t row_end;
  float* y;         // y[b * y_stride + r]
  size_t y_stride;  // floats between output rows of consecutive activations
};

struct TypeKernels {
  // Bytes of one converted activation row of `cols` values.
  size_t (*packed_bytes)(size_t cols) = nullptr;
  // Converts an f32 activation row into the layout `gemm` reads. Null when
  // the kernel reads the f32 row itself.
  void (*pack)(const float* x, size_t cols, uint8_t* dst) = nullptr;
  void (*gemm)(const GemmArgs& args) = nullptr;
};

// The kernels of every compute type, indexed by DType value.
struct MatMulKernels {
  const char* name = "";
  std::array<TypeKernels, 32> types{};

  const TypeKernels& For(DType t) const { return types[static_cast<size_t>(t)]; }
  TypeKernels& For(DType t) { return types[static_cast<size_t>(t)]; }
};

// The portable reference: QuantizeRow then one VecDot per element.
const MatMulKernels& ScalarKernels();
// The scalar reference entry of one compute type.
TypeKernels ScalarTypeKernels(DType w);
// The set MatMul uses: the fastest this CPU runs.
const MatMulKernels& DefaultKernels();
// Every set this CPU runs, the scalar reference first (for tests and benchmarks).
std::vector<const MatMulKernels*> SupportedKernels();

// MatMul with a given kernel set.
void MatMulWith(const MatMulKernels& k, DType w, const void* weights, size_t rows, size_t cols,
                const float* x, size_t batch, float* y, ThreadPool& pool,
                std::vector<uint8_t>& scratch);

}  // namespace autan::kernels
