// Grouped-query attention for one SIMD target. attention_hwy.cpp includes this
// once per target through hwy/foreach_target.h; nothing else includes it.
//
// Positions are taken in tiles: the tile's keys and values are expanded to
// f32 once, every query of the group scores the tile, and the running maximum,
// sum and output of each query are rescaled once per tile (online softmax).
// Tiles start at first_pos, so a query's result depends only on its own
// positions and data, whatever the batch or the thread that computes it.

#if defined(AUTAN_KERNELS_ATTENTION_HWY_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef AUTAN_KERNELS_ATTENTION_HWY_INL_H_
#undef AUTAN_KERNELS_ATTENTION_HWY_INL_H_
#else
#define AUTAN_KERNELS_ATTENTION_HWY_INL_H_
#endif

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/check.h"
#include "core/fp16.h"
#include "hwy/cache_control.h"
#include "hwy/contrib/math/math-inl.h"
#include "hwy/highway.h"
#include "kernels/attention.h"
#include "kernels/quant_blocks.h"

HWY_BEFORE_NAMESPACE();
namespace autan::kernels::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

namespace attention {

constexpr int kMaxQueries = 8;        // queries of a group handled per pass
constexpr int kMaxTile = 16;          // positions per tile
constexpr size_t kTileFloats = 4096;  // f32 per expanded K (or V) tile: 16 KiB, stays in L1
constexpr size_t kMaxPadded = kMaxHeadDim + 64;  // head_dim rounded up to any vector width
static_assert(kMaxPadded <= kTileFloats, "a tile holds at least one row");
// Keys are scored four rows at a time: room for a partial group of four.
constexpr size_t kKeyFloats = std::max(kTileFloats, 4 * kMaxPadded);

// Expands a head's slice of one cached row to f32 and zero-fills up to `padded`.
inline void ExpandRow(KvType type, const uint8_t* HWY_RESTRICT src, size_t head_dim, size_t padded,
                      float* HWY_RESTRICT dst) {
  const hn::ScalableTag<float> df;
  const size_t n = hn::Lanes(df);
  size_t i = 0;
  if (type == KvType::kF16) {
    const hn::Rebind<hwy::float16_t, decltype(df)> dh;
    const auto* h = reinterpret_cast<const hwy::float16_t*>(src);
    for (; i + n <= head_dim; i += n)
      hn::Store(hn::PromoteTo(df, hn::LoadU(dh, h + i)), df, dst + i);
    for (; i < head_dim; ++i) {
      uint16_t bits;
      std::memcpy(&bits, src + i * sizeof(uint16_t), sizeof(bits));
      dst[i] = Fp16ToFp32(bits);
    }
  } else {
    const hn::CappedTag<float, kQK> dq;  // never wider than a block
    const hn::Rebind<int32_t, decltype(dq)> di;
    const hn::Rebind<int8_t, decltype(dq)> d8;
    const size_t nq = hn::Lanes(dq);
    for (; i < head_dim; i += kQK) {
      const uint8_t* block = src + i / kQK * sizeof(BlockQ8_0);
      uint16_t bits;
      std::memcpy(&bits, block, sizeof(bits));
      const auto d = hn::Set(dq, Fp16ToFp32(bits));
      const auto* qs = reinterpret_cast<const int8_t*>(block + sizeof(bits));
      for (size_t j = 0; j < kQK; j += nq) {
        const auto q = hn::ConvertTo(dq, hn::PromoteTo(di, hn::LoadU(d8, qs + j)));
        hn::StoreU(hn::Mul(d, q), dq, dst + i + j);
      }
    }
  }
  for (; i < padded; ++i) dst[i] = 0.0f;
}

// Dot products of one zero-padded query row with four zero-padded key rows
// (`stride` floats apart), each `padded` floats long (a multiple of the lanes).
// Loading the query once for four keys and reducing the four sums together
// roughly halves the work of four separate dot products.
inline void Dot4(const float* HWY_RESTRICT q, const float* HWY_RESTRICT k, size_t stride,
                 size_t padded, float* HWY_RESTRICT out) {
  const hn::ScalableTag<float> df;
  const size_t n = hn::Lanes(df);
  auto s0 = hn::Zero(df);
  auto s1 = hn::Zero(df);
  auto s2 = hn::Zero(df);
  auto s3 = hn::Zero(df);
  for (size_t i = 0; i < padded; i += n) {
    const auto x = hn::Load(df, q + i);
    s0 = hn::MulAdd(x, hn::Load(df, k + i), s0);
    s1 = hn::MulAdd(x, hn::Load(df, k + stride + i), s1);
    s2 = hn::MulAdd(x, hn::Load(df, k + 2 * stride + i), s2);
    s3 = hn::MulAdd(x, hn::Load(df, k + 3 * stride + i), s3);
  }
#if HWY_TARGET == HWY_SCALAR
  out[0] = hn::GetLane(s0);
  out[1] = hn::GetLane(s1);
  out[2] = hn::GetLane(s2);
  out[3] = hn::GetLane(s3);
#else
  // Within each 128-bit block: [a b c d] lanes -> [sum a, sum b, sum c, sum d].
  const auto ab = hn::Add(hn::InterleaveLower(df, s0, s1), hn::InterleaveUpper(df, s0, s1));
  const auto cd = hn::Add(hn::InterleaveLower(df, s2, s3), hn::InterleaveUpper(df, s2, s3));
  const hn::Repartition<uint64_t, decltype(df)> du;
  const auto lo =
      hn::BitCast(df, hn::InterleaveLower(du, hn::BitCast(du, ab), hn::BitCast(du, cd)));
  const auto hi =
      hn::BitCast(df, hn::InterleaveUpper(du, hn::BitCast(du, ab), hn::BitCast(du, cd)));
  HWY_ALIGN float blocks[HWY_MAX_BYTES / sizeof(float)];
  hn::Store(hn::Add(lo, hi), df, blocks);
  // Then across blocks, in block order.
  const hn::CappedTag<float, 4> d4;
  auto sum = hn::Load(d4, blocks);
  for (size_t b = 4; b < n; b += 4) sum = hn::Add(sum, hn::Load(d4, blocks + b));
  hn::StoreU(sum, d4, out);
#endif
}

// Per-query state of the online softmax.
struct QueryState {
  float max = -INFINITY;
  float sum = 0.0f;
};

// Scores one tile for one query, turns the scores into weights relative to
// the new running maximum, and returns the factor that rescales what was
// accumulated before.
inline float WeighTile(const float* HWY_RESTRICT q, const float* HWY_RESTRICT keys, int n_tile,
                       size_t padded, float scale, QueryState& st, float* HWY_RESTRICT w) {
  // Rows up to a multiple of 4 exist (zeros), so every score is computed the
  // same way whatever the tile's fill.
  for (int j = 0; j < n_tile; j += 4) Dot4(q, keys + j * padded, padded, padded, w + j);
  for (int j = n_tile; j < kMaxTile; ++j) w[j] = -INFINITY;  // exp gives 0
  // Scale, maximum and sum over whole vectors of the tile: no serial chains.
  const hn::CappedTag<float, kMaxTile> dt;
  const int lanes = static_cast<int>(hn::Lanes(dt));
  const auto vscale = hn::Set(dt, scale);
  auto vmax = hn::Set(dt, -INFINITY);
  for (int j = 0; j < kMaxTile; j += lanes) {
    const auto x = hn::Mul(hn::Load(dt, w + j), vscale);
    vmax = hn::Max(vmax, x);
    hn::Store(x, dt, w + j);
  }
  const float new_max = std::max(st.max, hn::GetLane(hn::MaxOfLanes(dt, vmax)));
  // Once the running maximum settles, most tiles leave it unchanged: exp(0) = 1.
  const float correction = st.max == -INFINITY ? 0.0f
                           : st.max == new_max ? 1.0f
                                               : std::exp(st.max - new_max);
  const auto m = hn::Set(dt, new_max);
  auto vsum = hn::Zero(dt);
  for (int j = 0; j < kMaxTile; j += lanes) {
    const auto e = hn::Exp(dt, hn::Sub(hn::Load(dt, w + j), m));
    vsum = hn::Add(vsum, e);
    hn::Store(e, dt, w + j);
  }
  const float tile_sum = hn::GetLane(hn::SumOfLanes(dt, vsum));
  st.sum = st.sum * correction + tile_sum;
  st.max = new_max;
  return correction;
}

// acc = acc * correction + sum_j w[j] * values[j]. Four vectors of a row at
// a time, so each weight is broadcast once per four multiply-adds.
inline void AccumulateTile(const float* HWY_RESTRICT values, const float* HWY_RESTRICT w,
                           int n_tile, size_t padded, float correction, float* HWY_RESTRICT acc) {
  const hn::ScalableTag<float> df;
  const size_t n = hn::Lanes(df);
  const auto c = hn::Set(df, correction);
  size_t i = 0;
  for (; i + 4 * n <= padded; i += 4 * n) {
    auto a0 = hn::Mul(hn::Load(df, acc + i), c);
    auto a1 = hn::Mul(hn::Load(df, acc + i + n), c);
    auto a2 = hn::Mul(hn::Load(df, acc + i + 2 * n), c);
    auto a3 = hn::Mul(hn::Load(df, acc + i + 3 * n), c);
    const float* v = values + i;
    for (int j = 0; j < n_tile; ++j, v += padded) {
      const auto wj = hn::Set(df, w[j]);
      a0 = hn::MulAdd(wj, hn::Load(df, v), a0);
      a1 = hn::MulAdd(wj, hn::Load(df, v + n), a1);
      a2 = hn::MulAdd(wj, hn::Load(df, v + 2 * n), a2);
      a3 = hn::MulAdd(wj, hn::Load(df, v + 3 * n), a3);
    }
    hn::Store(a0, df, acc + i);
    hn::Store(a1, df, acc + i + n);
    hn::Store(a2, df, acc + i + 2 * n);
    hn::Store(a3, df, acc + i + 3 * n);
  }
  for (; i < padded; i += n) {
    auto a = hn::Mul(hn::Load(df, acc + i), c);
    for (int j = 0; j < n_tile; ++j) {
      a = hn::MulAdd(hn::Set(df, w[j]), hn::Load(df, values + j * padded + i), a);
    }
    hn::Store(a, df, acc + i);
  }
}

// Queries [q0, q0 + n_q) of the group, at most kMaxQueries.
inline void AttendQueries(const GroupAttention& a, int q0, int n_q) {
  const hn::ScalableTag<float> df;
  const size_t hd = static_cast<size_t>(a.head_dim);
  const size_t padded = hwy::RoundUpTo(hd, hn::Lanes(df));
  AUTAN_CHECK(padded <= kMaxPadded);
  int tile = static_cast<int>(std::clamp<size_t>(kTileFloats / padded, 1, kMaxTile));
  if (tile > 4) tile -= tile % 4;

  HWY_ALIGN float q[kMaxQueries * kMaxPadded];
  HWY_ALIGN float acc[kMaxQueries * kMaxPadded];
  HWY_ALIGN float keys[kKeyFloats];
  HWY_ALIGN float values[kTileFloats];
  HWY_ALIGN float w[kMaxQueries][kMaxTile];
  QueryState st[kMaxQueries];
  for (int g = 0; g < n_q; ++g) {
    std::copy_n(a.q + (q0 + g) * hd, hd, q + g * padded);
    std::fill(q + g * padded + hd, q + (g + 1) * padded, 0.0f);
    std::fill_n(acc + g * padded, padded, 0.0f);
  }

  const size_t slice_bytes = KvRowBytes(a.type, hd);
  for (int32_t p0 = a.first_pos; p0 <= a.last_pos; p0 += tile) {
    const int n_tile = std::min(tile, a.last_pos - p0 + 1);
    // The cache is far larger than L2 at long contexts: ask for the next
    // tile's rows while this one is computed.
    const int32_t next_end = std::min(a.last_pos, p0 + 2 * tile - 1);
    for (int32_t p = p0 + tile; p <= next_end; ++p) {
      const size_t offset = KvSlotRow(p % a.capacity, a.blocks, a.block_size) * a.row_bytes;
      for (size_t b = 0; b < slice_bytes; b += 64) {
        hwy::Prefetch(a.k + offset + b);
        hwy::Prefetch(a.v + offset + b);
      }
      hwy::Prefetch(a.k + offset + slice_bytes - 1);  // a slice may straddle one more line
      hwy::Prefetch(a.v + offset + slice_bytes - 1);
    }
    for (int j = 0; j < n_tile; ++j) {
      const size_t offset = KvSlotRow((p0 + j) % a.capacity, a.blocks, a.block_size) * a.row_bytes;
      ExpandRow(a.type, a.k + offset, hd, padded, keys + j * padded);
      ExpandRow(a.type, a.v + offset, hd, padded, values + j * padded);
    }
    std::fill(keys + n_tile * padded, keys + hwy::RoundUpTo(n_tile, 4) * padded, 0.0f);
    for (int g = 0; g < n_q; ++g) {
      const float correction =
          WeighTile(q + g * padded, keys, n_tile, padded, a.scale, st[g], w[g]);
      AccumulateTile(values, w[g], n_tile, padded, correction, acc + g * padded);
    }
  }

  for (int g = 0; g < n_q; ++g) {
    const float inv = 1.0f / st[g].sum;
    float* out = a.out + (q0 + g) * hd;
    for (size_t i = 0; i < hd; ++i) out[i] = acc[g * padded + i] * inv;
  }
}

}  // namespace attention

void AttendGroupImpl(const GroupAttention& a) {
  for (int q0 = 0; q0 < a.n_q; q0 += attention::kMaxQueries) {
    attention::AttendQueries(a, q0, std::min(attention::kMaxQueries, a.n_q - q0));
  }
}

}  // namespace autan::kernels::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif  // AUTAN_KERNELS_ATTENTION_HWY_INL_H_
