// Kernels of the float weight types (F32, F16, BF16) against f32 activations
// (see common_inl.h for how this file is built). F16/BF16 activations arrive
// already rounded to the weight's type (PackF16/PackBF16), so every product
// is exact in f32, as in the scalar reference.
//
// An output element keeps 16 float lanes: lane k accumulates, by fused
// multiply-add in order, the products of values 16m + k; a row whose length
// is not a multiple of 16 ends with one zero-padded step. The result is
// Sum8(lanes 0-7 + lanes 8-15).
#pragma once

#include "kernels/x86/common_inl.h"

namespace autan::kernels::x86 {
namespace {  // NOLINT(build/namespaces): one copy per instruction set

// Sixteen float lanes: one 512-bit register where the unit is built for
// AVX-512 (two FMAs of 16 lanes per cycle on Zen 5 and Intel's server cores),
// else two 256-bit halves. Lane k holds the same sum either way.
#if defined(__AVX512F__)
using Lanes16 = __m512;
inline Lanes16 Zero16() { return _mm512_setzero_ps(); }
inline Lanes16 LoadF32x16(const float* p) { return _mm512_loadu_ps(p); }
inline Lanes16 MulAdd16(Lanes16 a, Lanes16 b, Lanes16 acc) { return _mm512_fmadd_ps(a, b, acc); }
inline float Sum16(Lanes16 v) {
  return Sum8(_mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1)));
}
#else
struct Lanes16 {
  __m256 lo, hi;
};
inline Lanes16 Zero16() { return {_mm256_setzero_ps(), _mm256_setzero_ps()}; }
inline Lanes16 LoadF32x16(const float* p) { return {_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8)}; }
inline Lanes16 MulAdd16(Lanes16 a, Lanes16 b, Lanes16 acc) {
  return {_mm256_fmadd_ps(a.lo, b.lo, acc.lo), _mm256_fmadd_ps(a.hi, b.hi, acc.hi)};
}
inline float Sum16(Lanes16 v) { return Sum8(_mm256_add_ps(v.lo, v.hi)); }
#endif

struct F32Format {
  static constexpr size_t kBytes = 4;  // per value
  static Lanes16 Load16(const uint8_t* p) { return LoadF32x16(reinterpret_cast<const float*>(p)); }
};

struct F16Format {
  static constexpr size_t kBytes = 2;
#if defined(__AVX512F__)
  static Lanes16 Load16(const uint8_t* p) { return _mm512_cvtph_ps(Load256(p)); }
#else
  static Lanes16 Load16(const uint8_t* p) {
    return {_mm256_cvtph_ps(Load128(p)), _mm256_cvtph_ps(Load128(p + 16))};
  }
#endif
};

struct BF16Format {
  static constexpr size_t kBytes = 2;
#if defined(__AVX512F__)
  static Lanes16 Load16(const uint8_t* p) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(Load256(p)), 16));
  }
#else
  static __m256 Load8(const uint8_t* p) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(Load128(p)), 16));
  }
  static Lanes16 Load16(const uint8_t* p) { return {Load8(p), Load8(p + 16)}; }
#endif
};

template <class Isa, class F>
struct FloatKernel {
  static constexpr size_t kRows = Isa::kFloatTileRows;
  static constexpr size_t kCols = Isa::kFloatTileCols;
  static constexpr size_t kGemvRows = 4;

  // Values [0, n) of R rows against C columns, with a row stride of
  // `w_stride` bytes and a column stride of `x_stride` bytes.
  template <size_t R, size_t C>
  static void Steps(const uint8_t* const w[R], const float* const x[C], size_t n, Lanes16 acc[R][C],
                    const uint8_t* ahead) {
    for (size_t i = 0; i < n; i += 16) {
      if constexpr (C == 1) {
        PrefetchStep<R * 16 * F::kBytes>(ahead);
        ahead += R * 16 * F::kBytes;
      }
      Lanes16 wv[R];
      for (size_t r = 0; r < R; ++r) wv[r] = F::Load16(w[r] + i * F::kBytes);
      for (size_t c = 0; c < C; ++c) {
        const Lanes16 xv = LoadF32x16(x[c] + i);
        for (size_t r = 0; r < R; ++r) acc[r][c] = MulAdd16(wv[r], xv, acc[r][c]);
      }
    }
  }

  template <size_t R, size_t C>
  static void Tile(const GemmArgs& a, size_t r0, size_t nr, size_t c0) {
    const uint8_t* w[R];
    for (size_t r = 0; r < R; ++r) w[r] = a.w + (r0 + Min(r, nr - 1)) * a.w_stride;
    const float* x[C];
    for (size_t c = 0; c < C; ++c)
      x[c] = reinterpret_cast<const float*>(a.x + (c0 + c) * a.x_stride);
    Lanes16 acc[R][C];
    for (size_t r = 0; r < R; ++r) {
      for (size_t c = 0; c < C; ++c) acc[r][c] = Zero16();
    }
    const size_t body = a.cols / 16 * 16;
    Steps<R, C>(w, x, body, acc, a.w + r0 * a.w_stride + kPrefetchBytes);
    if (body < a.cols) {
      // The last values, zero-padded to one step, in the same lanes.
      const size_t rest = a.cols - body;
      alignas(64) uint8_t wt[R][16 * F::kBytes] = {};
      alignas(64) float xt[C][16] = {};
      const uint8_t* wp[R];
      const float* xp[C];
      for (size_t r = 0; r < R; ++r) {
        std::memcpy(wt[r], w[r] + body * F::kBytes, rest * F::kBytes);
        wp[r] = wt[r];
      }
      for (size_t c = 0; c < C; ++c) {
        std::memcpy(xt[c], x[c] + body, rest * sizeof(float));
        xp[c] = xt[c];
      }
      Steps<R, C>(wp, xp, 16, acc, wt[0]);
    }
    for (size_t r = 0; r < R && r < nr; ++r) {
      for (size_t c = 0; c < C; ++c) {
        a.y[(c0 + c) * a.y_stride + r0 + r] = Sum16(acc[r][c]);
      }
    }
  }
};

}  // namespace
}  // namespace autan::kernels::x86
