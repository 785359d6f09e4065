// Kernels of the 256-value super-block types (Q4_K, Q5_K, Q6_K) against
// Q8_K activations (see common_inl.h for how this file is built).
//
// Each weight super-block's multipliers are unpacked once per tile
// (ExpandedK, with the quants too when several columns reuse them); every
// activation column then takes the integer dot product, exact in 32 bits,
// and an output element adds per super-block, in this order,
//   sum = sum + (d_w * d_x) * isum            (Q6_K: isum includes the -32 offset)
//   sum = sum - (dmin_w * d_x) * imin         (Q4_K, Q5_K)
// so its value does not depend on how rows and columns are tiled.
#pragma once

#include "kernels/quant_blocks.h"
#include "kernels/x86/common_inl.h"
#include "kernels/x86/packed.h"

namespace autan::kernels::x86 {
namespace {  // NOLINT(build/namespaces): one copy per instruction set

// A weight super-block ready for the dot loop: its quants (only for
// matrix-matrix tiles, where several columns reuse them) and its multipliers.
struct alignas(32) ExpandedK {
  uint8_t q[kQK_K];      // unsigned quants in value order
  int16_t scale[8][16];  // Q6_K: chunk j (values 32j..32j+31), multiplier of each pair sum
  alignas(16) uint32_t scale_pair[8];  // Q4_K/Q5_K: chunk j's scale in both 16-bit halves
  int16_t correction[16];              // multiplier of each of Q8_K's 16 partial sums
};

inline void Store256(void* p, __m256i v) { _mm256_store_si256(static_cast<__m256i*>(p), v); }
inline __m256i LoadAligned256(const void* p) {
  return _mm256_load_si256(static_cast<const __m256i*>(p));
}

// The 6-bit scales and mins of a Q4_K/Q5_K block as 8 bytes each
// (UnpackScaleMinK4 for all j at once).
inline void UnpackScalesK4(const uint8_t* packed, uint32_t scales[2], uint32_t mins[2]) {
  constexpr uint32_t kLow6 = 0x3f3f3f3f;
  constexpr uint32_t kLow4 = 0x0f0f0f0f;
  constexpr uint32_t kLow2 = 0x03030303;
  uint32_t u[3];
  std::memcpy(u, packed, kScaleBytesK);
  scales[0] = u[0] & kLow6;
  scales[1] = (u[2] & kLow4) | (((u[0] >> 6) & kLow2) << 4);
  mins[0] = u[1] & kLow6;
  mins[1] = ((u[2] >> 4) & kLow4) | (((u[1] >> 6) & kLow2) << 4);
}

// Multipliers shared by Q4_K and Q5_K: chunk j is sub-block j, scaled by
// sc_j; the min of sub-block j multiplies Q8_K's partial sums 2j and 2j+1.
inline void PrepareScaleMinK(const uint8_t* packed, ExpandedK& e) {
  uint32_t sc[2];
  uint32_t mn[2];
  UnpackScalesK4(packed, sc, mn);
  const __m128i sc16 = _mm_cvtepu8_epi16(
      _mm_cvtsi64_si128(static_cast<int64_t>(sc[0] | static_cast<uint64_t>(sc[1]) << 32)));
  _mm_store_si128(reinterpret_cast<__m128i*>(e.scale_pair), _mm_unpacklo_epi16(sc16, sc16));
  _mm_store_si128(reinterpret_cast<__m128i*>(e.scale_pair + 4), _mm_unpackhi_epi16(sc16, sc16));
  const __m128i mn8 =
      _mm_cvtsi64_si128(static_cast<int64_t>(mn[0] | static_cast<uint64_t>(mn[1]) << 32));
  Store256(e.correction, _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(mn8, mn8)));
}

// Moves bit b of every byte to bit 4 (other bits cleared).
inline __m256i BitToBit4(__m256i v, int b) {
  const __m256i shifted = b <= 4 ? _mm256_slli_epi16(v, 4 - b) : _mm256_srli_epi16(v, b - 4);
  return _mm256_and_si256(shifted, _mm256_set1_epi8(0x10));
}

// Each format: Prepare (multipliers), Chunks (unsigned quants of chunks 2k
// and 2k + 1, k < 4) and Scale (the 16-bit multipliers of chunk j).
struct Q4_KFormat {
  static constexpr size_t kBytes = sizeof(BlockQ4_K);
  static constexpr bool kSixBit = false;
  static void Prepare(const uint8_t* block, ExpandedK& e) {
    PrepareScaleMinK(block + offsetof(BlockQ4_K, scales), e);
  }
  static void Chunks(const uint8_t* block, int k, __m256i& c0, __m256i& c1) {
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    const __m256i v = Load256(block + offsetof(BlockQ4_K, qs) + 32 * k);
    c0 = _mm256_and_si256(v, m4);
    c1 = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
  }
  static __m256i Scale(const ExpandedK& e, int j) {
    return _mm256_set1_epi32(static_cast<int>(e.scale_pair[j]));
  }
};

struct Q5_KFormat {
  static constexpr size_t kBytes = sizeof(BlockQ5_K);
  static constexpr bool kSixBit = false;
  static void Prepare(const uint8_t* block, ExpandedK& e) {
    PrepareScaleMinK(block + offsetof(BlockQ5_K, scales), e);
  }
  static void Chunks(const uint8_t* block, int k, __m256i& c0, __m256i& c1) {
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    const __m256i qh = Load256(block + offsetof(BlockQ5_K, qh));
    const __m256i v = Load256(block + offsetof(BlockQ5_K, qs) + 32 * k);
    c0 = _mm256_or_si256(_mm256_and_si256(v, m4), BitToBit4(qh, 2 * k));
    c1 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(v, 4), m4), BitToBit4(qh, 2 * k + 1));
  }
  static __m256i Scale(const ExpandedK& e, int j) {
    return _mm256_set1_epi32(static_cast<int>(e.scale_pair[j]));
  }
};

