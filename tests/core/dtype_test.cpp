#include "core/dtype.h"

#include <gtest/gtest.h>

namespace autan {
namespace {

TEST(DType, BlockGeometryMatchesGgml) {
  EXPECT_EQ(Info(DType::kQ4_0).type_size, 2u + 16u);
  EXPECT_EQ(Info(DType::kQ4_K).type_size, 2u + 2u + 12u + 128u);
  EXPECT_EQ(Info(DType::kQ6_K).type_size, 128u + 64u + 16u + 2u);
  EXPECT_EQ(Info(DType::kQ8_K).type_size, 4u + 256u + 32u);
  EXPECT_FALSE(LookupDType(4).has_value());  // removed Q4_2
  EXPECT_FALSE(LookupDType(1000).has_value());
}

TEST(DType, RowBytesRejectsPartialBlocksAndOverflow) {
  EXPECT_EQ(RowBytes(DType::kQ8_0, 64), 68u);
  EXPECT_FALSE(RowBytes(DType::kQ8_0, 33).has_value());
  EXPECT_FALSE(RowBytes(DType::kF32, ~0ull).has_value());
}

TEST(DType, ParsesNames) {
  EXPECT_EQ(ParseDType("Q4_K"), DType::kQ4_K);
  EXPECT_EQ(ParseDType("bf16"), DType::kBF16);
  EXPECT_FALSE(ParseDType("q4_k_m").has_value());
}

}  // namespace
}  // namespace autan
