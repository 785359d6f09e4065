#include "kernels/ops.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "core/rng.h"
#include "hwy/targets.h"

namespace autan::kernels {
namespace {

std::vector<float> RandomVector(size_t n, uint64_t seed, double scale = 1.0) {
  Rng rng(seed);
  std::vector<float> v(n);
  for (float& x : v) x = static_cast<float>(rng.Normal() * scale);
  return v;
}

// Runs `fn` once with each SIMD target this CPU supports forced as the
// dispatch choice, so every compiled target is compared with the scalar code.
template <class Fn>
void ForEachSimdTarget(const Fn& fn) {
  for (int64_t target : hwy::SupportedAndGeneratedTargets()) {
    hwy::SetSupportedTargetsForTest(target);
    SCOPED_TRACE(hwy::TargetName(target));
    fn();
  }
  hwy::SetSupportedTargetsForTest(0);
}

TEST(Ops, RmsNormMatchesDoublePrecision) {
  for (size_t n : {1u, 7u, 256u, 4096u}) {
    const std::vector<float> x = RandomVector(n, n, 3.0);
    const std::vector<float> w = RandomVector(n, n + 1);
    std::vector<float> out(n);
    RmsNorm(x.data(), w.data(), out.data(), n, 1e-5f);
    double ss = 0;
    for (float v : x) ss += static_cast<double>(v) * v;
    const double scale = 1.0 / std::sqrt(ss / static_cast<double>(n) + 1e-5);
    for (size_t i = 0; i < n; ++i)
      ASSERT_NEAR(out[i], x[i] * scale * w[i], 1e-5 * (1 + std::fabs(out[i])));
  }
}

TEST(Ops, RopeRotatesAdjacentPairsByPositionAngles) {
  const int heads = 3, head_dim = 8, rope_dims = 6, pos = 17;
  const float base = 10000.0f;
  std::vector<float> x = RandomVector(heads * head_dim, 9);
  const std::vector<float> original = x;
  RopeAdjacentPairs(x.data(), heads, head_dim, rope_dims, pos, base);
  for (int h = 0; h < heads; ++h) {
    for (int i = 0; i < head_dim; i += 2) {
      const float* in = &original[h * head_dim + i];
      const float* out = &x[h * head_dim + i];
      if (i >= rope_dims) {  // beyond rope_dims: untouched
        EXPECT_EQ(out[0], in[0]);
        EXPECT_EQ(out[1], in[1]);
        continue;
      }
      const double theta =
          pos * std::pow(static_cast<double>(base), -static_cast<double>(i) / rope_dims);
      EXPECT_NEAR(out[0], in[0] * std::cos(theta) - in[1] * std::sin(theta), 2e-5);
      EXPECT_NEAR(out[1], in[0] * std::sin(theta) + in[1] * std::cos(theta), 2e-5);
    }
  }
}

TEST(Ops, SoftmaxAndSwiGlu) {
  std::vector<float> x = {1.0f, 2.0f, 3.0f, -1000.0f};
  Softmax(x.data(), x.size());
  const double z = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  EXPECT_NEAR(x[0], std::exp(1.0) / z, 1e-6);
  EXPECT_NEAR(x[2], std::exp(3.0) / z, 1e-6);
  EXPECT_EQ(x[3], 0.0f);
  std::vector<float> gate = {-2.0f, 0.0f, 3.0f};
  const std::vector<float> up = {1.5f, 2.0f, -0.5f};
  SwiGlu(gate.data(), up.data(), gate.size());
  for (size_t i = 0; i < gate.size(); ++i) {
    const double g = std::vector<double>{-2.0, 0.0, 3.0}[i];
    EXPECT_NEAR(gate[i], g / (1 + std::exp(-g)) * up[i], 1e-6);
  }
}

const size_t kSizes[] = {1, 3, 4, 7, 8, 15, 16, 17, 31, 33, 64, 100, 2048, 4099};

TEST(OpsSimd, RmsNormMatchesScalar) {
  ForEachSimdTarget([] {
    for (size_t n : kSizes) {
      const std::vector<float> x = RandomVector(n, 100 + n, 2.0);
      const std::vector<float> w = RandomVector(n, 200 + n);
      std::vector<float> simd(n), ref(n);
      RmsNorm(x.data(), w.data(), simd.data(), n, 1e-5f);
      scalar::RmsNorm(x.data(), w.data(), ref.data(), n, 1e-5f);
      for (size_t i = 0; i < n; ++i) {
        ASSERT_NEAR(simd[i], ref[i], 1e-6f * (1 + std::fabs(ref[i]))) << "n " << n << " i " << i;
      }
    }
  });
}

// The rotation uses the same angles and roundings as the scalar code: equal bits.
TEST(OpsSimd, RopeMatchesScalarExactly) {
  struct Shape {
    int heads, head_dim, rope_dims;
  };
  ForEachSimdTarget([] {
    for (Shape s : {Shape{32, 64, 64},
                    {8, 80, 80},
                    {4, 96, 64},
                    {2, 128, 128},
                    {3, 10, 6},
                    {5, 34, 34},
                    {1, 2, 2}}) {
      for (int32_t pos : {0, 1, 17, 1000, 32767}) {
        std::vector<float> simd = RandomVector(s.heads * s.head_dim, pos + s.head_dim);
        std::vector<float> ref = simd;
        RopeAdjacentPairs(simd.data(), s.heads, s.head_dim, s.rope_dims, pos, 10000.0f);
        scalar::RopeAdjacentPairs(ref.data(), s.heads, s.head_dim, s.rope_dims, pos, 10000.0f);
        ASSERT_EQ(0, std::memcmp(simd.data(), ref.data(), simd.size() * sizeof(float)))
            << s.head_dim << "/" << s.rope_dims << " pos " << pos;
      }
    }
  });
}

TEST(OpsSimd, SwiGluMatchesScalar) {
  ForEachSimdTarget([] {
    for (size_t n : kSizes) {
      std::vector<float> simd = RandomVector(n, 300 + n, 4.0);
      const std::vector<float> up = RandomVector(n, 400 + n);
      if (n > 3) {  // far tails: exp overflow on one side, underflow on the other
        simd[0] = -100.0f;
        simd[1] = 100.0f;
        simd[2] = -88.5f;
      }
      std::vector<float> ref = simd;
      SwiGlu(simd.data(), up.data(), n);
      scalar::SwiGlu(ref.data(), up.data(), n);
      for (size_t i = 0; i < n; ++i) {
        ASSERT_FALSE(std::isnan(simd[i]));
        ASSERT_NEAR(simd[i], ref[i], 2e-6f * (1 + std::fabs(ref[i]))) << "n " << n << " i " << i;
      }
    }
  });
}

// An element's result does not depend on where it sits in the array (so
// neither on the batch size): the ragged tail takes the vector path too.
TEST(OpsSimd, SwiGluIndependentOfPosition) {
  ForEachSimdTarget([] {
    const size_t n = 37;
    const std::vector<float> g = RandomVector(n, 5, 3.0);
    const std::vector<float> up = RandomVector(n, 6);
    std::vector<float> whole = g;
    SwiGlu(whole.data(), up.data(), n);
    for (size_t start : {1u, 5u, 21u, 36u}) {
      std::vector<float> part(g.begin() + start, g.end());
      SwiGlu(part.data(), up.data() + start, part.size());
      ASSERT_EQ(0, std::memcmp(part.data(), whole.data() + start, part.size() * sizeof(float)))
          << start;
    }
  });
}

TEST(OpsSimd, SoftmaxMatchesScalar) {
  ForEachSimdTarget([] {
    for (size_t n : kSizes) {
      std::vector<float> simd = RandomVector(n, 500 + n, 5.0);
      if (n > 2) simd[n / 2] = -INFINITY;  // a masked score
      std::vector<float> ref = simd;
      Softmax(simd.data(), n);
      scalar::Softmax(ref.data(), n);
      double total = 0;
      for (size_t i = 0; i < n; ++i) {
        ASSERT_NEAR(simd[i], ref[i], 2e-6f * (1 + ref[i])) << "n " << n << " i " << i;
        total += simd[i];
      }
      EXPECT_NEAR(total, 1.0, 1e-5);
    }
  });
}

TEST(OpsSimd, AddIsExact) {
  ForEachSimdTarget([] {
    for (size_t n : kSizes) {
      std::vector<float> simd = RandomVector(n, 600 + n);
      const std::vector<float> x = RandomVector(n, 700 + n);
      std::vector<float> ref = simd;
      Add(simd.data(), x.data(), n);
      scalar::Add(ref.data(), x.data(), n);
      ASSERT_EQ(0, std::memcmp(simd.data(), ref.data(), n * sizeof(float))) << n;
    }
  });
}

}  // namespace
}  // namespace autan::kernels
