// Pins the byte layout of every type: blocks are written byte by byte as
// ggml-common.h lays them out, and the expected values are computed here from
// the format's definition (scales are powers of two, so they are exact).
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "kernels/quant.h"

namespace autan::kernels {
namespace {

constexpr uint16_t kHalf0_125 = 0x3000;
constexpr uint16_t kHalf0_25 = 0x3400;
constexpr uint16_t kHalf0_5 = 0x3800;
constexpr uint16_t kHalfMinus1 = 0xBC00;

void PutU16(std::vector<uint8_t>& bytes, size_t offset, uint16_t v) {
  bytes[offset] = static_cast<uint8_t>(v & 0xFF);
  bytes[offset + 1] = static_cast<uint8_t>(v >> 8);
}

std::vector<float> Expand(DType t, const std::vector<uint8_t>& bytes, size_t n) {
  EXPECT_EQ(bytes.size(), *RowBytes(t, n));
  std::vector<float> y(n);
  DequantizeRow(t, bytes.data(), y.data(), n);
  return y;
}

// Nibble pattern of the 4-bit types: byte j holds j (low) and 15 - j (high).
uint8_t NibblePair(size_t j) { return static_cast<uint8_t>((j % 16) | ((15 - j % 16) << 4)); }

TEST(QuantLayout, FloatTypes) {
  const std::vector<uint8_t> f16 = {0x00, 0x3C, 0x00, 0xC0, 0x01, 0x00};  // 1, -2, 2^-24
  const std::vector<float> y16 = Expand(DType::kF16, f16, 3);
  EXPECT_EQ(y16[0], 1.0f);
  EXPECT_EQ(y16[1], -2.0f);
  EXPECT_EQ(y16[2], 0x1p-24f);
  const std::vector<uint8_t> bf16 = {0x80, 0x3F, 0x49, 0x40};  // 1, 3.140625
  const std::vector<float> yb = Expand(DType::kBF16, bf16, 2);
  EXPECT_EQ(yb[0], 1.0f);
  EXPECT_EQ(yb[1], 3.140625f);
  const std::vector<uint8_t> f32 = {0x00, 0x00, 0xC0, 0x3F};  // 1.5
  EXPECT_EQ(Expand(DType::kF32, f32, 1)[0], 1.5f);
}

// Q4_0: d, then 16 bytes; value j in the low nibble of byte j, j + 16 in its
// high nibble; x = d * (q - 8).
TEST(QuantLayout, Q4_0) {
  std::vector<uint8_t> b(18);
  PutU16(b, 0, kHalf0_5);
  for (size_t j = 0; j < 16; ++j) b[2 + j] = NibblePair(j);
  const std::vector<float> y = Expand(DType::kQ4_0, b, 32);
  for (size_t j = 0; j < 16; ++j) {
    EXPECT_EQ(y[j], 0.5f * (static_cast<float>(j) - 8)) << j;
    EXPECT_EQ(y[j + 16], 0.5f * (static_cast<float>(15 - j) - 8)) << j;
  }
}

// Q4_1: d, m, 16 bytes; x = d * q + m.
TEST(QuantLayout, Q4_1) {
  std::vector<uint8_t> b(20);
  PutU16(b, 0, kHalf0_25);
  PutU16(b, 2, kHalfMinus1);
  for (size_t j = 0; j < 16; ++j) b[4 + j] = NibblePair(j);
  const std::vector<float> y = Expand(DType::kQ4_1, b, 32);
  for (size_t j = 0; j < 16; ++j) {
    EXPECT_EQ(y[j], 0.25f * static_cast<float>(j) - 1) << j;
    EXPECT_EQ(y[j + 16], 0.25f * static_cast<float>(15 - j) - 1) << j;
  }
}

// Fifth bit of value k: bit k % 8 of qh byte k / 8.
constexpr uint8_t kQh[4] = {0x01, 0x80, 0x00, 0xFF};
int HighBit(size_t k) { return (kQh[k / 8] >> (k % 8)) & 1; }

// Q5_0: d, qh[4], 16 bytes; x = d * (q - 16).
TEST(QuantLayout, Q5_0) {
  std::vector<uint8_t> b(22);
  PutU16(b, 0, kHalf0_5);
  for (size_t k = 0; k < 4; ++k) b[2 + k] = kQh[k];
  for (size_t j = 0; j < 16; ++j) b[6 + j] = NibblePair(j);
  const std::vector<float> y = Expand(DType::kQ5_0, b, 32);
  for (size_t j = 0; j < 16; ++j) {
    const int q0 = static_cast<int>(j) + 16 * HighBit(j);
    const int q1 = static_cast<int>(15 - j) + 16 * HighBit(j + 16);
    EXPECT_EQ(y[j], 0.5f * static_cast<float>(q0 - 16)) << j;
    EXPECT_EQ(y[j + 16], 0.5f * static_cast<float>(q1 - 16)) << j;
  }
}

// Q5_1: d, m, qh[4], 16 bytes; x = d * q + m.
TEST(QuantLayout, Q5_1) {
  std::vector<uint8_t> b(24);
  PutU16(b, 0, kHalf0_25);
  PutU16(b, 2, kHalfMinus1);
  for (size_t k = 0; k < 4; ++k) b[4 + k] = kQh[k];
  for (size_t j = 0; j < 16; ++j) b[8 + j] = NibblePair(j);
  const std::vector<float> y = Expand(DType::kQ5_1, b, 32);
  for (size_t j = 0; j < 16; ++j) {
    const int q0 = static_cast<int>(j) + 16 * HighBit(j);
    const int q1 = static_cast<int>(15 - j) + 16 * HighBit(j + 16);
    EXPECT_EQ(y[j], 0.25f * static_cast<float>(q0) - 1) << j;
    EXPECT_EQ(y[j + 16], 0.25f * static_cast<float>(q1) - 1) << j;
  }
}

int8_t SignedPattern(size_t j) { return static_cast<int8_t>(static_cast<int>(j * 7) - 100); }

// Q8_0: d, 32 int8; Q8_1: d, s, 32 int8 (s does not enter the values).
TEST(QuantLayout, Q8_0AndQ8_1) {
  std::vector<uint8_t> b0(34);
  std::vector<uint8_t> b1(36);
  PutU16(b0, 0, kHalf0_125);
  PutU16(b1, 0, kHalf0_125);
  PutU16(b1, 2, 0x7BFF);  // s = 65504, ignored
  for (size_t j = 0; j < 32; ++j) {
    b0[2 + j] = static_cast<uint8_t>(SignedPattern(j));
    b1[4 + j] = static_cast<uint8_t>(SignedPattern(j));
  }
  const std::vector<float> y0 = Expand(DType::kQ8_0, b0, 32);
  const std::vector<float> y1 = Expand(DType::kQ8_1, b1, 32);
  for (size_t j = 0; j < 32; ++j) {
    EXPECT_EQ(y0[j], 0.125f * SignedPattern(j)) << j;
    EXPECT_EQ(y1[j], 0.125f * SignedPattern(j)) << j;
  }
}

// Q8_K: float d, 256 int8, 16 int16 sums (not part of the values).
TEST(QuantLayout, Q8_K) {
  std::vector<uint8_t> b(292, 0x55);
  const uint8_t d[4] = {0x00, 0x00, 0x80, 0xBE};  // -0.25f
  for (size_t k = 0; k < 4; ++k) b[k] = d[k];
  for (size_t j = 0; j < 256; ++j) b[4 + j] = static_cast<uint8_t>(j);
  const std::vector<float> y = Expand(DType::kQ8_K, b, 256);
  for (size_t j = 0; j < 256; ++j) {
    EXPECT_EQ(y[j], -0.25f * static_cast<float>(static_cast<int8_t>(j))) << j;
  }
}

// Sub-block scales and mins of the Q4_K/Q5_K test blocks (6 bits each) and
// their 12-byte packing, worked out by hand (the top bits of sc[4..7] and
// mn[4..7] differ, so mixing them up shows):
//   bytes 0-3:  sc[0..3] | (sc[4..7] >> 4) << 6   = 1|1<<6, 2|2<<6, 3|3<<6, 4|3<<6
//   bytes 4-7:  mn[0..3] | (mn[4..7] >> 4) << 6   = 5|2<<6, 6|0<<6, 7|3<<6, 8|1<<6
//   bytes 8-11: (sc[4..7] & 15) | (mn[4..7] & 15) << 4 = 1|4<<4, 1|10<<4, 0|2<<4, 15|14<<4
constexpr int kSc[8] = {1, 2, 3, 4, 17, 33, 48, 63};
constexpr int kMn[8] = {5, 6, 7, 8, 36, 10, 50, 30};
constexpr uint8_t kPackedScales[12] = {0x41, 0x82, 0xC3, 0xC4, 0x85, 0x06,
                                       0xC7, 0x48, 0x41, 0xA1, 0x20, 0xEF};

// Low 4 bits of value v of a Q4_K/Q5_K block: each 64 values share 32
// bytes, the first 32 in the low nibbles, the next 32 in the high nibbles.
int KLowNibble(const std::vector<uint8_t>& qs, size_t v) {
  const size_t byte = 32 * (v / 64) + v % 32;
  return (v % 64) < 32 ? qs[byte] & 0xF : qs[byte] >> 4;
}

std::vector<uint8_t> KQuants() {
  std::vector<uint8_t> qs(128);
  for (size_t i = 0; i < 128; ++i) qs[i] = NibblePair(i);
  return qs;
}

// Q4_K: d, dmin, scales[12], qs[128]; x = d * sc[v/32] * q - dmin * mn[v/32].
TEST(QuantLayout, Q4_K) {
  const std::vector<uint8_t> qs = KQuants();
  std::vector<uint8_t> b(144);
  PutU16(b, 0, kHalf0_5);
  PutU16(b, 2, kHalf0_25);
  for (size_t k = 0; k < 12; ++k) b[4 + k] = kPackedScales[k];
  for (size_t k = 0; k < 128; ++k) b[16 + k] = qs[k];
  const std::vector<float> y = Expand(DType::kQ4_K, b, 256);
  for (size_t v = 0; v < 256; ++v) {
    const float expected =
        0.5f * static_cast<float>(kSc[v / 32] * KLowNibble(qs, v)) - 0.25f * kMn[v / 32];
    EXPECT_EQ(y[v], expected) << v;
  }
}

// Q5_K: d, dmin, scales[12], qh[32], qs[128]; the fifth bit of value v is bit
// 2 * (v / 64) + (v % 64 >= 32) of qh[v % 32].
TEST(QuantLayout, Q5_K) {
  const std::vector<uint8_t> qs = KQuants();
  std::vector<uint8_t> qh(32);
  for (size_t l = 0; l < 32; ++l) qh[l] = static_cast<uint8_t>((l * 37 + 11) & 0xFF);
  std::vector<uint8_t> b(176);
  PutU16(b, 0, kHalf0_5);
  PutU16(b, 2, kHalf0_25);
  for (size_t k = 0; k < 12; ++k) b[4 + k] = kPackedScales[k];
  for (size_t k = 0; k < 32; ++k) b[16 + k] = qh[k];
  for (size_t k = 0; k < 128; ++k) b[48 + k] = qs[k];
  const std::vector<float> y = Expand(DType::kQ5_K, b, 256);
  for (size_t v = 0; v < 256; ++v) {
    const int bit = 2 * static_cast<int>(v / 64) + ((v % 64) >= 32 ? 1 : 0);
    const int q = KLowNibble(qs, v) + 16 * ((qh[v % 32] >> bit) & 1);
    const float expected = 0.5f * static_cast<float>(kSc[v / 32] * q) - 0.25f * kMn[v / 32];
    EXPECT_EQ(y[v], expected) << v;
  }
}

// Q6_K: ql[128], qh[64], int8 scales[16], d. In each half h of 128 values,
// quarter c (32 values, index l) takes its low 4 bits from ql[64h + 32(c%2) + l]
// (low nibble for c < 2, high for c >= 2) and its top 2 bits from bits 2c,
// 2c+1 of qh[32h + l]; x = d * scales[v/16] * (q - 32).
TEST(QuantLayout, Q6_K) {
  std::vector<uint8_t> ql(128);
  std::vector<uint8_t> qh(64);
  std::vector<int8_t> scales(16);
  for (size_t i = 0; i < 128; ++i) ql[i] = static_cast<uint8_t>((i * 13 + 5) & 0xFF);
  for (size_t i = 0; i < 64; ++i) qh[i] = static_cast<uint8_t>((i * 29 + 3) & 0xFF);
  for (size_t g = 0; g < 16; ++g) scales[g] = static_cast<int8_t>(static_cast<int>(g * 9) - 70);
  std::vector<uint8_t> b(210);
  for (size_t i = 0; i < 128; ++i) b[i] = ql[i];
  for (size_t i = 0; i < 64; ++i) b[128 + i] = qh[i];
  for (size_t g = 0; g < 16; ++g) b[192 + g] = static_cast<uint8_t>(scales[g]);
  PutU16(b, 208, kHalf0_125);
  const std::vector<float> y = Expand(DType::kQ6_K, b, 256);
  for (size_t v = 0; v < 256; ++v) {
    const size_t h = v / 128;
    const size_t c = (v % 128) / 32;
    const size_t l = v % 32;
    const uint8_t low_byte = ql[64 * h + 32 * (c % 2) + l];
    const int low = c < 2 ? low_byte & 0xF : low_byte >> 4;
    const int high = (qh[32 * h + l] >> (2 * c)) & 3;
    const int q = low | (high << 4);
    const float expected = 0.125f * static_cast<float>(scales[v / 16] * (q - 32));
    EXPECT_EQ(y[v], expected) << v;
  }
}

}  // namespace
}  // namespace autan::kernels
