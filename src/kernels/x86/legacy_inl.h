// Kernels of the 32-value block types (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0) against
// Q8_0/Q8_1 activations (see common_inl.h for how this file is built).
//
// An output element is one float accumulator; per block, in order,
//   acc = fma(m_w, s_x, acc)                      (Q4_1, Q5_1)
//   acc = fma(float(isum), d_w * d_x, acc)
// where isum, the block's integer dot product with the zero point applied, is
// exact. The decode kernel holds 8 weight rows in the 8 lanes of a register,
// the matrix-matrix kernel 8 activation rows; both do those operations.
#pragma once

#include "kernels/quant_blocks.h"
#include "kernels/x86/common_inl.h"
#include "kernels/x86/packed.h"

namespace autan::kernels::x86 {
namespace {  // NOLINT(build/namespaces): one copy per instruction set

// Where the fields of each block live, and what its dot needs.
struct Q4_0Format {
  static constexpr size_t kBytes = sizeof(BlockQ4_0);
  static constexpr size_t kQs = offsetof(BlockQ4_0, qs);
  static constexpr size_t kQh = 0;
  static constexpr bool kHigh = false;  // a fifth bit in qh
  static constexpr bool kMin = false;   // an offset m (Q8_1 activations)
  static constexpr int kZeroShift = 3;  // quants are stored + 8
  static constexpr bool kEightBit = false;
};
struct Q4_1Format {
  static constexpr size_t kBytes = sizeof(BlockQ4_1);
  static constexpr size_t kQs = offsetof(BlockQ4_1, qs);
  static constexpr size_t kQh = 0;
  static constexpr bool kHigh = false;
  static constexpr bool kMin = true;
  static constexpr int kZeroShift = -1;
  static constexpr bool kEightBit = false;
};
struct Q5_0Format {
  static constexpr size_t kBytes = sizeof(BlockQ5_0);
  static constexpr size_t kQs = offsetof(BlockQ5_0, qs);
  static constexpr size_t kQh = offsetof(BlockQ5_0, qh);
  static constexpr bool kHigh = true;
  static constexpr bool kMin = false;
  static constexpr int kZeroShift = 4;  // + 16
  static constexpr bool kEightBit = false;
};
struct Q5_1Format {
  static constexpr size_t kBytes = sizeof(BlockQ5_1);
  static constexpr size_t kQs = offsetof(BlockQ5_1, qs);
  static constexpr size_t kQh = offsetof(BlockQ5_1, qh);
  static constexpr bool kHigh = true;
  static constexpr bool kMin = true;
  static constexpr int kZeroShift = -1;
  static constexpr bool kEightBit = false;
};
struct Q8_0Format {
  static constexpr size_t kBytes = sizeof(BlockQ8_0);
  static constexpr size_t kQs = offsetof(BlockQ8_0, qs);
  static constexpr bool kHigh = false;
  static constexpr bool kMin = false;
  static constexpr int kZeroShift = -1;    // the instruction set decides (Isa::kQ8ZeroShift)
  static constexpr bool kEightBit = true;  // signed quants
};

// --- Decode: 8 weight rows, one per lane -------------------------------------

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

// The fp16 at byte `offset` of 8 blocks, widened, lane k from block k.
inline __m256 Halves8(const uint8_t* const b[8], size_t offset) {
  __m128i h = _mm_cvtsi32_si128(Load16(b[0] + offset));
  h = _mm_insert_epi16(h, Load16(b[1] + offset), 1);
  h = _mm_insert_epi16(h, Load16(b[2] + offset), 2);
  h = _mm_insert_epi16(h, Load16(b[3] + offset), 3);
  h = _mm_insert_epi16(h, Load16(b[4] + offset), 4);
  h = _mm_insert_epi16(h, Load16(b[5] + offset), 5);
  h = _mm_insert_epi16(h, Load16(b[6] + offset), 6);
  h = _mm_insert_epi16(h, Load16(b[7] + offset), 7);
  return _mm256_cvtph_ps(h);
}

// Prefetches the bytes of one decode step kPrefetchBytes ahead.
template <size_t kBytesPerStep>
inline const uint8_t* Prefetch(const uint8_t* ahead) {
  PrefetchStep<kBytesPerStep>(ahead);
  return ahead + kBytesPerStep;
}

template <class Isa, class F>
struct LegacyGemv {
  // Rows r0 .. r0 + nr - 1 (nr <= 8) against the one activation row. Rows
  // past the end repeat the last row.
  static void Run(const GemmArgs& a, size_t r0, size_t nr) {
    // Lane order after the pair reduction: rows 0 2 4 6 1 3 5 7.
    constexpr size_t kLaneRow[8] = {0, 2, 4, 6, 1, 3, 5, 7};
    const uint8_t* w[8];  // in lane order
    for (size_t l = 0; l < 8; ++l) w[l] = a.w + (r0 + Min(kLaneRow[l], nr - 1)) * a.w_stride;
    const PackedQ8Block* x = reinterpret_cast<const PackedQ8Block*>(a.x);
    __m256 acc = _mm256_setzero_ps();
    const uint8_t* ahead = a.w + r0 * a.w_stride + kPrefetchBytes;
    const size_t nb = a.cols / kQK;
    for (size_t i = 0, off = 0; i < nb; ++i, off += F::kBytes) {
      ahead = Prefetch<8 * F::kBytes>(ahead);
      const __m256i xlo = _mm256_broadcastsi128_si256(Load128(x[i].qs));
      const __m256i xhi = _mm256_broadcastsi128_si256(Load128(x[i].qs + 16));
      const __m256i init = F::kZeroShift < 0 ? _mm256_setzero_si256()
                                             : _mm256_broadcastsi128_si256(Load128(x[i].bias));
      __m256i s[4];
      for (size_t p = 0; p < 4; ++p) {
        // Pair p: rows 2p (lane p) and 2p + 1 (lane 4 + p).
        __m256i lo;
        __m256i hi;
        UnpackPair<Isa, F>(w[p] + off, w[4 + p] + off, lo, hi);
        s[p] = Isa::Dpbusd(Isa::Dpbusd(init, lo, xlo), hi, xhi);
      }
      // Each pair register holds 4 partial sums per row; add them up.
      const __m256i t0 =
          _mm256_add_epi32(_mm256_unpacklo_epi32(s[0], s[1]), _mm256_unpackhi_epi32(s[0], s[1]));
      const __m256i t1 =
          _mm256_add_epi32(_mm256_unpacklo_epi32(s[2], s[3]), _mm256_unpackhi_epi32(s[2], s[3]));
      const __m256i isum =
          _mm256_add_epi32(_mm256_unpacklo_epi64(t0, t1), _mm256_unpackhi_epi64(t0, t1));
      const uint8_t* b[8];
      for (size_t l = 0; l < 8; ++l) b[l] = w[l] + off;
      if constexpr (F::kMin) {
        acc = _mm256_fmadd_ps(Halves8(b, 2), _mm256_set1_ps(x[i].s), acc);
      }
      const __m256 d = _mm256_mul_ps(Halves8(b, 0), _mm256_set1_ps(x[i].d));
      acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), d, acc);
    }
    alignas(32) float l[8];
    _mm256_store_ps(l, acc);
    for (size_t k = 0; k < 8; ++k) {
      if (kLaneRow[k] < nr) a.y[r0 + kLaneRow[k]] = l[k];
    }
  }
};

