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

struct F32Format {
  static constexpr size_t kBytes = 4;  // per value
  static __m256 Load8(const uint8_t* p) {
    return _mm256_loadu_ps(reinterpret_cast<const float*>(p));
  }
};

struct F16Format {
  static constexpr size_t kBytes = 2;
  static __m256 Load8(const uint8_t* p) { return _mm256_cvtph_ps(Load128(p)); }
};

struct BF16Format {
  static constexpr size_t kBytes = 2;
  static __m256 Load8(const uint8_t* p) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(Load128(p)), 16));
  }
};

template <class Isa, class F>
struct FloatKernel {
  static constexpr size_t kRows = Isa::kFloatTileRows;
  static constexpr size_t kCols = Isa::kFloatTileCols;
  static constexpr size_t kGemvRows = 4;

  // Values [0, n) of R rows against C columns, with a row stride of
  // `w_stride` bytes and a column stride of `x_stride` bytes.
  template <size_t R, size_t C>
  static void Steps(const uint8_t* const w[R], const float* const x[C], size_t n,
                    __m256 acc[R][C][2], const uint8_t* ahead) {
    for (size_t i = 0; i < n; i += 16) {
      if constexpr (C == 1) {
        PrefetchStep<R * 16 * F::kBytes>(ahead);
        ahead += R * 16 * F::kBytes;
      }
      __m256 wv[R][2];
      for (size_t r = 0; r < R; ++r) {
        wv[r][0] = F::Load8(w[r] + i * F::kBytes);
        wv[r][1] = F::Load8(w[r] + (i + 8) * F::kBytes);
      }
      for (size_t c = 0; c < C; ++c) {
        const __m256 x0 = _mm256_loadu_ps(x[c] + i);
        const __m256 x1 = _mm256_loadu_ps(x[c] + i + 8);
        for (size_t r = 0; r < R; ++r) {
          acc[r][c][0] = _mm256_fmadd_ps(wv[r][0], x0, acc[r][c][0]);
          acc[r][c][1] = _mm256_fmadd_ps(wv[r][1], x1, acc[r][c][1]);
        }
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
    __m256 acc[R][C][2];
    for (size_t r = 0; r < R; ++r) {
      for (size_t c = 0; c < C; ++c) acc[r][c][0] = acc[r][c][1] = _mm256_setzero_ps();
    }
    const size_t body = a.cols / 16 * 16;
    Steps<R, C>(w, x, body, acc, a.w + r0 * a.w_stride + kPrefetchBytes);
    if (body < a.cols) {
      // The last values, zero-padded to one step, in the same lanes.
      const size_t rest = a.cols - body;
      alignas(32) uint8_t wt[R][16 * F::kBytes] = {};
      alignas(32) float xt[C][16] = {};
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
        a.y[(c0 + c) * a.y_stride + r0 + r] = Sum8(_mm256_add_ps(acc[r][c][0], acc[r][c][1]));
      }
    }
  }
};

}  // namespace
}  // namespace autan::kernels::x86
