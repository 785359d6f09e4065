// The x86 activation conversions against QuantizeRow: bit for bit, since the
// activations must round exactly as llama.cpp rounds them.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "core/fp16.h"
#include "core/rng.h"
#include "kernels/quant.h"
#include "kernels/quant_blocks.h"

#if defined(__x86_64__)
#include "kernels/x86/packed.h"

namespace autan::kernels::x86 {
namespace {

bool HasAvx2() {
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
         __builtin_cpu_supports("f16c");
}

// Rows that exercise rounding: random values of several scales, exact
// halfway cases (steps of 0.5 up to +-127, so d = 1), ties of the largest
// magnitude with either sign first, zero blocks and extreme magnitudes.
std::vector<std::vector<float>> Rows(size_t n) {
  std::vector<std::vector<float>> rows;
  Rng rng(5);
  for (double scale : {1e-30, 1e-3, 1.0, 7.0, 1e20}) {
    std::vector<float> x(n);
    for (float& v : x) v = static_cast<float>(rng.Normal() * scale);
    rows.push_back(x);
  }
  std::vector<float> halves(n);
  for (size_t i = 0; i < n; ++i)
    halves[i] = 0.5f * static_cast<float>(static_cast<int>(i % 509) - 254);
  rows.push_back(halves);
  for (float sign : {1.0f, -1.0f}) {
    std::vector<float> ties(n);
    for (size_t i = 0; i < n; ++i) ties[i] = static_cast<float>(rng.Normal());
    for (size_t b = 0; b < n; b += 32) {
      ties[b + 3] = 9.0f * sign;
      ties[b + 17] = -9.0f * sign;
    }
    rows.push_back(ties);
  }
  std::vector<float> sparse(n, 0.0f);
  for (size_t i = 256; i < n; i += 7) sparse[i] = static_cast<float>(rng.Normal());
  rows.push_back(sparse);
  return rows;
}

TEST(SimdPack, Q8BlocksMatchQuantizeRowBitForBit) {
  if (!HasAvx2()) GTEST_SKIP() << "no AVX2";
  const size_t n = 512;
  for (const std::vector<float>& x : Rows(n)) {
    std::vector<BlockQ8_0> q0(n / kQK);
    std::vector<BlockQ8_1> q1(n / kQK);
    QuantizeRow(DType::kQ8_0, x.data(), q0.data(), n);
    QuantizeRow(DType::kQ8_1, x.data(), q1.data(), n);
    struct Case {
      void (*pack)(const float*, size_t, uint8_t*);
      int zero_point;
      bool sum;
    };
    for (const Case& c : {Case{PackQ8ForQ4_0, 8, false}, Case{PackQ8ForQ5_0, 16, false},
                          Case{PackQ8ForQ8_0, 0, false}, Case{PackQ8_1, 0, true}}) {
      std::vector<PackedQ8Block> p(n / kQK);
      ASSERT_EQ(PackedQ8Bytes(n), p.size() * sizeof(PackedQ8Block));
      c.pack(x.data(), n, reinterpret_cast<uint8_t*>(p.data()));
      for (size_t b = 0; b < n / kQK; ++b) {
        const int8_t* want = c.sum ? q1[b].qs : q0[b].qs;
        ASSERT_EQ(0, std::memcmp(p[b].qs, want, kQK)) << "block " << b;
        ASSERT_EQ(p[b].d, Fp16ToFp32(c.sum ? q1[b].d : q0[b].d)) << "block " << b;
        ASSERT_EQ(p[b].s, c.sum ? Fp16ToFp32(q1[b].s) : 0.0f) << "block " << b;
        for (int k = 0; k < 4; ++k) {
          int32_t lane = 0;
          for (int j = 0; j < 4; ++j) lane += want[4 * k + j] + want[16 + 4 * k + j];
          ASSERT_EQ(p[b].bias[k], -c.zero_point * lane) << "block " << b << " lane " << k;
        }
      }
    }
  }
}

TEST(SimdPack, Q8KMatchesQuantizeRowBitForBit) {
  if (!HasAvx2()) GTEST_SKIP() << "no AVX2";
  const size_t n = 1024;
  for (const std::vector<float>& x : Rows(n)) {
    std::vector<BlockQ8_K> want(n / kQK_K);
    std::vector<BlockQ8_K> got(n / kQK_K);
    QuantizeRow(DType::kQ8_K, x.data(), want.data(), n);
    ASSERT_EQ(PackedQ8KBytes(n), got.size() * sizeof(BlockQ8_K));
    PackQ8_K(x.data(), n, reinterpret_cast<uint8_t*>(got.data()));
    ASSERT_EQ(0, std::memcmp(want.data(), got.data(), got.size() * sizeof(BlockQ8_K)));
  }
}

TEST(SimdPack, FloatRowsRoundLikeQuantizeRow) {
  if (!HasAvx2()) GTEST_SKIP() << "no AVX2";
  for (size_t n : {1u, 7u, 8u, 45u}) {
    for (std::vector<float> x : Rows(512)) {
      x.resize(n);
      x[0] = std::nanf("");
      if (n > 1) x[1] = 65520.0f;  // rounds to infinity in f16
      for (DType t : {DType::kF16, DType::kBF16}) {
        std::vector<uint16_t> q(n);
        QuantizeRow(t, x.data(), q.data(), n);
        std::vector<float> want(n);
        DequantizeRow(t, q.data(), want.data(), n);
        std::vector<float> got(n);
        (t == DType::kF16 ? PackF16 : PackBF16)(x.data(), n,
                                                reinterpret_cast<uint8_t*>(got.data()));
        for (size_t i = 0; i < n; ++i) {
          if (std::isnan(want[i])) {
            ASSERT_TRUE(std::isnan(got[i]));
          } else {
            ASSERT_EQ(want[i], got[i]) << Info(t).name << " n " << n << " at " << i;
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace autan::kernels::x86
#endif
