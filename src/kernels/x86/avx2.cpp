// Kernels for AVX2 + FMA + F16C CPUs (Haswell and later, Zen 1-3): the
// integer dot products through vpmaddubsw + vpmaddwd, 16 vector registers.
// Built with those flags only.
#include "kernels/x86/common_inl.h"
#include "kernels/x86/float_inl.h"
#include "kernels/x86/kernels.h"
#include "kernels/x86/kquant_inl.h"
#include "kernels/x86/legacy_inl.h"

namespace autan::kernels::x86 {
namespace {

struct Isa {
  // Matrix-matrix tiles: weight rows by groups of 8 activation rows.
  static constexpr size_t kLegacyTileRows = 2;
  static constexpr size_t kLegacyTileGroups = 2;
  static constexpr size_t kKTileRows = 2;
  static constexpr size_t kKTileGroups = 2;
  // 512-bit products in the matrix-matrix tiles.
  static constexpr bool kWideTiles = false;
  // Taller tiles when the batch has fewer groups than a full tile.
  static constexpr size_t LegacyFewGroupRows(size_t) { return kLegacyTileRows; }
  static constexpr size_t KFewGroupRows(size_t) { return kKTileRows; }
  static constexpr size_t kFloatTileRows = 2;
  static constexpr size_t kFloatTileCols = 2;

  // acc + sum of 4 adjacent u8 * s8 products per int32 lane. The 16-bit
  // pair sums cannot saturate: the unsigned side is at most 128 here, or
  // 63 against activations of at most 127 in magnitude.
  static __m256i Dpbusd(__m256i acc, __m256i u, __m256i s) {
    const __m256i pairs = _mm256_maddubs_epi16(u, s);
    return _mm256_add_epi32(acc, _mm256_madd_epi16(pairs, _mm256_set1_epi16(1)));
  }
  // acc + sum of 2 adjacent s16 * s16 products per int32 lane.
  static __m256i Dpwssd(__m256i acc, __m256i a, __m256i b) {
    return _mm256_add_epi32(acc, _mm256_madd_epi16(a, b));
  }
  // Adds 16 to byte j where bit j of `bits` is set (the byte is below 16).
  static __m256i AddBit4(__m256i v, uint32_t bits) {
    const __m256i spread =
        _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int>(bits)),
                            _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2,
                                             2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3));
    const __m256i select = _mm256_set1_epi64x(static_cast<int64_t>(0x8040201008040201ull));
    const __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(spread, select), select);
    return _mm256_or_si256(v, _mm256_and_si256(set, _mm256_set1_epi8(0x10)));
  }
  // Q8_0 weights in the matrix-matrix kernel stay signed: |w| against x with
  // w's sign keeps vpmaddubsw's pair sums below 2 * 128 * 127.
  static constexpr int kQ8ZeroShift = -1;
  static __m256i Q8Weights(__m256i q) { return q; }
  static __m256i Q8Dot(__m256i acc, __m256i w, __m256i x) {
    return Dpbusd(acc, _mm256_abs_epi8(w), _mm256_sign_epi8(x, w));
  }
};

}  // namespace

extern const GemmSet kAvx2Gemms = {
    .name = "avx2",
    .f32 = RowGemm<FloatKernel<Isa, F32Format>>,
    .f16 = RowGemm<FloatKernel<Isa, F16Format>>,
    .bf16 = RowGemm<FloatKernel<Isa, BF16Format>>,
    .q4_0 = GroupGemm<LegacyKernel<Isa, Q4_0Format>>,
    .q4_1 = GroupGemm<LegacyKernel<Isa, Q4_1Format>>,
    .q5_0 = GroupGemm<LegacyKernel<Isa, Q5_0Format>>,
    .q5_1 = GroupGemm<LegacyKernel<Isa, Q5_1Format>>,
    .q8_0 = GroupGemm<LegacyKernel<Isa, Q8_0Format>>,
    .q4_k = GroupGemm<KQuantKernel<Isa, Q4_KFormat>>,
    .q5_k = GroupGemm<KQuantKernel<Isa, Q5_KFormat>>,
    .q6_k = GroupGemm<KQuantKernel<Isa, Q6_KFormat>>,
};

}  // namespace autan::kernels::x86
