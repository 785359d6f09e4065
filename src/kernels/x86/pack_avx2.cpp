// Activation conversion for the x86 kernels, built with AVX2 + F16C (every
// x86 kernel set needs them). Each function rounds exactly as the scalar
// QuantizeRow does (and so as llama.cpp's reference quantizers do): the same
// float operations in the same order, only eight lanes at a time. This unit
// includes no header with inline functions shared with other units, so none
// of its code can stand in for code built without these flags.
#include <immintrin.h>

#include <cstring>

#include "kernels/quant_blocks.h"
#include "kernels/x86/packed.h"

namespace autan::kernels::x86 {
namespace {

inline __m256 SignMask() { return _mm256_set1_ps(-0.0f); }

inline __m256 Abs(__m256 v) { return _mm256_andnot_ps(SignMask(), v); }

// Largest of the 8 lanes (the order of max does not matter: it is exact).
inline float MaxLane(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

// Round half away from zero (std::round), exact for |v| < 2^23: the
// truncation's remainder is exact, and a remainder of at least one half
// moves one step away from zero.
inline __m256 RoundHalfAway(__m256 v) {
  const __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m256 frac = Abs(_mm256_sub_ps(v, t));
  const __m256 up = _mm256_cmp_ps(frac, _mm256_set1_ps(0.5f), _CMP_GE_OQ);
  const __m256 step = _mm256_or_ps(_mm256_set1_ps(1.0f), _mm256_and_ps(v, SignMask()));
  return _mm256_add_ps(t, _mm256_and_ps(up, step));
}

// Four vectors of 8 int32 in [-128, 127] to 32 int8 in lane order.
inline __m256i PackInt8(__m256i a, __m256i b, __m256i c, __m256i d) {
  const __m256i ab = _mm256_packs_epi32(a, b);  // a0-3 b0-3 | a4-7 b4-7
  const __m256i cd = _mm256_packs_epi32(c, d);
  const __m256i abcd = _mm256_packs_epi16(ab, cd);  // a0-3 b0-3 c0-3 d0-3 | a4-7 b4-7 c4-7 d4-7
  return _mm256_permutevar8x32_epi32(abcd, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

inline float RoundToHalf(float f) {
  return _cvtsh_ss(_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}

// Sum of the 32 int8 values (exact).
inline int32_t SumInt8(__m256i q) {
  const __m256i wide =
      _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi8(1), q), _mm256_set1_epi16(1));
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(wide), _mm256_extracti128_si256(wide, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
  return _mm_cvtsi128_si32(s);
}

// QuantizeQ8_0 / QuantizeQ8_1 of one block: quants, fp16 d widened, and
// for Q8_1 the fp16 s widened.
struct Q8Block {
  __m256i qs;
  float d;
  float s;
};

Q8Block QuantizeQ8Block(const float* x, bool with_sum) {
  __m256 v[4];
  __m256 amax = _mm256_setzero_ps();
  for (int k = 0; k < 4; ++k) {
    v[k] = _mm256_loadu_ps(x + 8 * k);
    amax = _mm256_max_ps(Abs(v[k]), amax);  // a NaN lane leaves amax as it was, as std::max does
  }
  const float d = MaxLane(amax) / 127.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  __m256i q[4];
  for (int k = 0; k < 4; ++k) {
    q[k] = _mm256_cvttps_epi32(RoundHalfAway(_mm256_mul_ps(v[k], _mm256_set1_ps(id))));
  }
  Q8Block b;
  b.qs = PackInt8(q[0], q[1], q[2], q[3]);
  b.d = RoundToHalf(d);
  b.s = with_sum ? RoundToHalf(static_cast<float>(SumInt8(b.qs)) * d) : 0.0f;
  return b;
}

// Sums of each 4 consecutive int8 values, as 8 int32.
inline __m256i Sums4(__m256i q) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi8(1), q), _mm256_set1_epi16(1));
}

// The row layout (batch 1) of a Q8_0/Q8_1 block.
void StoreRowBlock(const Q8Block& b, int32_t zero_point, PackedQ8Block& p) {
  std::memset(&p, 0, sizeof(p));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(p.qs), b.qs);
  p.d = b.d;
  p.s = b.s;
  if (zero_point != 0) {
    // Lane k: values 4k..4k+3 and 16+4k..16+4k+3.
    const __m256i sums4 = Sums4(b.qs);
    const __m128i lanes =
        _mm_add_epi32(_mm256_castsi256_si128(sums4), _mm256_extracti128_si256(sums4, 1));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p.bias),
                     _mm_mullo_epi32(lanes, _mm_set1_epi32(-zero_point)));
  }
}

