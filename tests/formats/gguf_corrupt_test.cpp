// Malformed and hostile GGUF files: each must be refused with a message that
// names the field and where it is, never a crash, hang or huge allocation.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/check.h"
#include "core/rng.h"
#include "formats/gguf.h"
#include "formats/gguf_writer.h"
#include "gguf_bytes.h"

namespace autan::gguf {
namespace {

using testing::Bytes;

constexpr uint32_t kF32 = 0;
constexpr uint32_t kQ8_0 = 8;

// The error message of parsing `b`, or a test failure when it parses.
std::string ParseError(const Bytes& b) {
  auto f = File::Parse(b.Map("bad.gguf"));
  EXPECT_FALSE(f.ok()) << "parsed a malformed file";
  return f.ok() ? std::string() : f.error().message;
}

#define EXPECT_ERROR(bytes, needle)                                         \
  do {                                                                      \
    const std::string msg_ = ParseError(bytes);                             \
    EXPECT_NE(msg_.find(needle), std::string::npos) << "message: " << msg_; \
    EXPECT_EQ(msg_.rfind("bad.gguf: offset ", 0), 0u) << msg_;              \
  } while (0)

TEST(GgufCorrupt, WrongMagic) {
  EXPECT_ERROR(Bytes().Raw("GGML").U32(3).U64(0).U64(0), "not a GGUF file: magic \"GGML\"");
  EXPECT_ERROR(Bytes(), "not a GGUF file");
  EXPECT_ERROR(Bytes().Raw("GG"), "not a GGUF file");
}

TEST(GgufCorrupt, WrongVersion) {
  EXPECT_ERROR(Bytes().Header(0, 0, 1), "offset 4: header: GGUF version 1 is no longer supported");
  EXPECT_ERROR(Bytes().Header(0, 0, 4), "unsupported GGUF version 4 (only 2 and 3)");
  EXPECT_ERROR(Bytes().Header(0, 0, 0x03000000), "big-endian GGUF files are not supported");
}

TEST(GgufCorrupt, ImpossibleCounts) {
  const uint64_t two63 = 1ull << 63;
  EXPECT_ERROR(Bytes().Header(two63, 0), "offset 8: header: tensor count 9223372036854775808");
  EXPECT_ERROR(Bytes().Header(0, two63), "offset 16: header: metadata count 9223372036854775808");
  // Counts one past the file size, with a plausible file behind them.
  Bytes b;
  b.Header(0, 0).KvU32("a", 1);
  const uint64_t size_plus_one = b.size() + 1;
  std::memcpy(&b.data[8], &size_plus_one, 8);
  EXPECT_ERROR(b, "tensor count " + std::to_string(size_plus_one) + " is impossible");
  std::memcpy(&b.data[8], "\0\0\0\0\0\0\0\0", 8);
  std::memcpy(&b.data[16], &size_plus_one, 8);
  EXPECT_ERROR(b, "metadata count " + std::to_string(size_plus_one) + " is impossible");
  // A count that fits the bound but not the actual entries runs into the end.
  EXPECT_ERROR(Bytes().Header(0, 2).KvU32("a", 1).Zeros(12),
               "key \"\": u8 needs 1 bytes but the file ends after 0");
}

TEST(GgufCorrupt, HugeStringLengths) {
  EXPECT_ERROR(Bytes().Header(0, 1).U64(1ull << 62).Raw("key-bytes"),
               "offset 24: metadata entry 0: key length 4611686018427387904 exceeds");
  EXPECT_ERROR(Bytes().Header(0, 1).Str("k").U32(8).U64(~0ull).Raw("abc"),
               "offset 37: key \"k\": string length 18446744073709551615 exceeds the 3 bytes left");
  EXPECT_ERROR(Bytes().Header(1, 0).U64(1000).Raw("short").Zeros(30),
               "tensor info 0: name length 1000 exceeds");
}

TEST(GgufCorrupt, HugeArrayCounts) {
  EXPECT_ERROR(Bytes().Header(0, 1).Str("arr").U32(9).U32(4).U64(1ull << 61).Zeros(8),
               "key \"arr\": array of 2305843009213693952 u32 needs at least 4 bytes");
  EXPECT_ERROR(Bytes().Header(0, 1).Str("s").U32(9).U32(8).U64(3).Str("a").Str("b"),
               "key \"s\": array of 3 string needs at least 8 bytes");
  EXPECT_ERROR(Bytes().Header(0, 1).Str("s").U32(9).U32(8).U64(2).Str("a").U64(50).Zeros(8),
               "key \"s\": array string length 50 exceeds");
}

TEST(GgufCorrupt, CountsThatWouldMultiplyMemoryAreCapped) {
  const uint64_t over = (1ull << 20) + 1;
  EXPECT_ERROR(Bytes().Header(0, over).Zeros(over * 13),
               "metadata count 1048577 exceeds the limit");
  EXPECT_ERROR(Bytes().Header(over, 0).Zeros(over * 32), "tensor count 1048577 exceeds the limit");
  // One array of empty arrays: 12 bytes each in the file, far more as values.
  Bytes b;
  b.Header(0, 1).Str("n").U32(9).U32(9).U64(over);
  for (uint64_t i = 0; i < over; ++i) b.U32(0).U64(0);
  EXPECT_ERROR(b, "key \"n\": more than 1048576 nested arrays");
}

TEST(GgufCorrupt, UnknownValueTypes) {
  EXPECT_ERROR(Bytes().Header(0, 1).Str("k").U32(13).U32(0), "key \"k\": unknown value type 13");
  EXPECT_ERROR(Bytes().Header(0, 1).Str("k").U32(9).U32(77).U64(0),
               "key \"k\": unknown array element type 77");
  EXPECT_ERROR(Bytes().Header(0, 1).Str("b").U32(7).U8(2), "key \"b\": bool value 2 is not 0 or 1");
  EXPECT_ERROR(Bytes().Header(0, 1).Str("b").U32(9).U32(7).U64(3).U8(0).U8(1).U8(9),
               "bool array element 2 is 9");
}

TEST(GgufCorrupt, NestedArrayDepthIsBounded) {
  auto nested = [](int levels) {
    Bytes b;
    b.Header(0, 1).Str("deep").U32(9);
    for (int i = 0; i < levels - 1; ++i) b.U32(9).U64(1);  // an array holding one array
    b.U32(0).U64(1).U8(42);                                // the innermost: one u8
    return b;
  };
  auto ok = File::Parse(nested(kMaxArrayDepth).Map());
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  const Value* v = ok->Find("deep");
  for (int i = 0; i < kMaxArrayDepth - 1; ++i) v = &v->arrays()[0];
  EXPECT_EQ(v->At(0), Value::U8(42));
  EXPECT_ERROR(nested(kMaxArrayDepth + 1), "key \"deep\": arrays nested deeper than 8 levels");
  EXPECT_ERROR(nested(100000), "arrays nested deeper than 8 levels");
}

TEST(GgufCorrupt, DuplicateKeysAndTensorNames) {
  EXPECT_ERROR(Bytes().Header(0, 2).KvU32("a", 1).KvU32("a", 2), "key \"a\": duplicate key");
  Bytes b;
  b.Header(2, 0).Tensor("w", {8}, kF32, 0).Tensor("w", {8}, kF32, 32).PadTo(32).Zeros(64);
  EXPECT_ERROR(b, "offset 57: tensor \"w\": duplicate tensor name");
}

TEST(GgufCorrupt, BadAlignment) {
  EXPECT_ERROR(Bytes().Header(0, 1).KvU32("general.alignment", 0),
               "key \"general.alignment\": alignment 0 is not a power of two");
  EXPECT_ERROR(Bytes().Header(0, 1).KvU32("general.alignment", 3), "alignment 3 is not a power");
  EXPECT_ERROR(Bytes().Header(0, 1).KvString("general.alignment", "32"), "expected u32, got");
  EXPECT_ERROR(Bytes().Header(0, 1).Str("general.alignment").U32(10).U64(1ull << 33),
               "alignment 8589934592 is not a power of two that fits u32");
}

TEST(GgufCorrupt, BadTensorDimensions) {
  // The name "w" takes 9 bytes, so n_dims sits at offset 33.
  EXPECT_ERROR(Bytes().Header(1, 0).Tensor("w", {}, kF32, 0).Zeros(32),
               "offset 33: tensor \"w\": n_dims 0 is outside 1..4");
  EXPECT_ERROR(Bytes().Header(1, 0).Tensor("w", {1, 1, 1, 1, 1}, kF32, 0).Zeros(32),
               "offset 33: tensor \"w\": n_dims 5 is outside 1..4");
  EXPECT_ERROR(Bytes().Header(1, 0).Tensor("w", {1ull << 32, 1ull << 32}, kF32, 0),
               "tensor \"w\": shape [4294967296, 4294967296] has more than 2^63-1 elements");
  EXPECT_ERROR(Bytes().Header(1, 0).Tensor("w", {1ull << 63}, kF32, 0), "more than 2^63-1");
  // Fits int64 as elements, but not as bytes.
  EXPECT_ERROR(Bytes().Header(1, 0).Tensor("w", {1ull << 62}, 28, 0), "byte size of shape");
}

TEST(GgufCorrupt, UnknownTensorTypeAndPartialBlocks) {
  EXPECT_ERROR(Bytes().Header(1, 0).Tensor("w", {8}, 99, 0).Zeros(32),
               "tensor \"w\": unknown tensor type id 99");
  EXPECT_ERROR(Bytes().Header(1, 0).Tensor("w", {8}, 4, 0).Zeros(32), "unknown tensor type id 4");
  EXPECT_ERROR(Bytes().Header(1, 0).Tensor("q", {33, 2}, kQ8_0, 0).Zeros(128),
               "tensor \"q\": row length 33 is not a multiple of the q8_0 block size 32");
}

TEST(GgufCorrupt, DataOutsideTheFile) {
  Bytes b;
  b.Header(1, 0).Tensor("blk.0.w", {16}, kF32, 0).PadTo(32);
  const size_t data_at = b.size();
  b.Zeros(32);  // 64 bytes needed
  EXPECT_ERROR(b, "offset 24: tensor \"blk.0.w\": data [" + std::to_string(data_at) + ", " +
                      std::to_string(data_at + 64) + ") extends past end of file (size " +
                      std::to_string(data_at + 32) + ")");
  Bytes far;
  far.Header(1, 0).Tensor("w", {1}, kF32, 1ull << 63).PadTo(32).Zeros(32);
  EXPECT_ERROR(far, "data offset 9223372036854775808 is past end of file");
  Bytes edge;  // the offset itself lies inside the file but the data section does not
  edge.Header(1, 0).Tensor("w", {1}, kF32, 64).PadTo(32).Zeros(66);
  EXPECT_ERROR(edge, "extends past end of file");
}

TEST(GgufCorrupt, MisalignedOffsets) {
  EXPECT_ERROR(Bytes().Header(1, 0).Tensor("w", {4}, kF32, 16).PadTo(32).Zeros(64),
               "tensor \"w\": data offset 16 is not a multiple of the alignment 32");
  Bytes b;
  b.Header(1, 1).KvU32("general.alignment", 64).Tensor("w", {4}, kF32, 32).PadTo(64).Zeros(64);
  EXPECT_ERROR(b, "data offset 32 is not a multiple of the alignment 64");
}

TEST(GgufCorrupt, OverlappingTensors) {
  Bytes b;
  b.Header(2, 0).Tensor("a", {16}, kF32, 0).Tensor("b", {8}, kF32, 32).PadTo(32).Zeros(64);
  EXPECT_ERROR(b, "tensor \"b\": data [");
  EXPECT_ERROR(b, "overlaps tensor \"a\"");
  Bytes same;
  same.Header(2, 0).Tensor("a", {8}, kF32, 0).Tensor("b", {8}, kF32, 0).PadTo(32).Zeros(32);
  EXPECT_ERROR(same, "overlaps tensor");
  // Adjacent tensors in reverse order do not overlap.
  Bytes ok;
  ok.Header(2, 0).Tensor("a", {8}, kF32, 32).Tensor("b", {8}, kF32, 0).PadTo(32).Zeros(64);
  EXPECT_TRUE(File::Parse(ok.Map()).ok());
}

// A small valid file whose last tensor ends exactly at the end of the file.
std::vector<uint8_t> SmallValidFile() {
  Writer w;
  w.SetString("general.architecture", "llama");
  w.SetU32("llama.block_count", 2);
  w.Set("i8", Value::I8(-1));
  w.Set("u16", Value::U16(7));
  w.Set("f64", Value::F64(2.5));
  w.SetBool("flag", true);
  w.SetStringArray("tokens", {"<s>", "a", "bc"});
  w.SetF32Array("scores", std::vector<float>{0.f, -1.f, -2.f});
  w.Set("nested", Value::NestedArray({Value::I32Array(std::vector<int32_t>{1, 2})}));
  w.AddTensor("tok_embd", DType::kQ8_0, {32, 3}, [](std::span<uint8_t> out) {
    for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<uint8_t>(i);
  });
  w.AddTensor("norm", DType::kF32, {8}, [](std::span<uint8_t> out) { out[0] = 1; });
  auto bytes = w.Serialize();
  AUTAN_CHECK(bytes.ok());
  return *bytes;
}

TEST(GgufCorrupt, EveryTruncationFailsCleanly) {
  const std::vector<uint8_t> full = SmallValidFile();
  ASSERT_TRUE(File::Parse(MappedFile::FromBytes(full, "full.gguf")).ok());
  for (size_t n = 0; n < full.size(); ++n) {
    Bytes prefix;
    prefix.data.assign(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    auto f = File::Parse(prefix.Map("cut.gguf"));
    ASSERT_FALSE(f.ok()) << "prefix of " << n << " bytes parsed";
    ASSERT_EQ(f.error().message.rfind("cut.gguf: offset ", 0), 0u) << f.error().message;
  }
}

TEST(GgufCorrupt, TruncationInsideAFieldSaysWhatWasCut) {
  Bytes b;
  b.Header(0, 1).Str("key").U32(4).Raw("\x01\x02");
  EXPECT_ERROR(b, "offset 39: key \"key\": u32 needs 4 bytes but the file ends after 2");
  EXPECT_ERROR(Bytes().Raw("GGUF").U32(3).U32(0), "header: tensor count needs 8 bytes");
}

TEST(GgufCorrupt, RandomMutationsNeverCrash) {
  const std::vector<uint8_t> base = SmallValidFile();
  auto parsed = File::Parse(MappedFile::FromBytes(base, "base.gguf"));
  ASSERT_TRUE(parsed.ok());
  const size_t header_end = parsed->data_offset();
  Rng rng(20240611);
  int accepted = 0;
  for (int iter = 0; iter < 2000; ++iter) {
    std::vector<uint8_t> bytes = base;
    const int flips = 1 + static_cast<int>(rng.Next() % 4);
    for (int i = 0; i < flips; ++i) {
      // Mostly the header, where the structure is; data bytes are opaque.
      const size_t span = rng.Next() % 10 < 9 ? header_end : bytes.size();
      const size_t at = rng.Next() % span;
      bytes[at] ^= static_cast<uint8_t>(1 + rng.Next() % 255);
    }
    auto f = File::Parse(MappedFile::FromBytes(bytes, "mut.gguf"));
    if (!f.ok()) {
      ASSERT_FALSE(f.error().message.empty());
      continue;
    }
    ++accepted;
    // Whatever parses must be internally consistent.
    for (const auto& [key, value] : f->metadata()) ASSERT_FALSE(ValueToString(value).empty());
    uint64_t sum = 0;
    for (const TensorInfo& t : f->tensors()) {
      ASSERT_LE(t.offset + t.n_bytes, bytes.size()) << t.name;
      ASSERT_EQ(t.offset % f->alignment(), 0u);
      ASSERT_EQ(t.data, f->mapping()->data() + t.offset);
      for (uint8_t x : t.bytes()) sum += x;
    }
    (void)sum;
  }
  EXPECT_GT(accepted, 0);  // some flips only touch values, and those files stay valid
}

}  // namespace
}  // namespace autan::gguf