template <class Isa>
struct Q8_0Gemv {
  static void Run(const GemmArgs& a, size_t r0, size_t nr) {
    const uint8_t* w[8];
    for (size_t r = 0; r < 8; ++r) w[r] = a.w + (r0 + Min(r, nr - 1)) * a.w_stride;
    const PackedQ8Block* x = reinterpret_cast<const PackedQ8Block*>(a.x);
    __m256 acc = _mm256_setzero_ps();
    const uint8_t* ahead = a.w + r0 * a.w_stride + kPrefetchBytes;
    const size_t nb = a.cols / kQK;
    for (size_t i = 0, off = 0; i < nb; ++i, off += Q8_0Format::kBytes) {
      ahead = Prefetch<8 * Q8_0Format::kBytes>(ahead);
      const __m256i xq = Load256(x[i].qs);
      __m256i s[8];
      for (size_t r = 0; r < 8; ++r) {
        const __m256i q = Load256(w[r] + off + Q8_0Format::kQs);
        // |w| * (x with w's sign): unsigned times signed, as the instruction needs.
        s[r] = Isa::Dpbusd(_mm256_setzero_si256(), _mm256_abs_epi8(q), _mm256_sign_epi8(xq, q));
      }
      const uint8_t* b[8];
      for (size_t r = 0; r < 8; ++r) b[r] = w[r] + off;
      const __m256 d = _mm256_mul_ps(Halves8(b, 0), _mm256_set1_ps(x[i].d));
      acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(SumEach8(s)), d, acc);
    }
    alignas(32) float l[8];
    _mm256_store_ps(l, acc);
    for (size_t r = 0; r < nr; ++r) a.y[r0 + r] = l[r];
  }
};

