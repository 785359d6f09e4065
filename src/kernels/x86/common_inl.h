// Shared pieces of the x86 kernels, included only by the per-instruction-set
// units (avx512.cpp, avx2.cpp) after they define their `Isa` traits. Every
// definition here has internal linkage on purpose: each unit gets its own
// copy compiled for its own instruction set, so the linker can never hand an
// AVX-512 body to a caller on an AVX2-only CPU. For the same reason these
// headers use no standard-library templates.
//
// Determinism: every kernel computes an output element with the same
// operations whether it runs as a matrix-vector product (batch 1) or inside a
// larger tile, so results never depend on the batch size or thread count.
// Tiles only decide which registers hold which element.
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/matmul.h"
#include "kernels/x86/packed.h"

namespace autan::kernels::x86 {
namespace {  // NOLINT(build/namespaces): one copy per instruction set, see above

inline size_t Min(size_t a, size_t b) { return a < b ? a : b; }

inline uint16_t Load16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

inline uint32_t Load32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

inline __m128i Load128(const void* p) { return _mm_loadu_si128(static_cast<const __m128i*>(p)); }
inline __m256i Load256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

inline float Half(const uint8_t* p) { return _cvtsh_ss(Load16(p)); }

// Sums of lanes in a fixed order.
inline float Sum4(const float* l) { return (l[0] + l[1]) + (l[2] + l[3]); }
inline float Sum8(__m256 v) {
  alignas(32) float l[8];
  _mm256_store_ps(l, v);
  return Sum4(l) + Sum4(l + 4);
}

// Sum of the 8 int32 lanes (exact).
inline int32_t SumI32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
  return _mm_cvtsi128_si32(s);
}

// How far ahead software prefetch runs over the weight rows a tile reads. A
// tile reads its rows side by side, a short stream each, which the hardware
// prefetchers follow poorly; the rows of a tile are contiguous, so software
// prefetch walks that range linearly at the pace the tile consumes it, this
// many bytes ahead: matrix-vector tiles into L1; matrix-matrix tiles, whose
// activations stream through L1 in between, into L2.
constexpr size_t kPrefetchBytes = 24 * 1024;
constexpr size_t kGemmPrefetchAhead = 8192;

// Starts fetching the first bytes of a thread's rows, which no earlier step
// prefetched: without it every range starts with a latency-bound stretch.
inline void WarmUp(const uint8_t* p, size_t n) {
  for (size_t o = 0; o < n && o < kPrefetchBytes; o += 64) {
    _mm_prefetch(reinterpret_cast<const char*>(p + o), _MM_HINT_T0);
  }
}

// `auto`: the hint is an enum _mm_hint with GCC and an int with clang.
template <size_t kBytesPerStep, auto kHint = _MM_HINT_T0>
inline void PrefetchStep(const uint8_t* p) {
  for (size_t o = 0; o < kBytesPerStep; o += 64) {
    _mm_prefetch(reinterpret_cast<const char*>(p + o), kHint);
  }
}

// Sums of each of 8 vectors' lanes: lane k of the result is the sum of v[k].
inline __m256i SumEach8(const __m256i v[8]) {
  __m256i t[4];
  for (int k = 0; k < 4; ++k) {
    t[k] = _mm256_add_epi32(_mm256_unpacklo_epi32(v[2 * k], v[2 * k + 1]),
                            _mm256_unpackhi_epi32(v[2 * k], v[2 * k + 1]));
  }
  const __m256i u0 =
      _mm256_add_epi32(_mm256_unpacklo_epi64(t[0], t[1]), _mm256_unpackhi_epi64(t[0], t[1]));
  const __m256i u1 =
      _mm256_add_epi32(_mm256_unpacklo_epi64(t[2], t[3]), _mm256_unpackhi_epi64(t[2], t[3]));
  return _mm256_add_epi32(_mm256_permute2x128_si256(u0, u1, 0x20),
                          _mm256_permute2x128_si256(u0, u1, 0x31));
}

// --- Row-major activations (float kernels) -----------------------------------
// Tiles of K::kRows weight rows by up to K::kCols activation rows. The last
// tile of a range may have fewer rows (K's Tile handles that) or columns (one
// instantiation per count).
template <class K, int C>
void TailTile(const GemmArgs& a, size_t r0, size_t nr, size_t c, size_t nc) {
  if constexpr (C > 0) {
    if (nc == C) {
      K::template Tile<K::kRows, C>(a, r0, nr, c);
    } else {
      TailTile<K, C - 1>(a, r0, nr, c, nc);
    }
  }
}

// Activation rows handled per pass over the weight rows: a chunk of packed
// activations stays in L2 while the thread's rows stream past it.
constexpr size_t kColChunk = 64;

template <class K>
void RowGemm(const GemmArgs& a) {
  if (a.batch == 1) {
    WarmUp(a.w + a.row_begin * a.w_stride, (a.row_end - a.row_begin) * a.w_stride);
    for (size_t r0 = a.row_begin; r0 < a.row_end; r0 += K::kGemvRows) {
      K::template Tile<K::kGemvRows, 1>(a, r0, Min(K::kGemvRows, a.row_end - r0), 0);
    }
    return;
  }
  for (size_t c0 = 0; c0 < a.batch; c0 += kColChunk) {
    const size_t c1 = Min(a.batch, c0 + kColChunk);
    for (size_t r0 = a.row_begin; r0 < a.row_end; r0 += K::kRows) {
      const size_t nr = Min(K::kRows, a.row_end - r0);
      size_t c = c0;
      for (; c + K::kCols <= c1; c += K::kCols) K::template Tile<K::kRows, K::kCols>(a, r0, nr, c);
      if (c < c1) TailTile<K, K::kCols - 1>(a, r0, nr, c, c1 - c);
    }
  }
}

// --- Grouped activations (PackedQ8Group: 8 activation rows per register) ---

// Writes a tile's accumulators: acc[r][g] lane c is weight row r0 + r
// against activation row 8 * (g0 + g) + c; rows past either end are dropped.
template <size_t R, size_t G>
void StoreGroupTile(const GemmArgs& a, size_t r0, size_t nr, size_t g0, const __m256 acc[R][G]) {
  for (size_t g = 0; g < G; ++g) {
    for (size_t r = 0; r < R && r < nr; ++r) {
      alignas(32) float l[8];
      _mm256_store_ps(l, acc[r][g]);
      for (size_t c = 0; c < 8 && 8 * (g0 + g) + c < a.batch; ++c) {
        a.y[(8 * (g0 + g) + c) * a.y_stride + r0 + r] = l[c];
      }
    }
  }
}

template <class K, size_t G>
void TailGroups(const GemmArgs& a, size_t r0, size_t nr, size_t g, size_t ng) {
  if constexpr (G > 0) {
    if (ng == G) {
      K::template Tile<K::kRows, G>(a, r0, nr, g);
    } else {
      TailGroups<K, G - 1>(a, r0, nr, g, ng);
    }
  }
}

// Bytes of grouped activations handled per pass over the weight rows: they
// stay in L2 while the weights stream past once (more passes only for
// batches too large for that).
constexpr size_t kGroupChunkBytes = 384 * 1024;

// K::Gemv(a, r0, nr) computes up to 8 weight rows for a single activation
// row; K::Tile<R, G> up to R weight rows against G groups.
// Batches of fewer groups than a full tile (a few streams decoding
// together): taller tiles, so that enough independent accumulators hide the
// latency of the dot-product instructions.
template <class K, size_t G>
void FewGroups(const GemmArgs& a, size_t ng) {
  if constexpr (G > 0) {
    if (ng < G) {
      FewGroups<K, G - 1>(a, ng);
      return;
    }
    constexpr size_t R = K::FewGroupRows(G);
    for (size_t r0 = a.row_begin; r0 < a.row_end; r0 += R) {
      K::template Tile<R, G>(a, r0, Min(R, a.row_end - r0), 0);
    }
  }
}

template <class K>
void GroupGemm(const GemmArgs& a) {
  if (a.batch == 1) {
    WarmUp(a.w + a.row_begin * a.w_stride, (a.row_end - a.row_begin) * a.w_stride);
    for (size_t r0 = a.row_begin; r0 < a.row_end; r0 += 8) K::Gemv(a, r0, Min(8, a.row_end - r0));
    return;
  }
  const size_t groups = (a.batch + 7) / 8;
  if (groups < K::kGroups) {
    WarmUp(a.w + a.row_begin * a.w_stride, (a.row_end - a.row_begin) * a.w_stride);
    FewGroups<K, K::kGroups - 1>(a, groups);
    return;
  }
  const size_t group_bytes = a.cols / 32 * sizeof(PackedQ8Group);
  const size_t chunk =
      group_bytes * groups <= kGroupChunkBytes
          ? groups
          : (kGroupChunkBytes / group_bytes + K::kGroups - 1) / K::kGroups * K::kGroups;
  for (size_t g0 = 0; g0 < groups; g0 += chunk) {
    const size_t g1 = Min(groups, g0 + chunk);
    for (size_t r0 = a.row_begin; r0 < a.row_end; r0 += K::kRows) {
      const size_t nr = Min(K::kRows, a.row_end - r0);
      size_t g = g0;
      for (; g + K::kGroups <= g1; g += K::kGroups) {
        K::template Tile<K::kRows, K::kGroups>(a, r0, nr, g);
      }
      if (g < g1) TailGroups<K, K::kGroups - 1>(a, r0, nr, g, g1 - g);
    }
  }
}

}  // namespace
}  // namespace autan::kernels::x86
