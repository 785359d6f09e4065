#include "kernels/matmul.h"

#include <algorithm>
#include <optional>

#include "core/check.h"
#include "kernels/quant.h"

namespace autan::kernels {
namespace {

// Output rows handled together, so a tile of weight rows stays in cache while
// every activation row passes over it.
constexpr size_t kRowTile = 16;

}  // namespace

void MatMul(DType w, const void* weights, size_t rows, size_t cols, const float* x, size_t batch,
            float* y, ThreadPool& pool, std::vector<uint8_t>& scratch) {
  AUTAN_CHECK(IsComputeType(w));
  const DType xt = VecDotType(w);
  const std::optional<size_t> w_row_bytes = RowBytes(w, cols);
  const std::optional<size_t> x_row_bytes = RowBytes(xt, cols);
  AUTAN_CHECK(w_row_bytes.has_value() && x_row_bytes.has_value());
  if (rows == 0 || batch == 0) return;

  // F32 weights dot the activations as they are; other types need them
  // converted, once per call.
  const uint8_t* xq = reinterpret_cast<const uint8_t*>(x);
  if (xt != DType::kF32) {
    if (scratch.size() < batch * *x_row_bytes) scratch.resize(batch * *x_row_bytes);
    uint8_t* dst = scratch.data();
    auto convert = [&](size_t begin, size_t end) {
      for (size_t b = begin; b < end; ++b) {
        QuantizeRow(xt, x + b * cols, dst + b * *x_row_bytes, cols);
      }
    };
    if (batch == 1) {
      convert(0, 1);  // not worth waking the pool
    } else {
      pool.ParallelFor(batch, convert);
    }
    xq = dst;
  }

  const uint8_t* wq = static_cast<const uint8_t*>(weights);
  pool.ParallelFor(rows, [&](size_t begin, size_t end) {
    for (size_t r0 = begin; r0 < end; r0 += kRowTile) {
      const size_t r1 = std::min(end, r0 + kRowTile);
      for (size_t b = 0; b < batch; ++b) {
        const uint8_t* x_row = xq + b * *x_row_bytes;
        for (size_t r = r0; r < r1; ++r) {
          y[b * rows + r] = VecDot(w, cols, wq + r * *w_row_bytes, x_row);
        }
      }
    }
  });
}

}  // namespace autan::kernels
