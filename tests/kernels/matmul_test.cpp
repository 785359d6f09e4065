#include "kernels/matmul.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/rng.h"
#include "core/thread_pool.h"
#include "kernels/quant.h"
#include "quant_test_util.h"

namespace autan::kernels {
namespace {

using testing::Dequantize;
using testing::DotTolerance;
using testing::kComputeTypes;
using testing::Name;
using testing::NormalRow;
using testing::Quantize;

// Two blocks of the type (64 values for the float and legacy types).
size_t ColsFor(DType t) { return 2 * std::max<size_t>(32, Info(t).block_size); }

struct Problem {
  DType type;
  size_t rows;
  size_t cols;
  size_t batch;
  std::vector<uint8_t> weights;  // rows * RowBytes(type, cols)
  std::vector<float> x;          // [batch][cols]
};

Problem MakeProblem(DType t, size_t rows, size_t batch, uint64_t seed) {
  Rng rng(seed);
  Problem p{t, rows, ColsFor(t), batch, {}, {}};
  for (size_t r = 0; r < rows; ++r) {
    const std::vector<uint8_t> row = Quantize(t, NormalRow(rng, p.cols));
    p.weights.insert(p.weights.end(), row.begin(), row.end());
  }
  p.x = NormalRow(rng, batch * p.cols);
  return p;
}

std::vector<float> RunMatMul(const Problem& p, int threads, std::vector<uint8_t>& scratch,
                             const MatMulKernels& kernels = DefaultKernels()) {
  ThreadPool pool(threads);
  std::vector<float> y(p.batch * p.rows, -1.0f);
  MatMulWith(kernels, p.type, p.weights.data(), p.rows, p.cols, p.x.data(), p.batch, y.data(), pool,
             scratch);
  return y;
}

// Oracle: a naive double loop over the dequantized weights and the
// dequantized activations (converted as llama.cpp converts them).
TEST(MatMul, MatchesNaiveLoopForRaggedShapes) {
  for (DType t : kComputeTypes) {
    const size_t row_bytes = *RowBytes(t, ColsFor(t));
    for (size_t rows : {1u, 7u, 37u}) {
      for (size_t batch = 1; batch <= 5; ++batch) {
        const Problem p = MakeProblem(t, rows, batch, 1000 * rows + batch);
        std::vector<uint8_t> scratch;
        const std::vector<float> y = RunMatMul(p, 3, scratch);
        const DType xt = VecDotType(t);
        for (size_t b = 0; b < batch; ++b) {
          const std::vector<float> xb(p.x.begin() + b * p.cols, p.x.begin() + (b + 1) * p.cols);
          const std::vector<float> xd = Dequantize(xt, Quantize(xt, xb), p.cols);
          for (size_t r = 0; r < rows; ++r) {
            const std::vector<uint8_t> wr(p.weights.begin() + r * row_bytes,
                                          p.weights.begin() + (r + 1) * row_bytes);
            const std::vector<float> wd = Dequantize(t, wr, p.cols);
            double expected = 0.0;
            for (size_t i = 0; i < p.cols; ++i) expected += static_cast<double>(wd[i]) * xd[i];
            ASSERT_NEAR(y[b * rows + r], expected, DotTolerance(t, wr.data(), wd, xd))
                << Name(t) << " rows " << rows << " batch " << batch << " at " << b << "," << r;
          }
        }
      }
    }
  }
}

// The scalar kernel set is the reference: one VecDot per element.
TEST(MatMul, ScalarSetSameBitsForAnyThreadCountAndEqualToVecDot) {
  for (DType t : kComputeTypes) {
    const Problem p = MakeProblem(t, 37, 4, 77);
    std::vector<uint8_t> scratch;
    const std::vector<float> y1 = RunMatMul(p, 1, scratch, ScalarKernels());
    for (int threads : {2, 3}) {
      const std::vector<float> yn = RunMatMul(p, threads, scratch, ScalarKernels());
      ASSERT_EQ(0, std::memcmp(y1.data(), yn.data(), y1.size() * sizeof(float)))
          << Name(t) << " threads " << threads;
    }
    // Each element is the single-row dot with the converted activation row.
    const DType xt = VecDotType(t);
    const size_t row_bytes = *RowBytes(t, p.cols);
    for (size_t b = 0; b < p.batch; ++b) {
      const std::vector<float> xb(p.x.begin() + b * p.cols, p.x.begin() + (b + 1) * p.cols);
      const std::vector<uint8_t> xq = Quantize(xt, xb);
      for (size_t r = 0; r < p.rows; ++r) {
        ASSERT_EQ(y1[b * p.rows + r], VecDot(t, p.cols, &p.weights[r * row_bytes], xq.data()))
            << Name(t) << " at " << b << "," << r;
      }
    }
  }
}

TEST(MatMul, ReusesScratchBetweenCalls) {
  // Four activation rows: enough to be converted together (fewer run as
  // separate matrix-vector products).
  const Problem p = MakeProblem(DType::kQ4_K, 5, 4, 9);
  std::vector<uint8_t> scratch;
  RunMatMul(p, 2, scratch);
  EXPECT_GE(scratch.size(), 4 * *RowBytes(DType::kQ8_K, p.cols));
  const uint8_t* data = scratch.data();
  const size_t size = scratch.size();
  const Problem smaller = MakeProblem(DType::kQ4_K, 5, 1, 10);
  RunMatMul(smaller, 2, scratch);
  EXPECT_EQ(scratch.data(), data);
  EXPECT_EQ(scratch.size(), size);

  // F32 weights dot the activations directly: no scratch needed.
  std::vector<uint8_t> unused;
  RunMatMul(MakeProblem(DType::kF32, 5, 3, 11), 2, unused);
  EXPECT_TRUE(unused.empty());
}

TEST(MatMul, EmptyShapesWriteNothing) {
  ThreadPool pool(2);
  std::vector<uint8_t> scratch;
  const std::vector<float> x(64, 1.0f);
  float y = 42.0f;
  MatMul(DType::kQ8_0, nullptr, 0, 64, x.data(), 1, &y, pool, scratch);
  MatMul(DType::kQ8_0, nullptr, 1, 64, x.data(), 0, &y, pool, scratch);
  EXPECT_EQ(y, 42.0f);
}

}  // namespace
}  // namespace autan::kernels
