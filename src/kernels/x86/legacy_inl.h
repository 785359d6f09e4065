// Kernels of the 32-value block types against packed Q8 activations (see
// common_inl.h for how this file is built).
//
// Q4_0, Q4_1, Q5_0, Q5_1 ("pair" kernels): one 256-bit register holds a
// block of two weight rows, 16 values of each; an output element keeps four
// float lanes (lane k: values 4k..4k+3 and 16+4k..16+4k+3, see PackedQ8Block)
// and per block does
//   lane = fma(float(integer lane sum), d_w * d_x, lane + m_w * s_x [lane 0 only])
// then sums its lanes as (l0 + l1) + (l2 + l3).
// Q8_0: one register per row block, eight lanes of 4 values, same update
// without the offset term, summed pairwise.
#pragma once

#include "kernels/quant_blocks.h"
#include "kernels/x86/common_inl.h"
#include "kernels/x86/packed.h"

namespace autan::kernels::x86 {
namespace {  // NOLINT(build/namespaces): one copy per instruction set

// Where the fields of each 4/5-bit block live, and what its dot needs.
struct Q4_0Format {
  static constexpr size_t kBytes = sizeof(BlockQ4_0);
  static constexpr size_t kQs = offsetof(BlockQ4_0, qs);
  static constexpr size_t kQh = 0;
  static constexpr bool kHigh = false;  // a fifth bit in qh
  static constexpr bool kMin = false;   // an offset m (else a zero point via the bias)
};
struct Q4_1Format {
  static constexpr size_t kBytes = sizeof(BlockQ4_1);
  static constexpr size_t kQs = offsetof(BlockQ4_1, qs);
  static constexpr size_t kQh = 0;
  static constexpr bool kHigh = false;
  static constexpr bool kMin = true;
};
struct Q5_0Format {
  static constexpr size_t kBytes = sizeof(BlockQ5_0);
  static constexpr size_t kQs = offsetof(BlockQ5_0, qs);
  static constexpr size_t kQh = offsetof(BlockQ5_0, qh);
  static constexpr bool kHigh = true;
  static constexpr bool kMin = false;
};
struct Q5_1Format {
  static constexpr size_t kBytes = sizeof(BlockQ5_1);
  static constexpr size_t kQs = offsetof(BlockQ5_1, qs);
  static constexpr size_t kQh = offsetof(BlockQ5_1, qh);
  static constexpr bool kHigh = true;
  static constexpr bool kMin = true;
};

// Unsigned quants of one block of rows a and b: lo = values 0..15 of a then
// of b, hi = values 16..31 of a then of b.
template <class Isa, class F>
inline void UnpackPair(const uint8_t* a, const uint8_t* b, __m256i& lo, __m256i& hi) {
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  const __m256i v =
      _mm256_inserti128_si256(_mm256_castsi128_si256(Load128(a + F::kQs)), Load128(b + F::kQs), 1);
  lo = _mm256_and_si256(v, m4);
  hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
  if constexpr (F::kHigh) {
    const uint32_t qa = Load32(a + F::kQh);
    const uint32_t qb = Load32(b + F::kQh);
    lo = Isa::AddBit4(lo, (qa & 0xFFFFu) | (qb << 16));
    hi = Isa::AddBit4(hi, (qa >> 16) | (qb & 0xFFFF0000u));
  }
}

// Scales of two pairs of rows (a0, b0) and (a1, b1) at one block:
// d[k] = [d_ak x4 | d_bk x4], and for the offset types
// m[k] = [m_ak 0 0 0 | m_bk 0 0 0]. One conversion serves four rows.
template <class F>
inline void PairScales(const uint8_t* a0, const uint8_t* b0, const uint8_t* a1, const uint8_t* b1,
                       __m256 d[2], __m256 m[2]) {
  if constexpr (F::kMin) {
    __m128i h = _mm_cvtsi32_si128(static_cast<int>(Load32(a0)));
    h = _mm_insert_epi32(h, static_cast<int>(Load32(b0)), 1);
    h = _mm_insert_epi32(h, static_cast<int>(Load32(a1)), 2);
    h = _mm_insert_epi32(h, static_cast<int>(Load32(b1)), 3);
    const __m256 f = _mm256_cvtph_ps(h);  // d m of a0, b0, a1, b1
    const __m256 zero = _mm256_setzero_ps();
    for (int k = 0; k < 2; ++k) {
      const int base = 4 * k;
      d[k] = _mm256_permutevar8x32_ps(
          f, _mm256_setr_epi32(base, base, base, base, base + 2, base + 2, base + 2, base + 2));
      const __m256i m_lanes = _mm256_setr_epi32(base + 1, 0, 0, 0, base + 3, 0, 0, 0);
      m[k] = _mm256_blend_ps(zero, _mm256_permutevar8x32_ps(f, m_lanes), 0x11);
    }
  } else {
    __m128i h = _mm_cvtsi32_si128(Load16(a0));
    h = _mm_insert_epi16(h, Load16(b0), 1);
    h = _mm_insert_epi16(h, Load16(a1), 2);
    h = _mm_insert_epi16(h, Load16(b1), 3);
    const __m256 f = _mm256_zextps128_ps256(_mm_cvtph_ps(h));  // d of a0, b0, a1, b1
    d[0] = _mm256_permutevar8x32_ps(f, _mm256_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1));
    d[1] = _mm256_permutevar8x32_ps(f, _mm256_setr_epi32(2, 2, 2, 2, 3, 3, 3, 3));
    m[0] = m[1] = _mm256_setzero_ps();
  }
}

template <class Isa, class F>
struct PairKernel {
  static constexpr size_t kRows = Isa::kPairTileRows;
  static constexpr size_t kCols = Isa::kPairTileCols;
  static constexpr size_t kGemvRows = Isa::kPairGemvRows;