// Row c of a group: its quads, sums and scales.
void StoreGroupRow(__m256i qs, float d, float s, size_t c, PackedQ8Group& g) {
  alignas(32) uint32_t quads[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(quads), qs);
  for (int k = 0; k < 8; ++k) std::memcpy(&g.qs[k][4 * c], &quads[k], 4);
  alignas(32) int32_t sums4[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(sums4), Sums4(qs));
  g.sum_lo[c] = sums4[0] + sums4[1] + sums4[2] + sums4[3];
  g.sum[c] = g.sum_lo[c] + sums4[4] + sums4[5] + sums4[6] + sums4[7];
  g.d[c] = d;
  g.s[c] = s;
}

size_t Groups(size_t batch) { return (batch + 7) / 8; }

// Rows [begin, end) of a batch into groups; whole groups are rewritten, so
// the rows past the end of the batch come out zero.
template <class Row>
void PackGroups(const float* x, size_t cols, size_t begin, size_t end, size_t blocks_per_row,
                uint8_t* dst, Row row) {
  PackedQ8Group* out = reinterpret_cast<PackedQ8Group*>(dst);
  for (size_t g = begin / 8; g < Groups(end); ++g) {
    PackedQ8Group* blocks = out + g * blocks_per_row;
    std::memset(blocks, 0, blocks_per_row * sizeof(PackedQ8Group));
    for (size_t c = 0; c < 8 && 8 * g + c < end; ++c) row(x + (8 * g + c) * cols, c, blocks);
  }
}

void PackQ8(int32_t zero_point, bool with_sum, const float* x, size_t cols, size_t batch,
            size_t begin, size_t end, uint8_t* dst) {
  const size_t nb = cols / kQK;
  if (batch == 1) {
    PackedQ8Block* out = reinterpret_cast<PackedQ8Block*>(dst);
    for (size_t i = 0; i < nb; ++i) {
      StoreRowBlock(QuantizeQ8Block(x + kQK * i, with_sum), zero_point, out[i]);
    }
    return;
  }
  PackGroups(x, cols, begin, end, nb, dst, [&](const float* row, size_t c, PackedQ8Group* g) {
    for (size_t i = 0; i < nb; ++i) {
      const Q8Block b = QuantizeQ8Block(row + kQK * i, with_sum);
      StoreGroupRow(b.qs, b.d, b.s, c, g[i]);
    }
  });
}

// QuantizeQ8_K of one super-block.
void QuantizeQ8KBlock(const float* x, BlockQ8_K& y) {
  __m256 amax_v = _mm256_setzero_ps();
  for (size_t j = 0; j < kQK_K; j += 8) amax_v = _mm256_max_ps(Abs(_mm256_loadu_ps(x + j)), amax_v);
  const float amax = MaxLane(amax_v);
  if (amax == 0.0f) {
    std::memset(&y, 0, sizeof(y));
    return;
  }
  // The first value of largest magnitude, with its sign.
  float max = 0.0f;
  for (size_t j = 0; j < kQK_K; j += 8) {
    const int hits = _mm256_movemask_ps(
        _mm256_cmp_ps(Abs(_mm256_loadu_ps(x + j)), _mm256_set1_ps(amax), _CMP_EQ_OQ));
    if (hits != 0) {
      max = x[j + static_cast<size_t>(__builtin_ctz(static_cast<unsigned>(hits)))];
      break;
    }
  }
  const float iscale = -127.f / max;
  const __m256 is = _mm256_set1_ps(iscale);
  for (size_t j = 0; j < kQK_K; j += 32) {
    __m256i q[4];
    for (size_t k = 0; k < 4; ++k) {
      // NearestInt: round half to even; then at most 127.
      const __m256 r = _mm256_round_ps(_mm256_mul_ps(is, _mm256_loadu_ps(x + j + 8 * k)),
                                       _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
      q[k] = _mm256_min_epi32(_mm256_cvttps_epi32(r), _mm256_set1_epi32(127));
    }
    const __m256i qs = PackInt8(q[0], q[1], q[2], q[3]);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y.qs + j), qs);
    // Sums of each 16 values.
    const __m256i s16 = _mm256_maddubs_epi16(_mm256_set1_epi8(1), qs);  // pairs
    const __m256i s32 = _mm256_madd_epi16(s16, _mm256_set1_epi16(1));   // fours
    const __m128i lo = _mm256_castsi256_si128(s32);
    const __m128i hi = _mm256_extracti128_si256(s32, 1);
    __m128i s = _mm_hadd_epi32(lo, hi);  // eights: 0-7, 8-15, 16-23, 24-31
    s = _mm_hadd_epi32(s, s);            // sixteens
    y.bsums[j / 16] = static_cast<int16_t>(_mm_cvtsi128_si32(s));
    y.bsums[j / 16 + 1] = static_cast<int16_t>(_mm_extract_epi32(s, 1));
  }
  y.d = 1 / iscale;
}

}  // namespace

