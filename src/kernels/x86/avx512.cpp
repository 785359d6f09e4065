// Kernels for AVX-512 F/BW/VL/VNNI CPUs (Zen 4, Ice Lake and later): the
// 256-bit EVEX forms, which run at full rate on Zen 4's 256-bit datapaths,
// with 32 vector registers and vpdpbusd. Built with those flags only.
#include "kernels/x86/common_inl.h"
#include "kernels/x86/float_inl.h"
#include "kernels/x86/kernels.h"
#include "kernels/x86/kquant_inl.h"
#include "kernels/x86/legacy_inl.h"

namespace autan::kernels::x86 {
namespace {

struct Isa {
  static constexpr size_t kPairTileRows = 4;
  static constexpr size_t kPairTileCols = 4;
  static constexpr size_t kPairGemvRows = 4;
  static constexpr size_t kQ8TileRows = 4;
  static constexpr size_t kQ8TileCols = 4;
  static constexpr size_t kQ8GemvRows = 4;
  static constexpr size_t kFloatTileRows = 4;
  static constexpr size_t kFloatTileCols = 2;
  static constexpr size_t kKTileCols = 4;

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
};

}  // namespace

extern const GemmSet kAvx512Gemms = {
    .name = "avx512-vnni",
    .f32 = Gemm<FloatKernel<Isa, F32Format>>,
    .f16 = Gemm<FloatKernel<Isa, F16Format>>,
    .bf16 = Gemm<FloatKernel<Isa, BF16Format>>,
    .q4_0 = Gemm<PairKernel<Isa, Q4_0Format>>,
    .q4_1 = Gemm<PairKernel<Isa, Q4_1Format>>,
    .q5_0 = Gemm<PairKernel<Isa, Q5_0Format>>,
    .q5_1 = Gemm<PairKernel<Isa, Q5_1Format>>,
    .q8_0 = Gemm<Q8_0Kernel<Isa>>,
    .q4_k = Gemm<KQuantKernel<Isa, Q4_KFormat>>,
    .q5_k = Gemm<KQuantKernel<Isa, Q5_KFormat>>,
    .q6_k = Gemm<KQuantKernel<Isa, Q6_KFormat>>,
};

}  // namespace autan::kernels::x86