// --- Matrix-matrix: 8 activation rows per register --------------------------

// Quants of one weight block as 32 bytes in value order, in the form the
// kernel multiplies: unsigned (0..15 or 0..31) for the 4/5-bit types; for
// Q8_0 what Isa::Q8Weights makes of them.
template <class Isa, class F>
inline __m256i WeightBytes(const uint8_t* block) {
  if constexpr (F::kEightBit) {
    return Isa::Q8Weights(Load256(block + F::kQs));
  } else {
    const __m128i v = Load128(block + F::kQs);
    const __m128i m4 = _mm_set1_epi8(0x0F);
    __m256i q = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_and_si128(v, m4)),
                                        _mm_and_si128(_mm_srli_epi16(v, 4), m4), 1);
    if constexpr (F::kHigh) q = Isa::AddBit4(q, Load32(block + F::kQh));
    return q;
  }
}

template <class Isa, class F>
struct LegacyGemm {
  // Rows r0 .. r0 + nr - 1 (nr <= R) against activation groups g0 .. g0 + G - 1.
  template <size_t R, size_t G>
  static void Tile(const GemmArgs& a, size_t r0, size_t nr, size_t g0) {
    const size_t nb = a.cols / kQK;
    const uint8_t* w[R];
    for (size_t r = 0; r < R; ++r) w[r] = a.w + (r0 + Min(r, nr - 1)) * a.w_stride;
    const PackedQ8Group* xg[G];
    for (size_t g = 0; g < G; ++g)
      xg[g] = reinterpret_cast<const PackedQ8Group*>(a.x) + (g0 + g) * nb;
    constexpr int kShift = F::kEightBit ? Isa::kQ8ZeroShift : F::kZeroShift;
    __m256 acc[R][G];
    for (size_t r = 0; r < R; ++r) {
      for (size_t g = 0; g < G; ++g) acc[r][g] = _mm256_setzero_ps();
    }
    const uint8_t* ahead = a.w + r0 * a.w_stride + kGemmPrefetchAhead;
    for (size_t i = 0, off = 0; i < nb; ++i, off += F::kBytes) {
      PrefetchStep<R * F::kBytes, _MM_HINT_T1>(ahead);
      ahead += R * F::kBytes;
      alignas(32) uint8_t wq[R][32];
      for (size_t r = 0; r < R; ++r) {
        _mm256_store_si256(reinterpret_cast<__m256i*>(wq[r]), WeightBytes<Isa, F>(w[r] + off));
      }
      __m256i s[R][G];
      for (size_t g = 0; g < G; ++g) {
        // The zero point times the sum of the activations starts the sum.
        const __m256i init =
            kShift < 0 ? _mm256_setzero_si256()
                       : _mm256_sub_epi32(
                             _mm256_setzero_si256(),
                             _mm256_slli_epi32(Load256(xg[g][i].sum), kShift < 0 ? 0 : kShift));
        for (size_t r = 0; r < R; ++r) s[r][g] = init;
      }
      for (size_t k = 0; k < 8; ++k) {
        __m256i xv[G];
        for (size_t g = 0; g < G; ++g) xv[g] = Load256(xg[g][i].qs[k]);
        for (size_t r = 0; r < R; ++r) {
          const __m256i wb = _mm256_set1_epi32(static_cast<int>(Load32(wq[r] + 4 * k)));
          for (size_t g = 0; g < G; ++g) {
            s[r][g] =
                F::kEightBit ? Isa::Q8Dot(s[r][g], wb, xv[g]) : Isa::Dpbusd(s[r][g], wb, xv[g]);
          }
        }
      }
      for (size_t r = 0; r < R; ++r) {
        const uint8_t* b = w[r] + off;
        const __m256 dw = _mm256_set1_ps(Half(b));
        for (size_t g = 0; g < G; ++g) {
          if constexpr (F::kMin) {
            acc[r][g] =
                _mm256_fmadd_ps(_mm256_set1_ps(Half(b + 2)), _mm256_load_ps(xg[g][i].s), acc[r][g]);
          }
          acc[r][g] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(s[r][g]),
                                      _mm256_mul_ps(dw, _mm256_load_ps(xg[g][i].d)), acc[r][g]);
        }
      }
    }
    StoreGroupTile<R, G>(a, r0, nr, g0, acc);
  }
};