size_t PackedQ8Bytes(size_t cols, size_t batch) {
  const size_t nb = cols / kQK;
  return batch == 1 ? nb * sizeof(PackedQ8Block) : Groups(batch) * nb * sizeof(PackedQ8Group);
}

void PackQ8ForQ4_0(const float* x, size_t cols, size_t batch, size_t begin, size_t end,
                   uint8_t* dst) {
  PackQ8(8, false, x, cols, batch, begin, end, dst);
}
void PackQ8ForQ5_0(const float* x, size_t cols, size_t batch, size_t begin, size_t end,
                   uint8_t* dst) {
  PackQ8(16, false, x, cols, batch, begin, end, dst);
}
void PackQ8ForQ8_0(const float* x, size_t cols, size_t batch, size_t begin, size_t end,
                   uint8_t* dst) {
  PackQ8(0, false, x, cols, batch, begin, end, dst);
}
void PackQ8_1(const float* x, size_t cols, size_t batch, size_t begin, size_t end, uint8_t* dst) {
  PackQ8(0, true, x, cols, batch, begin, end, dst);
}

size_t PackedQ8KBytes(size_t cols, size_t batch) {
  return batch == 1 ? cols / kQK_K * sizeof(BlockQ8_K)
                    : Groups(batch) * (cols / kQK) * sizeof(PackedQ8Group);
}

void PackQ8_K(const float* x, size_t cols, size_t batch, size_t begin, size_t end, uint8_t* dst) {
  const size_t nb = cols / kQK_K;
  if (batch == 1) {
    BlockQ8_K* out = reinterpret_cast<BlockQ8_K*>(dst);
    for (size_t i = 0; i < nb; ++i) QuantizeQ8KBlock(x + kQK_K * i, out[i]);
    return;
  }
  PackGroups(
      x, cols, begin, end, cols / kQK, dst, [&](const float* row, size_t c, PackedQ8Group* g) {
        for (size_t i = 0; i < nb; ++i) {
          BlockQ8_K b;
          QuantizeQ8KBlock(row + kQK_K * i, b);
          for (size_t j = 0; j < kQK_K / kQK; ++j) {
            const __m256i qs = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qs + kQK * j));
            StoreGroupRow(qs, b.d, 0.0f, c, g[i * (kQK_K / kQK) + j]);
          }
        }
      });
}

size_t PackedFloatBytes(size_t cols, size_t batch) { return batch * cols * sizeof(float); }

void PackF16(const float* x, size_t cols, size_t /*batch*/, size_t begin, size_t end,
             uint8_t* dst) {
  float* out = reinterpret_cast<float*>(dst);
  const size_t n = end * cols;
  size_t i = begin * cols;
  for (; i + 8 <= n; i += 8) {
    const __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT);
    _mm256_storeu_ps(out + i, _mm256_cvtph_ps(h));
  }
  for (; i < n; ++i) out[i] = RoundToHalf(x[i]);
}

void PackBF16(const float* x, size_t cols, size_t /*batch*/, size_t begin, size_t end,
              uint8_t* dst) {
  // Round to nearest even on the top 16 bits; NaN stays NaN (made quiet).
  float* out = reinterpret_cast<float*>(dst);
  for (size_t i = begin * cols; i < end * cols; ++i) {
    uint32_t u;
    std::memcpy(&u, &x[i], sizeof(u));
    if ((u & 0x7fffffffu) > 0x7f800000u) {
      u = (u | 0x00400000u) & 0xffff0000u;
    } else {
      u = (u + (0x7fffu + ((u >> 16) & 1u))) & 0xffff0000u;
    }
    std::memcpy(&out[i], &u, sizeof(u));
  }
}

}  // namespace autan::kernels::x86
