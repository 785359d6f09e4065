// The x86 activation conversions against QuantizeRow: bit for bit, since the
// activations must round exactly as llama.cpp rounds them.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "core/fp16.h"
#include "core/rng.h"
#include "kernels/quant.h"
#include "kernels/quant_blocks.h"

#if defined(__x86_64__)
#include "kernels/x86/dispatch.h"
#include "kernels/x86/packed.h"

namespace autan::kernels::x86 {
namespace {

bool HasAvx2() { return Avx2Kernels() != nullptr; }

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

using PackFn = void (*)(const float*, size_t, size_t, size_t, size_t, uint8_t*);

struct Q8Case {
  PackFn pack;
  int zero_point;
  bool sum;  // Q8_1
};

constexpr Q8Case kQ8Cases[] = {{PackQ8ForQ4_0, 8, false},
                               {PackQ8ForQ5_0, 16, false},
                               {PackQ8ForQ8_0, 0, false},
                               {PackQ8_1, 0, true}};

// A single row (decode layout): one PackedQ8Block per block.
TEST(SimdPack, Q8RowMatchesQuantizeRowBitForBit) {
  if (!HasAvx2()) GTEST_SKIP() << "no AVX2";
  const size_t n = 512;
  for (const std::vector<float>& x : Rows(n)) {
    std::vector<BlockQ8_0> q0(n / kQK);
    std::vector<BlockQ8_1> q1(n / kQK);
    QuantizeRow(DType::kQ8_0, x.data(), q0.data(), n);
    QuantizeRow(DType::kQ8_1, x.data(), q1.data(), n);
    for (const Q8Case& c : kQ8Cases) {
      std::vector<PackedQ8Block> p(n / kQK);
      ASSERT_EQ(PackedQ8Bytes(n, 1), p.size() * sizeof(PackedQ8Block));
      c.pack(x.data(), n, 1, 0, 1, reinterpret_cast<uint8_t*>(p.data()));
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

// Checks group block `g` row `c` against one quantized block: quants,
// partial sums and scales.
void ExpectGroupRow(const PackedQ8Group& g, size_t c, const int8_t* qs, float d, float s) {
  int32_t lo = 0;
  int32_t all = 0;
  for (size_t v = 0; v < kQK; ++v) {
    ASSERT_EQ(g.qs[v / 4][4 * c + v % 4], qs[v]) << "row " << c << " value " << v;
    all += qs[v];
    if (v < 16) lo += qs[v];
  }
  ASSERT_EQ(g.sum[c], all);
  ASSERT_EQ(g.sum_lo[c], lo);
  ASSERT_EQ(g.d[c], d);
  ASSERT_EQ(g.s[c], s);
}

// Several rows (matrix-matrix layout): groups of 8 rows, the rows past the
// batch zero, whatever split of the rows the pool makes.
TEST(SimdPack, Q8GroupsMatchQuantizeRowBitForBit) {
  if (!HasAvx2()) GTEST_SKIP() << "no AVX2";
  const size_t n = 256;
  const size_t nb = n / kQK;
  const std::vector<std::vector<float>> rows = Rows(n);
  for (size_t batch : {2u, 8u, 9u}) {
    std::vector<float> x;
    for (size_t b = 0; b < batch; ++b) x.insert(x.end(), rows[b].begin(), rows[b].end());
    for (const Q8Case& c : kQ8Cases) {
      const size_t groups = (batch + 7) / 8;
      std::vector<PackedQ8Group> p(groups * nb);
      std::memset(p.data(), 0x5a, p.size() * sizeof(PackedQ8Group));  // all must be written
      ASSERT_EQ(PackedQ8Bytes(n, batch), p.size() * sizeof(PackedQ8Group));
      uint8_t* dst = reinterpret_cast<uint8_t*>(p.data());
      for (size_t begin = 0; begin < batch; begin += 8) {
        c.pack(x.data(), n, batch, begin, std::min(batch, begin + 8), dst);
      }
      const int8_t zeros[kQK] = {};
      for (size_t b = 0; b < groups * 8; ++b) {
        std::vector<BlockQ8_1> q1(nb);
        std::vector<BlockQ8_0> q0(nb);
        if (b < batch) {
          QuantizeRow(DType::kQ8_1, &x[b * n], q1.data(), n);
          QuantizeRow(DType::kQ8_0, &x[b * n], q0.data(), n);
        }
        for (size_t i = 0; i < nb; ++i) {
          const PackedQ8Group& g = p[(b / 8) * nb + i];
          if (b >= batch) {
            ExpectGroupRow(g, b % 8, zeros, 0.0f, 0.0f);
          } else if (c.sum) {
            ExpectGroupRow(g, b % 8, q1[i].qs, Fp16ToFp32(q1[i].d), Fp16ToFp32(q1[i].s));
          } else {
            ExpectGroupRow(g, b % 8, q0[i].qs, Fp16ToFp32(q0[i].d), 0.0f);
          }
          if (::testing::Test::HasFatalFailure()) return;
        }
      }
    }
  }
}

TEST(SimdPack, Q8KMatchesQuantizeRowBitForBit) {
  if (!HasAvx2()) GTEST_SKIP() << "no AVX2";
  const size_t n = 1024;
  const std::vector<std::vector<float>> rows = Rows(n);
  for (const std::vector<float>& x : rows) {
    std::vector<BlockQ8_K> want(n / kQK_K);
    std::vector<BlockQ8_K> got(n / kQK_K);
    QuantizeRow(DType::kQ8_K, x.data(), want.data(), n);
    ASSERT_EQ(PackedQ8KBytes(n, 1), got.size() * sizeof(BlockQ8_K));
    PackQ8_K(x.data(), n, 1, 0, 1, reinterpret_cast<uint8_t*>(got.data()));
    ASSERT_EQ(0, std::memcmp(want.data(), got.data(), got.size() * sizeof(BlockQ8_K)));
  }
  // Groups: each 32-value block carries its super-block's d.
  const size_t batch = 3;
  std::vector<float> x;
  for (size_t b = 0; b < batch; ++b) x.insert(x.end(), rows[b + 4].begin(), rows[b + 4].end());
  std::vector<PackedQ8Group> p(n / kQK);
  ASSERT_EQ(PackedQ8KBytes(n, batch), p.size() * sizeof(PackedQ8Group));
  PackQ8_K(x.data(), n, batch, 0, batch, reinterpret_cast<uint8_t*>(p.data()));
  for (size_t b = 0; b < batch; ++b) {
    std::vector<BlockQ8_K> want(n / kQK_K);
    QuantizeRow(DType::kQ8_K, &x[b * n], want.data(), n);
    for (size_t i = 0; i < n / kQK; ++i) {
      ExpectGroupRow(p[i], b, want[i / 8].qs + kQK * (i % 8), want[i / 8].d, 0.0f);
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
}

TEST(SimdPack, FloatRowsRoundLikeQuantizeRow) {
  if (!HasAvx2()) GTEST_SKIP() << "no AVX2";
  for (size_t n : {1u, 7u, 8u, 45u}) {
    for (std::vector<float> x : Rows(512)) {
      x.resize(2 * n);
      x[0] = std::nanf("");
      if (n > 1) x[1] = 65520.0f;  // rounds to infinity in f16
      for (DType t : {DType::kF16, DType::kBF16}) {
        std::vector<uint16_t> q(2 * n);
        QuantizeRow(t, x.data(), q.data(), 2 * n);
        std::vector<float> want(2 * n);
        DequantizeRow(t, q.data(), want.data(), 2 * n);
        std::vector<float> got(2 * n);
        ASSERT_EQ(PackedFloatBytes(n, 2), got.size() * sizeof(float));
        (t == DType::kF16 ? PackF16 : PackBF16)(x.data(), n, 2, 0, 2,
                                                reinterpret_cast<uint8_t*>(got.data()));
        for (size_t i = 0; i < 2 * n; ++i) {
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