#if defined(__AVX512F__)
// The fp16 at byte `offset` of blocks a and b, widened: lanes 0-7 from a,
// lanes 8-15 from b.
inline __m512 RowPairHalves(const uint8_t* a, const uint8_t* b, size_t offset) {
  const uint32_t both = Load16(a + offset) | static_cast<uint32_t>(Load16(b + offset)) << 16;
  const __m512 two =
      _mm512_castps128_ps512(_mm_cvtph_ps(_mm_cvtsi32_si128(static_cast<int>(both))));
  return _mm512_permutexvar_ps(_mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1),
                               two);
}
#endif

// AVX-512: each 512-bit product takes two weight quads at once, which
// halves the instructions per product against the 256-bit tile (there, with
// few groups, broadcasting weight quads costs as much as multiplying).
// Activation lanes 2c and 2c + 1 hold quads 2p and 2p + 1 of row c, a
// broadcast pair of weight quads meets them, and the two lanes are added
// after the block: the same exact isum as the 256-bit tile, then the same
// float operations.
template <class Isa, class F>
struct LegacyGemmWide {
  // Weight quads 2p and 2p + 1 of a block, in the form WeightBytes gives,
  // in every 64-bit lane: broadcast straight from the block (a load, where
  // unpacking first and then broadcasting took shuffles that competed
  // with the products), then decoded in place.
  static __m512i QuadPair(const uint8_t* block, size_t p) {
    uint64_t quads;
    if constexpr (F::kEightBit) {
      std::memcpy(&quads, block + F::kQs + 8 * p, sizeof(quads));
      static_assert(Isa::kQ8ZeroShift == 7, "Q8_0 weights + 128, as Isa::Q8Weights");
      return _mm512_xor_si512(_mm512_set1_epi64(static_cast<long long>(quads)),
                              _mm512_set1_epi8(-128));
    } else {
      // Pairs 0 and 1: low nibbles of bytes 0-7 and 8-15; 2 and 3: high.
      std::memcpy(&quads, block + F::kQs + 8 * (p % 2), sizeof(quads));
      __m512i v = _mm512_set1_epi64(static_cast<long long>(quads));
      if (p >= 2) v = _mm512_srli_epi16(v, 4);
      v = _mm512_and_si512(v, _mm512_set1_epi8(0x0F));
      if constexpr (F::kHigh) {
        // Bit 8p + k of qh is the fifth bit of value 8p + k: byte k of every lane.
        const uint64_t bits = (Load32(block + F::kQh) >> (8 * p)) & 0xFF;
        v = _mm512_mask_add_epi8(v, bits * 0x0101010101010101ull, v, _mm512_set1_epi8(0x10));
      }
      return v;
    }
  }

