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
  const uint8_t* x;  // the activations, as `pack` wrote them
  size_t x_stride;   // bytes between activation rows in row-major layouts
  size_t cols;       // values per row
  size_t batch;      // activation rows
  size_t row_begin;
  size_t row_end;
  float* y;         // y[b * y_stride + r]
  size_t y_stride;  // floats between output rows of consecutive activations
};

// Activation rows are converted in groups of this many (a layout may
// interleave the rows of a group).
inline constexpr size_t kPackGroup = 8;

struct TypeKernels {
  // Bytes of `batch` converted activation rows of `cols` values; for a
  // row-major layout, packed_bytes(cols, 1) is the distance between rows.
  size_t (*packed_bytes)(size_t cols, size_t batch) = nullptr;
  // Converts rows [begin, end) of a batch of `batch` f32 activation rows
  // (`x` is row 0) into the layout `gemm` reads; `begin` is a multiple of
  // kPackGroup. Null when the kernel reads the f32 rows themselves.
  void (*pack)(const float* x, size_t cols, size_t batch, size_t begin, size_t end,
               uint8_t* dst) = nullptr;
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
