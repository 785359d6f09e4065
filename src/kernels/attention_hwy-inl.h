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

// Dot product of two zero-padded rows of `padded` floats (a multiple of the lanes).
inline float Dot(const float* HWY_RESTRICT a, const float* HWY_RESTRICT b, size_t padded) {
  const hn::ScalableTag<float> df;
  const size_t n = hn::Lanes(df);
  auto s0 = hn::Zero(df);
  auto s1 = hn::Zero(df);
  size_t i = 0;
  for (; i + 2 * n <= padded; i += 2 * n) {
    s0 = hn::MulAdd(hn::Load(df, a + i), hn::Load(df, b + i), s0);
    s1 = hn::MulAdd(hn::Load(df, a + i + n), hn::Load(df, b + i + n), s1);
  }
  if (i < padded) s0 = hn::MulAdd(hn::Load(df, a + i), hn::Load(df, b + i), s0);
  return hn::GetLane(hn::SumOfLanes(df, hn::Add(s0, s1)));
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
  float tile_max = -INFINITY;
  for (int j = 0; j < n_tile; ++j) {
    w[j] = Dot(q, keys + j * padded, padded) * scale;
    tile_max = std::max(tile_max, w[j]);
  }
  for (int j = n_tile; j < kMaxTile; ++j) w[j] = -INFINITY;  // exp gives 0
  const float new_max = std::max(st.max, tile_max);
  const float correction = st.max == -INFINITY ? 0.0f : std::exp(st.max - new_max);
  const hn::CappedTag<float, kMaxTile> dt;
  const auto m = hn::Set(dt, new_max);
  for (int j = 0; j < kMaxTile; j += static_cast<int>(hn::Lanes(dt))) {
    hn::Store(hn::Exp(dt, hn::Sub(hn::Load(dt, w + j), m)), dt, w + j);
  }
  float tile_sum = 0.0f;
  for (int j = 0; j < n_tile; ++j) tile_sum += w[j];
  st.sum = st.sum * correction + tile_sum;
  st.max = new_max;
  return correction;
}

// acc = acc * correction + sum_j w[j] * values[j]
inline void AccumulateTile(const float* HWY_RESTRICT values, const float* HWY_RESTRICT w,
                           int n_tile, size_t padded, float correction, float* HWY_RESTRICT acc) {
  const hn::ScalableTag<float> df;
  const size_t n = hn::Lanes(df);
  const auto c = hn::Set(df, correction);
  for (size_t i = 0; i < padded; i += n) {
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
  const int tile = static_cast<int>(std::clamp<size_t>(kTileFloats / padded, 1, kMaxTile));

  HWY_ALIGN float q[kMaxQueries * kMaxPadded];
  HWY_ALIGN float acc[kMaxQueries * kMaxPadded];
  HWY_ALIGN float keys[kTileFloats];
  HWY_ALIGN float values[kTileFloats];
  HWY_ALIGN float w[kMaxQueries][kMaxTile];
  QueryState st[kMaxQueries];
  for (int g = 0; g < n_q; ++g) {
    std::copy_n(a.q + (q0 + g) * hd, hd, q + g * padded);
    std::fill(q + g * padded + hd, q + (g + 1) * padded, 0.0f);
    std::fill_n(acc + g * padded, padded, 0.0f);
  }

  for (int32_t p0 = a.first_pos; p0 <= a.last_pos; p0 += tile) {
    const int n_tile = std::min(tile, a.last_pos - p0 + 1);
    for (int j = 0; j < n_tile; ++j) {
      const size_t offset = static_cast<size_t>((p0 + j) % a.capacity) * a.row_bytes;
      ExpandRow(a.type, a.k + offset, hd, padded, keys + j * padded);
      ExpandRow(a.type, a.v + offset, hd, padded, values + j * padded);
    }
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
