// Grouped-query attention: the scalar reference against a direct float64
// computation, and every SIMD target against the scalar reference.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "core/fp16.h"
#include "core/rng.h"
#include "hwy/targets.h"
#include "kernels/attention.h"

namespace autan::kernels {
namespace {

template <class Fn>
void ForEachSimdTarget(const Fn& fn) {
  for (int64_t target : hwy::SupportedAndGeneratedTargets()) {
    hwy::SetSupportedTargetsForTest(target);
    SCOPED_TRACE(hwy::TargetName(target));
    fn();
  }
  hwy::SetSupportedTargetsForTest(0);
}

std::vector<float> RandomVector(size_t n, uint64_t seed, double scale = 1.0) {
  Rng rng(seed);
  std::vector<float> v(n);
  for (float& x : v) x = static_cast<float>(rng.Normal() * scale);
  return v;
}

// A ring of `capacity` rows, each holding n_kv_heads heads of head_dim values.
struct Cache {
  KvType type;
  int head_dim, n_kv_heads, capacity;
  size_t row_bytes;
  std::vector<uint8_t> k, v;

  Cache(KvType t, int hd, int heads, int cap, uint64_t seed)
      : type(t), head_dim(hd), n_kv_heads(heads), capacity(cap) {
    const size_t row = static_cast<size_t>(hd) * heads;
    row_bytes = KvRowBytes(t, row);
    k.resize(row_bytes * cap);
    v.resize(row_bytes * cap);
    for (int s = 0; s < cap; ++s) {
      // Keys with a spread of magnitudes so the softmax is far from uniform.
      StoreKvRow(t, RandomVector(row, seed + 2 * s, 2.0).data(), &k[s * row_bytes], row);
      StoreKvRow(t, RandomVector(row, seed + 2 * s + 1).data(), &v[s * row_bytes], row);
    }
  }
  size_t HeadOffset(int h) const { return KvRowBytes(type, static_cast<size_t>(h) * head_dim); }

  // Value d of head h in slot s, decoded independently of the kernels.
  double At(const std::vector<uint8_t>& m, int s, int h, int d) const {
    const uint8_t* row = &m[s * row_bytes];
    const size_t i = static_cast<size_t>(h) * head_dim + d;
    uint16_t bits;
    if (type == KvType::kF16) {
      std::memcpy(&bits, row + 2 * i, 2);
      return Fp16ToFp32(bits);
    }
    const uint8_t* block = row + i / 32 * 34;
    std::memcpy(&bits, block, 2);
    return static_cast<double>(Fp16ToFp32(bits)) * static_cast<int8_t>(block[2 + i % 32]);
  }