struct Q6_KFormat {
  static constexpr size_t kBytes = sizeof(BlockQ6_K);
  static constexpr bool kSixBit = true;
  static void Prepare(const uint8_t* block, ExpandedK& e) {
    // Chunk j covers the 16-value groups 2j (low half of the pair sums) and
    // 2j + 1 (high half).
    const __m256i sc16 = _mm256_cvtepi8_epi16(Load128(block + offsetof(BlockQ6_K, scales)));
    Store256(e.correction, sc16);
    const __m256i low = _mm256_permute2x128_si256(sc16, sc16, 0x00);
    const __m256i high = _mm256_permute2x128_si256(sc16, sc16, 0x11);
    for (int j = 0; j < 8; ++j) {
      const int g = 2 * (j % 4);  // byte of group 2j's word within its 128-bit half
      const int ga = g * 2;
      const int gb = g * 2 + 2;
      const __m256i pick =
          _mm256_setr_epi8(ga, ga + 1, ga, ga + 1, ga, ga + 1, ga, ga + 1, ga, ga + 1, ga, ga + 1,
                           ga, ga + 1, ga, ga + 1, gb, gb + 1, gb, gb + 1, gb, gb + 1, gb, gb + 1,
                           gb, gb + 1, gb, gb + 1, gb, gb + 1, gb, gb + 1);
      Store256(e.scale[j], _mm256_shuffle_epi8(j < 4 ? low : high, pick));
    }
  }
  // Chunks 2k, 2k+1: values 64k .. 64k + 63. Half h = k / 2 of the block;
  // k even takes the low nibbles and qh bit pairs 0-1, 2-3, k odd the high
  // nibbles and pairs 4-5, 6-7.
  static void Chunks(const uint8_t* block, int k, __m256i& c0, __m256i& c1) {
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    const __m256i m2 = _mm256_set1_epi8(0x03);
    const int h = k / 2;
    const uint8_t* ql = block + offsetof(BlockQ6_K, ql) + 64 * h;
    __m256i a = Load256(ql);
    __m256i b = Load256(ql + 32);
    __m256i qh = Load256(block + offsetof(BlockQ6_K, qh) + 32 * h);
    if (k % 2 == 1) {
      a = _mm256_srli_epi16(a, 4);
      b = _mm256_srli_epi16(b, 4);
      qh = _mm256_srli_epi16(qh, 4);
    }
    const __m256i h0 = _mm256_slli_epi16(_mm256_and_si256(qh, m2), 4);
    const __m256i h1 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), m2), 4);
    c0 = _mm256_or_si256(_mm256_and_si256(a, m4), h0);
    c1 = _mm256_or_si256(_mm256_and_si256(b, m4), h1);
  }
  static __m256i Scale(const ExpandedK& e, int j) { return LoadAligned256(e.scale[j]); }
};

