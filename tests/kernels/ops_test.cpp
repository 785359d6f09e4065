#include "kernels/ops.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/fp16.h"
#include "core/rng.h"
#include "kernels/attention.h"

namespace autan::kernels {
namespace {

std::vector<float> RandomVector(size_t n, uint64_t seed, double scale = 1.0) {
  Rng rng(seed);
  std::vector<float> v(n);
  for (float& x : v) x = static_cast<float>(rng.Normal() * scale);
  return v;
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

// One head over a ring of f16 slots, against a direct double computation.
TEST(Attention, RingBufferWindowMatchesDirectComputation) {
  const int head_dim = 16, capacity = 6,
            stride = 40;  // stride > head_dim: other heads between rows
  Rng rng(4);
  std::vector<uint16_t> k(capacity * stride), v(capacity * stride);
  for (auto& e : k) e = Fp32ToFp16(static_cast<float>(rng.Normal()));
  for (auto& e : v) e = Fp32ToFp16(static_cast<float>(rng.Normal()));
  const std::vector<float> q = RandomVector(head_dim, 5);
  for (auto [first, last] : {std::pair{0, 0}, {2, 5}, {7, 11}, {10, 14}}) {
    std::vector<float> out(head_dim), scores(capacity);
    const float scale = 0.25f;
    AttendHead({.q = q.data(),
                .k = k.data(),
                .v = v.data(),
                .row_stride = stride,
                .capacity = capacity,
                .first_pos = first,
                .last_pos = last,
                .head_dim = head_dim,
                .scale = scale,
                .scores = scores.data(),
                .out = out.data()});
    std::vector<double> w;
    double max = -1e300, sum = 0;
    for (int p = first; p <= last; ++p) {
      double dot = 0;
      for (int d = 0; d < head_dim; ++d) dot += q[d] * Fp16ToFp32(k[(p % capacity) * stride + d]);
      w.push_back(dot * scale);
      max = std::max(max, w.back());
    }
    for (double& x : w) sum += (x = std::exp(x - max));
    for (int d = 0; d < head_dim; ++d) {
      double expected = 0;
      for (int p = first; p <= last; ++p) {
        expected += w[p - first] / sum * Fp16ToFp32(v[(p % capacity) * stride + d]);
      }
      ASSERT_NEAR(out[d], expected, 1e-5) << first << ".." << last;
    }
  }
}

}  // namespace
}  // namespace autan::kernels