  template <size_t R, size_t G>
  static void Tile(const GemmArgs& a, size_t r0, size_t nr, size_t g0) {
    const size_t nb = a.cols / kQK;
    const uint8_t* w[R];
    for (size_t r = 0; r < R; ++r) w[r] = a.w + (r0 + Min(r, nr - 1)) * a.w_stride;
    const PackedQ8Group* xg[G];
    for (size_t g = 0; g < G; ++g) {
      xg[g] = reinterpret_cast<const PackedQ8Group*>(a.x) + (g0 + g) * nb;
    }
    constexpr int kShift = F::kEightBit ? Isa::kQ8ZeroShift : F::kZeroShift;
    const __m512i pair_lanes =
        _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i even =
        _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd =
        _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    __m512 acc[(R + 1) / 2][G];
    for (size_t r = 0; r < (R + 1) / 2; ++r) {
      for (size_t g = 0; g < G; ++g) acc[r][g] = _mm512_setzero_ps();
    }
    const uint8_t* ahead = a.w + r0 * a.w_stride + kGemmPrefetchAhead;
    for (size_t i = 0, off = 0; i < nb; ++i, off += F::kBytes) {
      PrefetchStep<R * F::kBytes, _MM_HINT_T1>(ahead);
      ahead += R * F::kBytes;
      __m512i s[R][G];
      for (size_t g = 0; g < G; ++g) {
        // The zero point times the activations' sum starts lane 2c's sum.
        const __m512i init =
            kShift < 0 ? _mm512_setzero_si512()
                       : _mm512_cvtepu32_epi64(_mm256_sub_epi32(
                             _mm256_setzero_si256(),
                             _mm256_slli_epi32(Load256(xg[g][i].sum), kShift < 0 ? 0 : kShift)));
        for (size_t r = 0; r < R; ++r) s[r][g] = init;
      }
      for (size_t p = 0; p < 4; ++p) {
        __m512i xv[G];
        for (size_t g = 0; g < G; ++g) {
          xv[g] = _mm512_permutex2var_epi32(
              _mm512_zextsi256_si512(Load256(xg[g][i].qs[2 * p])), pair_lanes,
              _mm512_zextsi256_si512(Load256(xg[g][i].qs[2 * p + 1])));
        }
        for (size_t r = 0; r < R; ++r) {
          const __m512i wb = QuadPair(w[r] + off, p);
          for (size_t g = 0; g < G; ++g) s[r][g] = _mm512_dpbusd_epi32(s[r][g], wb, xv[g]);
        }
      }
      // Two weight rows per 512-bit register from here on: lanes 0-7 row r,
      // lanes 8-15 row r + 1, each lane the same operations as one 256-bit
      // lane (the reduction of its pair of int32 sums, then the two FMAs).
      __m512 dx[G];
      __m512 sx[G];
      for (size_t g = 0; g < G; ++g) {
        dx[g] = _mm512_broadcast_f32x8(_mm256_load_ps(xg[g][i].d));
        if constexpr (F::kMin) sx[g] = _mm512_broadcast_f32x8(_mm256_load_ps(xg[g][i].s));
      }
      for (size_t r = 0; r < R; r += 2) {
        const size_t r1 = r + 1 < R ? r + 1 : r;
        const __m512 dw = RowPairHalves(w[r] + off, w[r1] + off, 0);
        const __m512 mw = F::kMin ? RowPairHalves(w[r] + off, w[r1] + off, 2) : dw;
        for (size_t g = 0; g < G; ++g) {
          const __m512i isum = _mm512_add_epi32(_mm512_permutex2var_epi32(s[r][g], even, s[r1][g]),
                                                _mm512_permutex2var_epi32(s[r][g], odd, s[r1][g]));
          if constexpr (F::kMin) acc[r / 2][g] = _mm512_fmadd_ps(mw, sx[g], acc[r / 2][g]);
          acc[r / 2][g] =
              _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_mul_ps(dw, dx[g]), acc[r / 2][g]);
        }
      }
    }
    __m256 out[R][G];
    for (size_t r = 0; r < R; ++r) {
      for (size_t g = 0; g < G; ++g) {
        out[r][g] = r % 2 == 0 ? _mm512_castps512_ps256(acc[r / 2][g])
                               : _mm512_extractf32x8_ps(acc[r / 2][g], 1);
      }
    }
    StoreGroupTile<R, G>(a, r0, nr, g0, out);
  }
};

template <class Isa, class F>
struct LegacyKernel {
  static constexpr size_t kRows = Isa::kLegacyTileRows;
  static constexpr size_t kGroups = Isa::kLegacyTileGroups;
  static constexpr size_t FewGroupRows(size_t g) { return Isa::LegacyFewGroupRows(g); }
  static void Gemv(const GemmArgs& a, size_t r0, size_t nr) {
    if constexpr (F::kEightBit) {
      Q8_0Gemv<Isa>::Run(a, r0, nr);
    } else {
      LegacyGemv<Isa, F>::Run(a, r0, nr);
    }
  }
  template <size_t R, size_t G>
  static void Tile(const GemmArgs& a, size_t r0, size_t nr, size_t g0) {
    if constexpr (Isa::kWideTiles) {
      LegacyGemmWide<Isa, F>::template Tile<R, G>(a, r0, nr, g0);
    } else {
      LegacyGemm<Isa, F>::template Tile<R, G>(a, r0, nr, g0);
    }
  }
};

}  // namespace
}  // namespace autan::kernels::x86