  // Rows r0 .. r0 + nr - 1 (nr <= R) against columns c0 .. c0 + C - 1.
  template <size_t R, size_t C>
  static void Tile(const GemmArgs& a, size_t r0, size_t nr, size_t c0) {
    constexpr size_t P = (R + 1) / 2;
    constexpr size_t P2 = (P + 1) / 2 * 2;  // scales come in twos
    const uint8_t* wa[P2];
    const uint8_t* wb[P2];
    for (size_t p = 0; p < P2; ++p) {  // rows past the end repeat the last row
      wa[p] = a.w + (r0 + Min(2 * p, nr - 1)) * a.w_stride;
      wb[p] = a.w + (r0 + Min(2 * p + 1, nr - 1)) * a.w_stride;
    }
    const PackedQ8Block* xs[C];
    for (size_t c = 0; c < C; ++c) {
      xs[c] = reinterpret_cast<const PackedQ8Block*>(a.x + (c0 + c) * a.x_stride);
    }
    __m256 acc[P][C];
    for (size_t p = 0; p < P; ++p) {
      for (size_t c = 0; c < C; ++c) acc[p][c] = _mm256_setzero_ps();
    }
    const uint8_t* ahead = a.w + r0 * a.w_stride + kPrefetchAhead;
    const size_t nb = a.cols / kQK;
    for (size_t i = 0, off = 0; i < nb; ++i, off += F::kBytes) {
      if constexpr (C == 1) {
        PrefetchStep<R * F::kBytes>(ahead);
        ahead += R * F::kBytes;
      }
      __m256i lo[P];
      __m256i hi[P];
      __m256 d[P2];
      __m256 m[P2];
      for (size_t p = 0; p < P; ++p) UnpackPair<Isa, F>(wa[p] + off, wb[p] + off, lo[p], hi[p]);
      for (size_t p = 0; p < P; p += 2) {
        PairScales<F>(wa[p] + off, wb[p] + off, wa[p + 1] + off, wb[p + 1] + off, d + p, m + p);
      }
      for (size_t c = 0; c < C; ++c) {
        const PackedQ8Block& x = xs[c][i];
        const __m256i xlo = _mm256_broadcastsi128_si256(Load128(x.qs));
        const __m256i xhi = _mm256_broadcastsi128_si256(Load128(x.qs + 16));
        const __m256i init =
            F::kMin ? _mm256_setzero_si256() : _mm256_broadcastsi128_si256(Load128(x.bias));
        const __m256 dx = _mm256_set1_ps(x.d);
        for (size_t p = 0; p < P; ++p) {
          const __m256i s = Isa::Dpbusd(Isa::Dpbusd(init, lo[p], xlo), hi[p], xhi);
          __m256 t = acc[p][c];
          if constexpr (F::kMin) t = _mm256_add_ps(t, _mm256_mul_ps(m[p], _mm256_set1_ps(x.s)));
          acc[p][c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_mul_ps(d[p], dx), t);
        }
      }
    }
    for (size_t p = 0; p < P; ++p) {
      for (size_t c = 0; c < C; ++c) {
        alignas(32) float l[8];
        _mm256_store_ps(l, acc[p][c]);
        float* y = a.y + (c0 + c) * a.y_stride + r0 + 2 * p;
        if (2 * p < nr) y[0] = Sum4(l);
        if (2 * p + 1 < nr) y[1] = Sum4(l + 4);
      }
    }
  }
};

// d of four rows, each broadcast: d[k] = [d_k x8].
inline void RowScales4(const uint8_t* r0, const uint8_t* r1, const uint8_t* r2, const uint8_t* r3,
                       __m256 d[4]) {
  __m128i h = _mm_cvtsi32_si128(Load16(r0));
  h = _mm_insert_epi16(h, Load16(r1), 1);
  h = _mm_insert_epi16(h, Load16(r2), 2);
  h = _mm_insert_epi16(h, Load16(r3), 3);
  const __m256 f = _mm256_zextps128_ps256(_mm_cvtph_ps(h));
  for (int k = 0; k < 4; ++k) d[k] = _mm256_permutevar8x32_ps(f, _mm256_set1_epi32(k));
}

template <class Isa>
struct Q8_0Kernel {
  static constexpr size_t kRows = Isa::kQ8TileRows;
  static constexpr size_t kCols = Isa::kQ8TileCols;
  static constexpr size_t kGemvRows = Isa::kQ8GemvRows;
  static constexpr size_t kBytes = sizeof(BlockQ8_0);

