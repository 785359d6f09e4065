#include "core/fp16.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "core/rng.h"

namespace autan {
namespace {

// The oracle is the compiler's own _Float16 conversion (IEEE round-to-nearest-even),
// which GCC 12 has on x86-64 and clang 14 not yet (the sanitizer build).
#ifdef __FLT16_MAX__
TEST(Fp16, RoundTripsEveryHalf) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = Fp16ToFp32(static_cast<uint16_t>(h));
    _Float16 ref;
    const uint16_t bits = static_cast<uint16_t>(h);
    std::memcpy(&ref, &bits, 2);
    if (std::isnan(static_cast<float>(ref))) {
      EXPECT_TRUE(std::isnan(f));
      continue;
    }
    ASSERT_EQ(f, static_cast<float>(ref)) << h;
    ASSERT_EQ(Fp32ToFp16(f), h) << h;
  }
}

TEST(Fp16, RoundsLikeTheCompiler) {
  Rng rng(7);
  for (int i = 0; i < 200000; ++i) {
    const float f = static_cast<float>((rng.Uniform() - 0.5) * std::ldexp(1.0, (i % 40) - 25));
    const _Float16 ref = static_cast<_Float16>(f);
    uint16_t bits;
    std::memcpy(&bits, &ref, 2);
    ASSERT_EQ(Fp32ToFp16(f), bits) << f;
  }
  EXPECT_EQ(Fp32ToFp16(1e6f), 0x7c00);
  EXPECT_EQ(Fp32ToFp16(-1e6f), 0xfc00);
}
#endif

TEST(Bf16, RoundsToNearestEven) {
  EXPECT_EQ(Fp32ToBf16(1.0f), 0x3f80);
  EXPECT_EQ(Bf16ToFp32(0x3f80), 1.0f);
  // 1 + 2^-8 is exactly halfway between two bf16 values: ties go to even.
  EXPECT_EQ(Fp32ToBf16(1.0f + 1.0f / 256), 0x3f80);
  EXPECT_EQ(Fp32ToBf16(1.0f + 3.0f / 256), 0x3f82);
  EXPECT_TRUE(std::isnan(Bf16ToFp32(Fp32ToBf16(std::numeric_limits<float>::quiet_NaN()))));
}

}  // namespace
}  // namespace autan
