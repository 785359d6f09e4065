// Round-trip accuracy, edge cases and dot products of every weight type.
#include "kernels/quant.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/rng.h"
#include "kernels/quant_blocks.h"
#include "quant_test_util.h"

namespace autan::kernels {
namespace {

using testing::Dequantize;
using testing::DotTolerance;
using testing::kComputeTypes;
using testing::kQuantizableTypes;
using testing::kRowLen;
using testing::Name;
using testing::NormalRow;
using testing::Quantize;

// How far a round trip may move values of a type.
struct Bound {
  DType type;
  double max_rel;   // max |error| / max |x| over each storage block
  double rmse_rel;  // rms error / rms x over a row of N(0, 1) values
};

// Legacy types: half a step, plus one full step for the top code that
// Q4_0/Q5_0 clamp (the extreme value maps to -8 / -16, its opposite to +8 /
// +16, which do not exist), plus fp16 rounding of d and m; e.g. Q4_0:
// 1/8 + 16 * 2^-11. K types: measured on N(0, 1) with ~30% margin (the
// quantizer searches scales, so only the overall error has a simple bound).
constexpr Bound kBounds[] = {
    {DType::kF32, 0.0, 0.0},        {DType::kF16, 0x1p-11, 2.5e-4}, {DType::kBF16, 0x1p-8, 2e-3},
    {DType::kQ4_0, 0.133, 0.095},   {DType::kQ4_1, 0.068, 0.085},   {DType::kQ5_0, 0.066, 0.048},
    {DType::kQ5_1, 0.034, 0.042},   {DType::kQ8_0, 0.0045, 0.006},  {DType::kQ8_1, 0.0045, 0.006},
    {DType::kQ4_K, 0.10, 0.078},    {DType::kQ5_K, 0.055, 0.040},   {DType::kQ6_K, 0.035, 0.021},
    {DType::kQ8_K, 0.0041, 0.0095},
};

const Bound& BoundOf(DType t) {
  for (const Bound& b : kBounds) {
    if (b.type == t) return b;
  }
  ADD_FAILURE() << "no bound for " << Name(t);
  return kBounds[0];
}

// Storage block used to judge errors (float types: groups of 32).
size_t JudgeBlock(DType t) { return std::max<size_t>(32, Info(t).block_size); }

// Largest error relative to the block's max |x|, over all blocks; a block of
// zeros must come back as exact zeros.
double WorstBlockError(DType t, const std::vector<float>& x, const std::vector<float>& y) {
  const size_t bs = JudgeBlock(t);
  double worst = 0.0;
  for (size_t b = 0; b < x.size(); b += bs) {
    double amax = 0.0;
    double emax = 0.0;
    for (size_t i = b; i < b + bs; ++i) {
      amax = std::max(amax, std::fabs(static_cast<double>(x[i])));
      emax = std::max(emax, std::fabs(static_cast<double>(x[i]) - y[i]));
    }
    if (amax == 0.0) {
      if (emax != 0.0) return INFINITY;
      continue;
    }
    worst = std::max(worst, emax / amax);
  }
  return worst;
}

double RelativeRmse(const std::vector<float>& x, const std::vector<float>& y) {
  double se = 0.0;
  double sx = 0.0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double e = static_cast<double>(x[i]) - y[i];
    se += e * e;
    sx += static_cast<double>(x[i]) * x[i];
  }
  return std::sqrt(se / sx);
}

bool AllFinite(const std::vector<float>& y) {
  return std::all_of(y.begin(), y.end(), [](float v) { return std::isfinite(v); });
}

TEST(Quant, TypeTables) {
  for (DType t : kComputeTypes) {
    EXPECT_TRUE(IsComputeType(t)) << Name(t);
    EXPECT_TRUE(CanQuantize(t)) << Name(t);
  }
  for (DType t : {DType::kQ8_1, DType::kQ8_K, DType::kQ2_K, DType::kQ3_K, DType::kIQ4_NL,
                  DType::kI8, DType::kF64, DType::kTQ2_0}) {
    EXPECT_FALSE(IsComputeType(t)) << Name(t);
  }
  EXPECT_TRUE(CanQuantize(DType::kQ8_1));
  EXPECT_TRUE(CanQuantize(DType::kQ8_K));
  EXPECT_FALSE(CanQuantize(DType::kQ2_K));
  EXPECT_FALSE(CanQuantize(DType::kIQ2_XXS));

  EXPECT_EQ(VecDotType(DType::kF32), DType::kF32);
  EXPECT_EQ(VecDotType(DType::kF16), DType::kF16);
  EXPECT_EQ(VecDotType(DType::kBF16), DType::kBF16);
  EXPECT_EQ(VecDotType(DType::kQ4_0), DType::kQ8_0);
  EXPECT_EQ(VecDotType(DType::kQ5_0), DType::kQ8_0);
  EXPECT_EQ(VecDotType(DType::kQ8_0), DType::kQ8_0);
  EXPECT_EQ(VecDotType(DType::kQ4_1), DType::kQ8_1);
  EXPECT_EQ(VecDotType(DType::kQ5_1), DType::kQ8_1);
  EXPECT_EQ(VecDotType(DType::kQ4_K), DType::kQ8_K);
  EXPECT_EQ(VecDotType(DType::kQ5_K), DType::kQ8_K);
  EXPECT_EQ(VecDotType(DType::kQ6_K), DType::kQ8_K);
}

TEST(Quant, BlockStructsMatchTheTypeTable) {
  EXPECT_EQ(sizeof(BlockQ4_0), Info(DType::kQ4_0).type_size);
  EXPECT_EQ(sizeof(BlockQ4_1), Info(DType::kQ4_1).type_size);
  EXPECT_EQ(sizeof(BlockQ5_0), Info(DType::kQ5_0).type_size);
  EXPECT_EQ(sizeof(BlockQ5_1), Info(DType::kQ5_1).type_size);
  EXPECT_EQ(sizeof(BlockQ8_0), Info(DType::kQ8_0).type_size);
  EXPECT_EQ(sizeof(BlockQ8_1), Info(DType::kQ8_1).type_size);
  EXPECT_EQ(sizeof(BlockQ4_K), Info(DType::kQ4_K).type_size);
  EXPECT_EQ(sizeof(BlockQ5_K), Info(DType::kQ5_K).type_size);
  EXPECT_EQ(sizeof(BlockQ6_K), Info(DType::kQ6_K).type_size);
  EXPECT_EQ(sizeof(BlockQ8_K), Info(DType::kQ8_K).type_size);
  EXPECT_EQ(kQK, Info(DType::kQ4_0).block_size);
  EXPECT_EQ(kQK_K, Info(DType::kQ4_K).block_size);
}

TEST(Quant, RoundTripOfNormalValuesStaysWithinTheTypeBound) {
  for (DType t : kQuantizableTypes) {
    const Bound& bound = BoundOf(t);
    for (uint64_t seed = 1; seed <= 3; ++seed) {
      Rng rng(seed);
      const std::vector<float> x = NormalRow(rng, kRowLen);
      const std::vector<float> y = Dequantize(t, Quantize(t, x), kRowLen);
      EXPECT_LE(WorstBlockError(t, x, y), bound.max_rel) << Name(t) << " seed " << seed;
      EXPECT_LE(RelativeRmse(x, y), bound.rmse_rel) << Name(t) << " seed " << seed;
    }
  }
}

// The K quantizers search their scales; with that they must beat the plain
// min/max quantizers of the same width, and wider types must be more accurate.
TEST(Quant, KQuantizersBeatTheLegacyOnesOfTheSameWidth) {
  Rng rng(7);
  const std::vector<float> x = NormalRow(rng, 8 * kRowLen);
  auto rmse = [&](DType t) { return RelativeRmse(x, Dequantize(t, Quantize(t, x), x.size())); };
  EXPECT_LT(rmse(DType::kQ4_K), rmse(DType::kQ4_1));
  EXPECT_LT(rmse(DType::kQ4_1), rmse(DType::kQ4_0));
  EXPECT_LT(rmse(DType::kQ5_K), rmse(DType::kQ5_1));
  EXPECT_LT(rmse(DType::kQ5_1), rmse(DType::kQ5_0));
  EXPECT_LT(rmse(DType::kQ6_K), rmse(DType::kQ5_K));
  EXPECT_LT(rmse(DType::kQ8_0), rmse(DType::kQ6_K));
}

TEST(Quant, ZerosComeBackAsExactZeros) {
  const std::vector<float> zeros(kRowLen, 0.0f);
  for (DType t : kQuantizableTypes) {
    const std::vector<float> y = Dequantize(t, Quantize(t, zeros), kRowLen);
    for (size_t i = 0; i < kRowLen; ++i) ASSERT_EQ(y[i], 0.0f) << Name(t) << " at " << i;
  }
  Rng rng(3);
  const std::vector<float> x = NormalRow(rng, kRowLen);
  for (DType t : kComputeTypes) {
    const DType xt = VecDotType(t);
    EXPECT_EQ(VecDot(t, kRowLen, Quantize(t, zeros).data(), Quantize(xt, x).data()), 0.0f)
        << Name(t);
    EXPECT_EQ(VecDot(t, kRowLen, Quantize(t, x).data(), Quantize(xt, zeros).data()), 0.0f)
        << Name(t);
  }
}

TEST(Quant, ConstantRows) {
  for (float c : {1.5f, -2.25f, 0.1f, 7.0f}) {
    const std::vector<float> x(kRowLen, c);
    for (DType t : kQuantizableTypes) {
      const std::vector<float> y = Dequantize(t, Quantize(t, x), kRowLen);
      EXPECT_LE(WorstBlockError(t, x, y), BoundOf(t).max_rel) << Name(t) << " c=" << c;
    }
  }
}

TEST(Quant, HugeAndTinyValues) {
  for (DType t : kQuantizableTypes) {
    const Bound& bound = BoundOf(t);
    Rng rng(11);
    // 1e4 * N(0, 1) peaks near 4e4: still inside fp16, which holds d and m.
    const std::vector<float> huge = NormalRow(rng, kRowLen, 1e4);
    const std::vector<float> y_huge = Dequantize(t, Quantize(t, huge), kRowLen);
    EXPECT_TRUE(AllFinite(y_huge)) << Name(t);
    EXPECT_LE(WorstBlockError(t, huge, y_huge), bound.max_rel) << Name(t);

    // Scales of 1e-3 values are fp16 subnormals and lose some precision.
    const std::vector<float> small = NormalRow(rng, kRowLen, 1e-3);
    const std::vector<float> y_small = Dequantize(t, Quantize(t, small), kRowLen);
    EXPECT_LE(WorstBlockError(t, small, y_small), 2 * bound.max_rel) << Name(t);

    // Far below fp16's range the scales are subnormal or zero: values come
    // back within a few fp16 subnormal steps (2^-24) of the input, as from
    // llama.cpp, and never as inf or nan.
    const std::vector<float> tiny = NormalRow(rng, kRowLen, 1e-7);
    const std::vector<float> y_tiny = Dequantize(t, Quantize(t, tiny), kRowLen);
    EXPECT_TRUE(AllFinite(y_tiny)) << Name(t);
    for (size_t i = 0; i < kRowLen; ++i) {
      ASSERT_NEAR(y_tiny[i], tiny[i], 16 * 0x1p-24) << Name(t) << " at " << i;
    }
  }
}

TEST(Quant, SingleOutlierOnlyCoarsensItsOwnBlock) {
  constexpr size_t kOutlier = 300;
  Rng rng(5);
  std::vector<float> x = NormalRow(rng, kRowLen);
  x[kOutlier] = 1000.0f;
  for (DType t : kQuantizableTypes) {
    const double bound = BoundOf(t).max_rel;
    const std::vector<float> y = Dequantize(t, Quantize(t, x), kRowLen);
    // Every block keeps its bound relative to its own max: blocks without the
    // outlier are unaffected by it.
    EXPECT_LE(WorstBlockError(t, x, y), bound) << Name(t);
    EXPECT_NEAR(y[kOutlier], 1000.0, 1000.0 * bound) << Name(t);
  }
}

// Rounding of activations must match llama.cpp's reference quantizers. Q8_0
// and Q8_1 use roundf (halves away from zero); with amax = 127, d = 1 and the
// quants are the rounded values themselves.
TEST(Quant, Q8_0RoundsHalvesAwayFromZero) {
  std::vector<float> x(kQK, 0.0f);
  x[0] = 127.0f;
  x[1] = 2.5f;
  x[2] = -2.5f;
  x[3] = 0.5f;
  x[4] = -3.5f;
  x[5] = 1.49f;
  for (DType t : {DType::kQ8_0, DType::kQ8_1}) {
    const std::vector<uint8_t> q = Quantize(t, x);
    const int8_t* qs = t == DType::kQ8_0 ? reinterpret_cast<const BlockQ8_0*>(q.data())->qs
                                         : reinterpret_cast<const BlockQ8_1*>(q.data())->qs;
    EXPECT_EQ(qs[0], 127);
    EXPECT_EQ(qs[1], 3);
    EXPECT_EQ(qs[2], -3);
    EXPECT_EQ(qs[3], 1);
    EXPECT_EQ(qs[4], -4);
    EXPECT_EQ(qs[5], 1);
  }
  const std::vector<uint8_t> q1 = Quantize(DType::kQ8_1, x);
  const auto* block = reinterpret_cast<const BlockQ8_1*>(q1.data());
  EXPECT_EQ(block->d, 0x3C00);  // 1.0 in fp16
  EXPECT_EQ(block->s, 0x57D0);  // 125.0 = 1.0 * (127 + 3 - 3 + 1 - 4 + 1)
}

// Q8_K rounds to nearest even and keeps the sign of the largest value in d
// (iscale = -127 / max), as quantize_row_q8_K_ref does.
TEST(Quant, Q8_KRoundsToEvenWithSignedScale) {
  std::vector<float> x(kQK_K, 0.0f);
  x[0] = 127.0f;  // max > 0, so d = -1 and the quants are negated
  x[1] = 2.5f;
  x[2] = -2.5f;
  x[3] = 3.5f;
  x[4] = 0.5f;
  x[16] = 1.0f;
  const std::vector<uint8_t> q = Quantize(DType::kQ8_K, x);
  const auto* b = reinterpret_cast<const BlockQ8_K*>(q.data());
  EXPECT_EQ(b->d, -1.0f);
  EXPECT_EQ(b->qs[0], -127);
  EXPECT_EQ(b->qs[1], -2);
  EXPECT_EQ(b->qs[2], 2);
  EXPECT_EQ(b->qs[3], -4);
  EXPECT_EQ(b->qs[4], 0);
  EXPECT_EQ(b->bsums[0], -127 - 2 + 2 - 4);
  EXPECT_EQ(b->bsums[1], -1);
  EXPECT_EQ(b->bsums[2], 0);
}

// Float dots sum in double: 4096^2 + 1 + 1 is exact in double but loses both
// ones in float.
TEST(Quant, FloatDotsAccumulateInDouble) {
  std::vector<float> v(32, 0.0f);
  v[0] = 4096.0f;
  v[1] = 1.0f;
  v[2] = 1.0f;
  for (DType t : {DType::kF32, DType::kF16, DType::kBF16}) {
    const std::vector<uint8_t> q = Quantize(t, v);
    EXPECT_EQ(VecDot(t, v.size(), q.data(), q.data()), 16777218.0f) << Name(t);
  }
}

// The oracle: the double dot of both rows expanded by DequantizeRow, which
// shares no code with the integer dot paths.
TEST(Quant, VecDotMatchesTheDotOfDequantizedRows) {
  for (DType t : kComputeTypes) {
    const DType xt = VecDotType(t);
    for (uint64_t seed = 1; seed <= 4; ++seed) {
      Rng rng(100 + seed);
      for (size_t n : {JudgeBlock(t), kRowLen}) {
        std::vector<float> w = NormalRow(rng, n);
        if (seed == 2) {  // an offset exercises the min terms of Q4_1/Q5_1/Q4_K/Q5_K
          for (float& v : w) v += 1.5f;
        }
        const std::vector<float> x = NormalRow(rng, n, seed == 3 ? 100.0 : 1.0);
        const std::vector<uint8_t> wq = Quantize(t, w);
        const std::vector<uint8_t> xq = Quantize(xt, x);
        const std::vector<float> wd = Dequantize(t, wq, n);
        const std::vector<float> xd = Dequantize(xt, xq, n);
        double expected = 0.0;
        for (size_t i = 0; i < n; ++i) expected += static_cast<double>(wd[i]) * xd[i];
        const double tolerance = DotTolerance(t, wq.data(), wd, xd);
        EXPECT_NEAR(VecDot(t, n, wq.data(), xq.data()), expected, tolerance)
            << Name(t) << " seed " << seed << " n " << n;
      }
    }
  }
}

}  // namespace
}  // namespace autan::kernels