  template <size_t R, size_t C>
  static void Tile(const GemmArgs& a, size_t r0, size_t nr, size_t c0) {
    constexpr size_t R4 = (R + 3) / 4 * 4;  // scales come in fours
    const uint8_t* w[R4];
    for (size_t r = 0; r < R4; ++r) w[r] = a.w + (r0 + Min(r, nr - 1)) * a.w_stride;
    const PackedQ8Block* xs[C];
    for (size_t c = 0; c < C; ++c) {
      xs[c] = reinterpret_cast<const PackedQ8Block*>(a.x + (c0 + c) * a.x_stride);
    }
    __m256 acc[R][C];
    for (size_t r = 0; r < R; ++r) {
      for (size_t c = 0; c < C; ++c) acc[r][c] = _mm256_setzero_ps();
    }
    const uint8_t* ahead = a.w + r0 * a.w_stride + kPrefetchAhead;
    const size_t nb = a.cols / kQK;
    for (size_t i = 0, off = 0; i < nb; ++i, off += kBytes) {
      if constexpr (C == 1) {
        PrefetchStep<R * kBytes>(ahead);
        ahead += R * kBytes;
      }
      __m256i q[R];
      __m256i abs_q[R];
      __m256 d[R4];
      for (size_t r = 0; r < R; ++r) {
        q[r] = Load256(w[r] + off + offsetof(BlockQ8_0, qs));
        abs_q[r] = _mm256_abs_epi8(q[r]);
      }
      for (size_t r = 0; r < R; r += 4) {
        RowScales4(w[r] + off, w[r + 1] + off, w[r + 2] + off, w[r + 3] + off, d + r);
      }
      for (size_t c = 0; c < C; ++c) {
        const PackedQ8Block& x = xs[c][i];
        const __m256i xq = Load256(x.qs);
        const __m256 dx = _mm256_set1_ps(x.d);
        for (size_t r = 0; r < R; ++r) {
          // |w| * (x with w's sign): unsigned times signed, as the instruction needs.
          const __m256i s =
              Isa::Dpbusd(_mm256_setzero_si256(), abs_q[r], _mm256_sign_epi8(xq, q[r]));
          acc[r][c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s), _mm256_mul_ps(d[r], dx), acc[r][c]);
        }
      }
    }
    for (size_t r = 0; r < R && r < nr; ++r) {
      for (size_t c = 0; c < C; ++c) a.y[(c0 + c) * a.y_stride + r0 + r] = Sum8(acc[r][c]);
    }
  }
};

}  // namespace
}  // namespace autan::kernels::x86