// Integer part of one super-block's product: `isum` (8 lanes summing to the
// scaled quants' dot product; Q6_K with its -32 offset already applied) and
// `imin` (8 lanes summing to the mins' product; zero for Q6_K). kFused: the
// quants come straight from the weight block (matrix-vector), else from e.q
// (matrix-matrix tiles); integer sums are exact, so both give the same bits.
template <class Isa, class F, bool kFused>
inline void IntDotK(const uint8_t* block, const ExpandedK& e, const BlockQ8_K& x, __m256i& isum,
                    __m256i& imin) {
  // Two accumulators shorten the dependency chain.
  __m256i acc[2] = {_mm256_setzero_si256(), _mm256_setzero_si256()};
  for (int k = 0; k < 4; ++k) {
    __m256i c0;
    __m256i c1;
    if constexpr (kFused) {
      F::Chunks(block, k, c0, c1);
    } else {
      c0 = LoadAligned256(e.q + 64 * k);
      c1 = LoadAligned256(e.q + 64 * k + 32);
    }
    acc[0] =
        Isa::Dpwssd(acc[0], _mm256_maddubs_epi16(c0, Load256(x.qs + 64 * k)), F::Scale(e, 2 * k));
    acc[1] = Isa::Dpwssd(acc[1], _mm256_maddubs_epi16(c1, Load256(x.qs + 64 * k + 32)),
                         F::Scale(e, 2 * k + 1));
  }
  isum = _mm256_add_epi32(acc[0], acc[1]);
  const __m256i corr = _mm256_madd_epi16(LoadAligned256(e.correction), Load256(x.bsums));
  if constexpr (F::kSixBit) {
    // Quants are stored + 32: subtract 32 * scale * (sum of the group's x).
    isum = _mm256_sub_epi32(isum, _mm256_slli_epi32(corr, 5));
    imin = _mm256_setzero_si256();
  } else {
    imin = corr;
  }
}

// d and dmin of four weight blocks as [d0 dmin0 d1 dmin1 ...] (dmin 0 for Q6_K).
template <class F>
inline __m256 BlockScales4(const uint8_t* const b[4]) {
  __m128i h;
  if constexpr (F::kSixBit) {
    constexpr size_t kD = offsetof(BlockQ6_K, d);
    h = _mm_setr_epi32(Load16(b[0] + kD), Load16(b[1] + kD), Load16(b[2] + kD), Load16(b[3] + kD));
  } else {
    h = _mm_setr_epi32(static_cast<int>(Load32(b[0])), static_cast<int>(Load32(b[1])),
                       static_cast<int>(Load32(b[2])), static_cast<int>(Load32(b[3])));
  }
  return _mm256_cvtph_ps(h);
}

// Adds four rows' super-block products to s (row r in lane 2r):
//   s = (s + (d_w * d_x) * isum) - (dmin_w * d_x) * imin
// with the same float operations as the scalar description at the top.
template <class F>
inline __m256 AddSuperBlocks4(__m256 s, __m256 scales_dx, const __m256i isum_imin[8]) {
  const __m256 p = _mm256_mul_ps(scales_dx, _mm256_cvtepi32_ps(SumEach8(isum_imin)));
  s = _mm256_add_ps(s, p);
  if constexpr (!F::kSixBit) {
    s = _mm256_sub_ps(s, _mm256_castsi256_ps(_mm256_srli_epi64(_mm256_castps_si256(p), 32)));
  }
  return s;
}

// Decode: four rows at a time (rows past the end repeat the last one).
template <class Isa, class F>
void KQuantGemv4(const GemmArgs& a, size_t r0, size_t nr) {
  const uint8_t* w[4];
  for (size_t r = 0; r < 4; ++r) w[r] = a.w + (r0 + Min(r, nr - 1)) * a.w_stride;
  const BlockQ8_K* x = reinterpret_cast<const BlockQ8_K*>(a.x);
  __m256 sum = _mm256_setzero_ps();
  ExpandedK e[4];
  const uint8_t* ahead = a.w + r0 * a.w_stride + kPrefetchBytes;
  const size_t nb = a.cols / kQK_K;
  for (size_t i = 0, off = 0; i < nb; ++i, off += F::kBytes) {
    PrefetchStep<4 * F::kBytes>(ahead);
    ahead += 4 * F::kBytes;
    const uint8_t* b[4] = {w[0] + off, w[1] + off, w[2] + off, w[3] + off};
    __m256i parts[8];
    // Unrolled, the four rows' sums stay in registers.
#pragma GCC unroll 4
    for (size_t r = 0; r < 4; ++r) {
      F::Prepare(b[r], e[r]);
      IntDotK<Isa, F, true>(b[r], e[r], x[i], parts[2 * r], parts[2 * r + 1]);
    }
    sum = AddSuperBlocks4<F>(sum, _mm256_mul_ps(BlockScales4<F>(b), _mm256_set1_ps(x[i].d)), parts);
  }
  alignas(32) float l[8];
  _mm256_store_ps(l, sum);
  for (size_t r = 0; r < 4 && r < nr; ++r) a.y[r0 + r] = l[2 * r];
}

