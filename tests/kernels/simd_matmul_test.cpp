// Every kernel set this CPU runs against the scalar reference set: results
// within float-rounding distance (the integer parts are exact), identical
// bits whatever the batch size, tile position and thread count.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "core/rng.h"
#include "core/thread_pool.h"
#include "kernels/matmul.h"
#include "kernels/quant.h"
#include "quant_test_util.h"

namespace autan::kernels {
namespace {

using testing::Dequantize;
using testing::kComputeTypes;
using testing::Name;
using testing::NormalRow;
using testing::Quantize;

struct Problem {
  DType type;
  size_t rows;
  size_t cols;
  size_t batch;
  size_t row_bytes;
  std::vector<uint8_t> weights;  // [rows][row_bytes]
  std::vector<float> x;          // [batch][cols]
};

Problem MakeProblem(DType t, size_t rows, size_t cols, size_t batch, uint64_t seed) {
  Rng rng(seed);
  Problem p{t, rows, cols, batch, *RowBytes(t, cols), {}, {}};
  for (size_t r = 0; r < rows; ++r) {
    // Rows of different scales and offsets, so rows are not interchangeable.
    std::vector<float> w = NormalRow(rng, cols, 0.5 + rng.Uniform());
    const float shift = static_cast<float>(rng.Normal() * 0.3);
    for (float& v : w) v += shift;
    const std::vector<uint8_t> q = Quantize(t, w);
    p.weights.insert(p.weights.end(), q.begin(), q.end());
  }
  p.x = NormalRow(rng, batch * cols, 2.0);
  return p;
}

std::vector<float> RunSet(const MatMulKernels& k, const Problem& p, int threads, size_t first = 0,
                          size_t batch = 0) {
  if (batch == 0) batch = p.batch;
  ThreadPool pool(threads);
  std::vector<uint8_t> scratch;
  std::vector<float> y(batch * p.rows, std::nanf(""));
  MatMulWith(k, p.type, p.weights.data(), p.rows, p.cols, p.x.data() + first * p.cols, batch,
             y.data(), pool, scratch);
  return y;
}

// Sum of the magnitudes of the terms the kernels add up for one element:
// the float rounding of each term and of the sums stays well below 1e-5 of
// it. Offsets (the m of Q4_1/Q5_1, the mins of Q4_K/Q5_K) are separate terms,
// so they count apart from the scaled quants.
double Magnitude(const Problem& p, size_t r, const std::vector<float>& xd) {
  const uint8_t* w = &p.weights[r * p.row_bytes];
  std::vector<uint8_t> row(w, w + p.row_bytes);
  const std::vector<float> wd = Dequantize(p.type, row, p.cols);
  // The offsets alone: the row with every quant set to zero.
  std::vector<float> offset(p.cols, 0.0f);
  if (p.type == DType::kQ4_1 || p.type == DType::kQ5_1 || p.type == DType::kQ4_K ||
      p.type == DType::kQ5_K) {
    const size_t block = Info(p.type).block_size;
    const size_t bytes = Info(p.type).type_size;
    const size_t header = p.type == DType::kQ4_1 || p.type == DType::kQ5_1 ? 4 : 16;
    for (size_t b = 0; b < p.cols / block; ++b) {
      std::memset(&row[b * bytes + header], 0, bytes - header);  // qh and qs
    }
    offset = Dequantize(p.type, row, p.cols);
  }
  double m = 1e-30;
  for (size_t i = 0; i < p.cols; ++i) {
    m += std::fabs((double{wd[i]} - offset[i]) * xd[i]) + std::fabs(double{offset[i]} * xd[i]);
  }
  return m;
}

std::vector<float> ConvertedActivation(const Problem& p, size_t b) {
  const DType xt = VecDotType(p.type);
  const std::vector<float> xb(p.x.begin() + b * p.cols, p.x.begin() + (b + 1) * p.cols);
  return Dequantize(xt, Quantize(xt, xb), p.cols);
}

std::vector<size_t> ColsFor(DType t) {
  const size_t block = Info(t).block_size;
  if (block == 1) return {1, 7, 16, 33, 100};
  if (block == 32) return {32, 96, 320};
  return {256, 768};
}

std::vector<const MatMulKernels*> SimdSets() {
  std::vector<const MatMulKernels*> sets = SupportedKernels();
  sets.erase(sets.begin());  // the scalar reference itself
  return sets;
}

TEST(SimdMatMul, SomeSetRunsOnX86) {
#if defined(__x86_64__)
  EXPECT_FALSE(SimdSets().empty());
  EXPECT_NE(std::string(DefaultKernels().name), "scalar");
#endif
  EXPECT_EQ(std::string(SupportedKernels().front()->name), "scalar");
}

TEST(SimdMatMul, CloseToScalarReferenceForRaggedShapes) {
  for (const MatMulKernels* k : SimdSets()) {
    for (DType t : kComputeTypes) {
      for (size_t cols : ColsFor(t)) {
        for (auto [rows, batch] :
             {std::pair<size_t, size_t>{1, 1}, {3, 2}, {8, 9}, {37, 1}, {37, 7}, {13, 9}}) {
          const Problem p = MakeProblem(t, rows, cols, batch, rows * 1000 + cols + batch);
          const std::vector<float> want = RunSet(ScalarKernels(), p, 1);
          const std::vector<float> got = RunSet(*k, p, 2);
          for (size_t b = 0; b < batch; ++b) {
            const std::vector<float> xd = ConvertedActivation(p, b);
            for (size_t r = 0; r < rows; ++r) {
              ASSERT_NEAR(got[b * rows + r], want[b * rows + r], 1e-5 * Magnitude(p, r, xd))
                  << k->name << " " << Name(t) << " cols " << cols << " rows " << rows << " at "
                  << b << "," << r;
            }
          }
        }
      }
    }
  }
}

// A batch computes each element exactly as a batch of one does (the matrix-
// matrix tiles and the matrix-vector path agree bit for bit), whatever the
// thread count and wherever the row falls in a tile.
TEST(SimdMatMul, BatchAndThreadsDoNotChangeBits) {
  for (const MatMulKernels* k : SimdSets()) {
    for (DType t : kComputeTypes) {
      const size_t cols = ColsFor(t).back();
      // 77 rows: row tiles and thread chunks both end mid-way. 41 activation
      // rows: full tiles of groups, then a tail of fewer groups.
      const Problem p = MakeProblem(t, 77, cols, 41, 4242);
      const std::vector<float> full = RunSet(*k, p, 1);
      for (int threads : {2, 3}) {
        ASSERT_EQ(
            0, std::memcmp(full.data(), RunSet(*k, p, threads).data(), full.size() * sizeof(float)))
            << k->name << " " << Name(t) << " threads " << threads;
      }
      // Every number of groups a tile can take, whole and ragged.
      for (size_t batch : {1, 2, 3, 4, 7, 8, 9, 15, 16, 17, 24, 25, 31, 33, 40}) {
        for (size_t first : {size_t{0}, size_t{1}, p.batch - batch}) {
          const std::vector<float> part = RunSet(*k, p, 2, first, batch);
          ASSERT_EQ(0, std::memcmp(&full[first * p.rows], part.data(), part.size() * sizeof(float)))
              << k->name << " " << Name(t) << " batch " << batch << " from " << first;
        }
      }
    }
  }
}

// Extreme quants: every weight and activation at the ends of its range, where
// an integer dot product could overflow its 16-bit intermediate sums.
TEST(SimdMatMul, ExtremeValuesMatchReference) {
  for (const MatMulKernels* k : SimdSets()) {
    for (DType t : kComputeTypes) {
      const size_t cols = ColsFor(t).back();
      Problem p = MakeProblem(t, 6, cols, 3, 7);
      std::vector<float> w(cols);
      p.weights.clear();
      for (size_t r = 0; r < p.rows; ++r) {
        for (size_t i = 0; i < cols; ++i) w[i] = ((i + r) % 3 == 0 ? -1.0f : 1.0f) * (r + 1);
        const std::vector<uint8_t> q = Quantize(t, w);
        p.weights.insert(p.weights.end(), q.begin(), q.end());
      }
      for (size_t i = 0; i < p.x.size(); ++i) p.x[i] = (i % 5 < 2 ? -3.0f : 3.0f);
      const std::vector<float> want = RunSet(ScalarKernels(), p, 1);
      const std::vector<float> got = RunSet(*k, p, 1);
      for (size_t b = 0; b < p.batch; ++b) {
        const std::vector<float> xd = ConvertedActivation(p, b);
        for (size_t r = 0; r < p.rows; ++r) {
          ASSERT_NEAR(got[b * p.rows + r], want[b * p.rows + r], 1e-5 * Magnitude(p, r, xd))
              << k->name << " " << Name(t) << " at " << b << "," << r;
        }
      }
    }
  }
}

}  // namespace
}  // namespace autan::kernels
