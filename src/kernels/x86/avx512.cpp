// Kernels for AVX-512 F/BW/VL/VNNI CPUs (Zen 4 and 5, Ice Lake and later):
// 32 vector registers, vpdpbusd, 512-bit float tiles and products where a
// benchmark showed them faster (Zen 5 runs two 512-bit FMAs or vpdpbusd per
// cycle). Built with those flags only.
// GCC 12's 512-bit intrinsics start some results from _mm512_undefined and
// then warn about it (clang has no such warning).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include "kernels/x86/common_inl.h"
#include "kernels/x86/float_inl.h"
#include "kernels/x86/kernels.h"
#include "kernels/x86/kquant_inl.h"
#include "kernels/x86/legacy_inl.h"

namespace autan::kernels::x86 {
namespace {

struct Isa {
  // Matrix-matrix tiles: weight rows by groups of 8 activation rows.
  static constexpr size_t kLegacyTileRows = 3;
  static constexpr size_t kLegacyTileGroups = 4;
  static constexpr size_t kKTileRows = 3;
  static constexpr size_t kKTileGroups = 4;
  // 512-bit products in the matrix-matrix tiles.
  static constexpr bool kWideTiles = true;
  // Taller tiles when the batch has fewer groups than a full tile.
  static constexpr size_t LegacyFewGroupRows(size_t g) { return g == 1 ? 8 : g == 2 ? 4 : 3; }
  static constexpr size_t KFewGroupRows(size_t) { return 4; }  // BlockScales4's limit
  static constexpr size_t kFloatTileRows = 6;
  static constexpr size_t kFloatTileCols = 4;

  // acc + sum of 4 adjacent u8 * s8 products per int32 lane.
  static __m256i Dpbusd(__m256i acc, __m256i u, __m256i s) {
    return _mm256_dpbusd_epi32(acc, u, s);
  }
  // acc + sum of 2 adjacent s16 * s16 products per int32 lane.
  static __m256i Dpwssd(__m256i acc, __m256i a, __m256i b) {
    return _mm256_dpwssd_epi32(acc, a, b);
  }
  // Adds 16 to byte j where bit j of `bits` is set (the byte is below 16).
  static __m256i AddBit4(__m256i v, uint32_t bits) {
    return _mm256_mask_add_epi8(v, bits, v, _mm256_set1_epi8(0x10));
  }
  // Q8_0 weights in the matrix-matrix kernel: stored + 128 (unsigned), the
  // offset taken back as -128 * sum(x) (no 16-bit intermediate to overflow).
  static constexpr int kQ8ZeroShift = 7;
  static __m256i Q8Weights(__m256i q) { return _mm256_xor_si256(q, _mm256_set1_epi8(-128)); }
  static __m256i Q8Dot(__m256i acc, __m256i w, __m256i x) { return Dpbusd(acc, w, x); }
};

}  // namespace

extern const GemmSet kAvx512Gemms = {
    .name = "avx512-vnni",
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