// Matrix-matrix: R weight rows against G groups of 8 activation rows. Per
// 32-value chunk j of a super-block, the unsigned weight quads are broadcast
// against the interleaved activations (t = sum of q * x per activation row),
// then scaled: isum += sc_j * t (Q6_K: per 16-value half, with its -32
// offset); imin = sum of m_j times the chunk's activation sum.
template <class Isa, class F>
struct KQuantGemm {
  template <size_t R, size_t G>
  static void Tile(const GemmArgs& a, size_t r0, size_t nr, size_t g0) {
    static_assert(R <= 4, "BlockScales4 reads four rows");
    const size_t nb = a.cols / kQK_K;
    const uint8_t* w[R];
    for (size_t r = 0; r < R; ++r) w[r] = a.w + (r0 + Min(r, nr - 1)) * a.w_stride;
    const PackedQ8Group* xg[G];
    for (size_t g = 0; g < G; ++g) {
      xg[g] = reinterpret_cast<const PackedQ8Group*>(a.x) + (g0 + g) * (a.cols / kQK);
    }
    __m256 acc[R][G];
    for (size_t r = 0; r < R; ++r) {
      for (size_t g = 0; g < G; ++g) acc[r][g] = _mm256_setzero_ps();
    }
    ExpandedK e[R];
    const uint8_t* ahead = a.w + r0 * a.w_stride + kGemmPrefetchAhead;
    for (size_t i = 0, off = 0; i < nb; ++i, off += F::kBytes) {
      PrefetchStep<R * F::kBytes, _MM_HINT_T1>(ahead);
      ahead += R * F::kBytes;
      for (size_t r = 0; r < R; ++r) {
        F::Prepare(w[r] + off, e[r]);
        for (int k = 0; k < 4; ++k) {
          __m256i q0;
          __m256i q1;
          F::Chunks(w[r] + off, k, q0, q1);
          Store256(e[r].q + 64 * k, q0);
          Store256(e[r].q + 64 * k + 32, q1);
        }
      }
      __m256i isum[R][G];
      for (size_t r = 0; r < R; ++r) {
        for (size_t g = 0; g < G; ++g) isum[r][g] = _mm256_setzero_si256();
      }
      for (size_t j = 0; j < 8; ++j) {
        const size_t bi = 8 * i + j;
        // Q6_K scales each 16 values (4 quads), the others each 32.
        constexpr size_t kSpan = F::kSixBit ? 4 : 8;
        for (size_t k0 = 0; k0 < 8; k0 += kSpan) {
          __m256i t[R][G];
          for (size_t r = 0; r < R; ++r) {
            for (size_t g = 0; g < G; ++g) t[r][g] = _mm256_setzero_si256();
          }
          for (size_t k = k0; k < k0 + kSpan; ++k) {
            __m256i xv[G];
            for (size_t g = 0; g < G; ++g) xv[g] = LoadAligned256(xg[g][bi].qs[k]);
            for (size_t r = 0; r < R; ++r) {
              const __m256i wb =
                  _mm256_set1_epi32(static_cast<int>(Load32(e[r].q + 32 * j + 4 * k)));
              for (size_t g = 0; g < G; ++g) t[r][g] = Isa::Dpbusd(t[r][g], wb, xv[g]);
            }
          }
          for (size_t g = 0; g < G; ++g) {
            __m256i offset = _mm256_setzero_si256();
            if constexpr (F::kSixBit) {
              // Quants are stored + 32: 32 times the half's activation sum.
              const __m256i lo = LoadAligned256(xg[g][bi].sum_lo);
              const __m256i half =
                  k0 == 0 ? lo : _mm256_sub_epi32(LoadAligned256(xg[g][bi].sum), lo);
              offset = _mm256_slli_epi32(half, 5);
            }
            for (size_t r = 0; r < R; ++r) {
              const int sc = F::kSixBit ? e[r].correction[2 * j + k0 / 4]
                                        : static_cast<int16_t>(e[r].scale_pair[j]);
              isum[r][g] = _mm256_add_epi32(
                  isum[r][g],
                  _mm256_mullo_epi32(_mm256_sub_epi32(t[r][g], offset), _mm256_set1_epi32(sc)));
            }
          }
        }
      }
      const uint8_t* b[4];
      for (size_t r = 0; r < 4; ++r) b[r] = w[Min(r, R - 1)] + off;
      alignas(32) float scales[8];  // d, dmin of each row
      _mm256_store_ps(scales, BlockScales4<F>(b));
      for (size_t g = 0; g < G; ++g) {
        const __m256 dx = _mm256_load_ps(xg[g][8 * i].d);
        for (size_t r = 0; r < R; ++r) {
          const __m256 p = _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(scales[2 * r]), dx),
                                         _mm256_cvtepi32_ps(isum[r][g]));
          acc[r][g] = _mm256_add_ps(acc[r][g], p);
          if constexpr (!F::kSixBit) {
            __m256i imin = _mm256_setzero_si256();
            for (size_t j = 0; j < 8; ++j) {
              imin = _mm256_add_epi32(
                  imin, _mm256_mullo_epi32(LoadAligned256(xg[g][8 * i + j].sum),
                                           _mm256_set1_epi32(e[r].correction[2 * j])));
            }
            const __m256 pm = _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(scales[2 * r + 1]), dx),
                                            _mm256_cvtepi32_ps(imin));
            acc[r][g] = _mm256_sub_ps(acc[r][g], pm);
          }
        }
      }
    }
    StoreGroupTile<R, G>(a, r0, nr, g0, acc);
  }
};