  GroupAttention Args(int h, const float* q, int n_q, int first, int last, float* out) const {
    return {.q = q,
            .n_q = n_q,
            .k = k.data() + HeadOffset(h),
            .v = v.data() + HeadOffset(h),
            .row_bytes = row_bytes,
            .type = type,
            .capacity = capacity,
            .first_pos = first,
            .last_pos = last,
            .head_dim = head_dim,
            .scale = 1.0f / std::sqrt(static_cast<float>(head_dim)),
            .out = out};
  }
};

const std::pair<int, int> kWindows[] = {{0, 0}, {0, 5}, {2, 13}, {7, 11}, {10, 33}, {30, 59}};

TEST(Attention, ScalarMatchesDirectComputation) {
  for (KvType type : {KvType::kF16, KvType::kQ8_0}) {
    const int head_dim = 64, heads = 2, capacity = 30, group = 3;
    const Cache c(type, head_dim, heads, capacity, 11);
    const std::vector<float> q = RandomVector(group * head_dim, 12);
    for (auto [first, last] : kWindows) {
      if (last - first + 1 > capacity) continue;
      std::vector<float> out(group * head_dim);
      scalar::AttendGroup(c.Args(1, q.data(), group, first, last, out.data()));
      for (int g = 0; g < group; ++g) {
        std::vector<double> w;
        double max = -1e300, sum = 0;
        for (int p = first; p <= last; ++p) {
          double dot = 0;
          for (int d = 0; d < head_dim; ++d)
            dot += q[g * head_dim + d] * c.At(c.k, p % capacity, 1, d);
          w.push_back(dot / 8.0);
          max = std::max(max, w.back());
        }
        for (double& x : w) sum += (x = std::exp(x - max));
        for (int d = 0; d < head_dim; ++d) {
          double expected = 0;
          for (int p = first; p <= last; ++p) {
            expected += w[p - first] / sum * c.At(c.v, p % capacity, 1, d);
          }
          ASSERT_NEAR(out[g * head_dim + d], expected, 2e-5)
              << first << ".." << last << " query " << g << " dim " << d;
        }
      }
    }
  }
}

struct Case {
  KvType type;
  int head_dim;
  int group;
};

TEST(AttentionSimd, MatchesScalarForEveryShapeAndWindow) {
  std::vector<Case> cases;
  for (int hd : {32, 64, 80, 96, 128, 256}) {
    for (int group : {1, 4, 8, 12}) {
      cases.push_back({KvType::kF16, hd, group});
      if (hd % 32 == 0) cases.push_back({KvType::kQ8_0, hd, group});
    }
  }
  for (int hd : {2, 34, 72, 1024}) cases.push_back({KvType::kF16, hd, 4});  // ragged vectors
  ForEachSimdTarget([&] {
    for (const Case& k : cases) {
      const int heads = 3, capacity = 40;
      const Cache c(k.type, k.head_dim, heads, capacity, 7 * k.head_dim + k.group);
      const std::vector<float> q = RandomVector(static_cast<size_t>(k.group) * k.head_dim, 3);
      for (auto [first, last] : kWindows) {
        std::vector<float> simd(q.size()), ref(q.size());
        AttendGroup(c.Args(2, q.data(), k.group, first, last, simd.data()));
        scalar::AttendGroup(c.Args(2, q.data(), k.group, first, last, ref.data()));
        for (size_t i = 0; i < q.size(); ++i) {
          ASSERT_NEAR(simd[i], ref[i], 1e-5f * (1 + std::fabs(ref[i])))
              << (k.type == KvType::kF16 ? "f16" : "q8_0") << " head_dim " << k.head_dim
              << " group " << k.group << " window " << first << ".." << last << " at " << i;
        }
      }
    }
  });
}

// A query's result does not depend on the other queries computed with it,
// so splitting a group differently can never change a bit.
TEST(AttentionSimd, QueryResultIndependentOfGroupSize) {
  ForEachSimdTarget([] {
    for (KvType type : {KvType::kF16, KvType::kQ8_0}) {
      const int head_dim = 96, group = 10, capacity = 50;
      const Cache c(type, head_dim, 1, capacity, 21);
      const std::vector<float> q = RandomVector(group * head_dim, 22);
      std::vector<float> all(q.size());
      AttendGroup(c.Args(0, q.data(), group, 3, 47, all.data()));
      for (int g = 0; g < group; ++g) {
        std::vector<float> one(head_dim);
        AttendGroup(c.Args(0, &q[g * head_dim], 1, 3, 47, one.data()));
        ASSERT_EQ(0, std::memcmp(one.data(), &all[g * head_dim], head_dim * sizeof(float))) << g;
      }
    }
  });
}

// A paged cache holds the same rows in shuffled blocks (with unused rows in
// between); reading through the block table must give the very same bits.
TEST(AttentionSimd, PagedCacheMatchesContiguous) {
  for (KvType type : {KvType::kF16, KvType::kQ8_0}) {
    const int head_dim = 64, heads = 2, capacity = 37, group = 4, block_size = 8;
    const Cache c(type, head_dim, heads, capacity, 41);
    const int n_blocks = (capacity + block_size - 1) / block_size;
    // Logical block i lives in physical block table[i] of a pool twice as large.
    std::vector<int32_t> table(n_blocks);
    for (int i = 0; i < n_blocks; ++i) table[i] = (i * 7 + 3) % (2 * n_blocks);
    std::vector<uint8_t> k(c.row_bytes * 2 * n_blocks * block_size, 0xA5);
    std::vector<uint8_t> v(k.size(), 0x5A);
    for (int s = 0; s < capacity; ++s) {
      const size_t row = KvSlotRow(s, table.data(), block_size);
      std::memcpy(&k[row * c.row_bytes], &c.k[s * c.row_bytes], c.row_bytes);
      std::memcpy(&v[row * c.row_bytes], &c.v[s * c.row_bytes], c.row_bytes);
    }
    const std::vector<float> q = RandomVector(group * head_dim, 42);
    for (auto [first, last] : {std::pair{0, 36}, {5, 29}, {20, 50}, {36, 70}}) {
      std::vector<float> want(q.size()), got(q.size()), ref(q.size());
      GroupAttention a = c.Args(1, q.data(), group, first, last, want.data());
      AttendGroup(a);
      a.k = k.data() + c.HeadOffset(1);
      a.v = v.data() + c.HeadOffset(1);
      a.blocks = table.data();
      a.block_size = block_size;
      a.out = got.data();
      AttendGroup(a);
      ASSERT_EQ(0, std::memcmp(want.data(), got.data(), got.size() * sizeof(float)))
          << first << ".." << last;
      a.out = ref.data();
      scalar::AttendGroup(a);
      for (size_t i = 0; i < q.size(); ++i) {
        ASSERT_NEAR(got[i], ref[i], 1e-5f * (1 + std::fabs(ref[i]))) << first << ".." << last;
      }
    }
  }
}

TEST(Attention, KvRowsStoreWithinTheirPrecision) {
  const size_t n = 128;
  const std::vector<float> x = RandomVector(n, 31, 3.0);
  EXPECT_EQ(KvRowBytes(KvType::kF16, n), 256u);
  EXPECT_EQ(KvRowBytes(KvType::kQ8_0, n), 4u * 34);
  std::vector<uint16_t> h(n);
  StoreKvRow(KvType::kF16, x.data(), h.data(), n);
  for (size_t i = 0; i < n; ++i) EXPECT_EQ(h[i], Fp32ToFp16(x[i]));
  std::vector<uint8_t> q(KvRowBytes(KvType::kQ8_0, n));
  StoreKvRow(KvType::kQ8_0, x.data(), q.data(), n);
  for (size_t b = 0; b < n / 32; ++b) {
    float amax = 0;
    for (size_t i = 0; i < 32; ++i) amax = std::max(amax, std::fabs(x[b * 32 + i]));
    uint16_t bits;
    std::memcpy(&bits, &q[b * 34], 2);
    const float d = Fp16ToFp32(bits);
    EXPECT_NEAR(d, amax / 127, amax / 127 * 1e-3);
    for (size_t i = 0; i < 32; ++i) {
      const float decoded = d * static_cast<int8_t>(q[b * 34 + 2 + i]);
      EXPECT_NEAR(decoded, x[b * 32 + i], d * 0.5f + amax * 1e-3f);
    }
  }
}

}  // namespace
}  // namespace autan::kernels