// AVX-512 form of KQuantGemm: as in LegacyGemmWide, each 512-bit product
// takes two weight quads (activation lanes 2c and 2c + 1 hold quads k and
// k + 1 of row c); the integer sums stay in lane pairs through the scaling,
// exact, and each pair is added once per super-block.
template <class Isa, class F>
struct KQuantGemmWide {
  template <size_t R, size_t G>
  static void Tile(const GemmArgs& a, size_t r0, size_t nr, size_t g0) {
    static_assert(R <= 4, "BlockScales4 reads four rows");
    const size_t nb = a.cols / kQK_K;
    const uint8_t* w[R];
    for (size_t r = 0; r < R; ++r) w[r] = a.w + (r0 + Min(r, nr - 1)) * a.w_stride;
    const PackedQ8Group* xg[G];
    for (size_t g = 0; g < G; ++g) {
      xg[g] = reinterpret_cast<const PackedQ8Group*>(a.x) + (g0 + g) * (a.cols / kQK);
    }
    __m256 acc[R][G];
    for (size_t r = 0; r < R; ++r) {
      for (size_t g = 0; g < G; ++g) acc[r][g] = _mm256_setzero_ps();
    }
    ExpandedK e[R];
    const __m512i pair_lanes =
        _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const uint8_t* ahead = a.w + r0 * a.w_stride + kGemmPrefetchAhead;
    for (size_t i = 0, off = 0; i < nb; ++i, off += F::kBytes) {
      PrefetchStep<R * F::kBytes, _MM_HINT_T1>(ahead);
      ahead += R * F::kBytes;
      for (size_t r = 0; r < R; ++r) {
        F::Prepare(w[r] + off, e[r]);
        for (int k = 0; k < 4; ++k) {
          __m256i q0;
          __m256i q1;
          F::Chunks(w[r] + off, k, q0, q1);
          Store256(e[r].q + 64 * k, q0);
          Store256(e[r].q + 64 * k + 32, q1);
        }
      }
      __m512i isum[R][G];
      for (size_t r = 0; r < R; ++r) {
        for (size_t g = 0; g < G; ++g) isum[r][g] = _mm512_setzero_si512();
      }
      for (size_t j = 0; j < 8; ++j) {
        const size_t bi = 8 * i + j;
        // Q6_K scales each 16 values (4 quads), the others each 32.
        constexpr size_t kSpan = F::kSixBit ? 4 : 8;
        for (size_t k0 = 0; k0 < 8; k0 += kSpan) {
          __m512i t[R][G];
          for (size_t r = 0; r < R; ++r) {
            for (size_t g = 0; g < G; ++g) t[r][g] = _mm512_setzero_si512();
          }
          for (size_t k = k0; k < k0 + kSpan; k += 2) {
            __m512i xv[G];
            for (size_t g = 0; g < G; ++g) {
              xv[g] = _mm512_permutex2var_epi32(
                  _mm512_zextsi256_si512(LoadAligned256(xg[g][bi].qs[k])), pair_lanes,
                  _mm512_zextsi256_si512(LoadAligned256(xg[g][bi].qs[k + 1])));
            }
            for (size_t r = 0; r < R; ++r) {
              uint64_t quads;
              std::memcpy(&quads, e[r].q + 32 * j + 4 * k, sizeof(quads));
              const __m512i wb = _mm512_set1_epi64(static_cast<long long>(quads));
              for (size_t g = 0; g < G; ++g) t[r][g] = _mm512_dpbusd_epi32(t[r][g], wb, xv[g]);
            }
          }
          for (size_t g = 0; g < G; ++g) {
            __m512i offset = _mm512_setzero_si512();
            if constexpr (F::kSixBit) {
              // Quants are stored + 32: 32 times the half's activation sum.
              const __m256i lo = LoadAligned256(xg[g][bi].sum_lo);
              const __m256i half =
                  k0 == 0 ? lo : _mm256_sub_epi32(LoadAligned256(xg[g][bi].sum), lo);
              offset = _mm512_cvtepu32_epi64(_mm256_slli_epi32(half, 5));
            }
            for (size_t r = 0; r < R; ++r) {
              const int sc = F::kSixBit ? e[r].correction[2 * j + k0 / 4]
                                        : static_cast<int16_t>(e[r].scale_pair[j]);
              isum[r][g] = _mm512_add_epi32(
                  isum[r][g],
                  _mm512_mullo_epi32(_mm512_sub_epi32(t[r][g], offset), _mm512_set1_epi32(sc)));
            }
          }
        }
      }
      const uint8_t* b[4];
      for (size_t r = 0; r < 4; ++r) b[r] = w[Min(r, R - 1)] + off;
      alignas(32) float scales[8];  // d, dmin of each row
      _mm256_store_ps(scales, BlockScales4<F>(b));
      for (size_t g = 0; g < G; ++g) {
        const __m256 dx = _mm256_load_ps(xg[g][8 * i].d);
        for (size_t r = 0; r < R; ++r) {
          const __m256i pair_sum = _mm512_cvtepi64_epi32(
              _mm512_add_epi32(isum[r][g], _mm512_srli_epi64(isum[r][g], 32)));
          const __m256 p = _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(scales[2 * r]), dx),
                                         _mm256_cvtepi32_ps(pair_sum));
          acc[r][g] = _mm256_add_ps(acc[r][g], p);
          if constexpr (!F::kSixBit) {
            __m256i imin = _mm256_setzero_si256();
            for (size_t j = 0; j < 8; ++j) {
              imin = _mm256_add_epi32(
                  imin, _mm256_mullo_epi32(LoadAligned256(xg[g][8 * i + j].sum),
                                           _mm256_set1_epi32(e[r].correction[2 * j])));
            }
            const __m256 pm = _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(scales[2 * r + 1]), dx),
                                            _mm256_cvtepi32_ps(imin));
            acc[r][g] = _mm256_sub_ps(acc[r][g], pm);
          }
        }
      }
    }
    StoreGroupTile<R, G>(a, r0, nr, g0, acc);
  }
};

template <class Isa, class F>
struct KQuantKernel {
  static constexpr size_t kRows = Isa::kKTileRows;
  static constexpr size_t kGroups = Isa::kKTileGroups;
  static constexpr size_t FewGroupRows(size_t g) { return Isa::KFewGroupRows(g); }
  static void Gemv(const GemmArgs& a, size_t r0, size_t nr) {
    for (size_t r = 0; r < nr; r += 4) KQuantGemv4<Isa, F>(a, r0 + r, Min(4, nr - r));
  }
  template <size_t R, size_t G>
  static void Tile(const GemmArgs& a, size_t r0, size_t nr, size_t g0) {
    if constexpr (Isa::kWideTiles) {
      KQuantGemmWide<Isa, F>::template Tile<R, G>(a, r0, nr, g0);
    } else {
      KQuantGemm<Isa, F>::template Tile<R, G>(a, r0, nr, g0);
    }
  }
};

}  // namespace
}  // namespace autan::kernels::x86
