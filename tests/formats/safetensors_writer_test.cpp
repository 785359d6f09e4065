// The safetensors writer: its bytes against a header written out by hand, its
// files read back by the reader, and what it refuses to write.
#include "formats/safetensors_writer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "formats/safetensors.h"

namespace autan::safetensors {
namespace {

std::string AsText(const std::vector<uint8_t>& bytes, size_t begin, size_t n) {
  return {reinterpret_cast<const char*>(bytes.data()) + begin, n};
}

TEST(SafetensorsWriter, BytesAreTheFormatsLayout) {
  const std::vector<uint8_t> a = {1, 2, 3, 4, 5, 6, 7, 8};  // F16 [2][2]
  const std::vector<uint8_t> b = {9, 10, 11, 12};           // F32 [1]
  Writer w;
  w.SetMetadata("format", "pt");
  w.AddTensorBytes("a", DType::kF16, {2, 2}, a);
  w.AddTensorBytes("b", DType::kF32, {1}, b);
  Result<std::vector<uint8_t>> bytes = w.Serialize();
  ASSERT_TRUE(bytes.ok()) << bytes.error().message;
  const std::string header =
      R"({"__metadata__":{"format":"pt"},"a":{"dtype":"F16","shape":[2,2],"data_offsets":[0,8]},)"
      R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})";
  const size_t padded = (header.size() + 7) / 8 * 8;  // spaces up to 8-byte alignment
  ASSERT_EQ(bytes->size(), 8 + padded + 12);
  uint64_t length = 0;
  for (int i = 7; i >= 0; --i) length = length << 8 | (*bytes)[i];
  EXPECT_EQ(length, padded);
  EXPECT_EQ(AsText(*bytes, 8, padded), header + std::string(padded - header.size(), ' '));
  EXPECT_EQ(std::vector<uint8_t>(bytes->begin() + 8 + padded, bytes->end()),
            (std::vector<uint8_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}));
}

TEST(SafetensorsWriter, TheReaderReadsBackEveryTensor) {
  std::vector<uint8_t> f32(3 * 5 * 4), bf16(7 * 2), f16(2 * 3 * 4 * 2);
  for (size_t i = 0; i < f32.size(); ++i) f32[i] = static_cast<uint8_t>(i * 3 + 1);
  for (size_t i = 0; i < bf16.size(); ++i) bf16[i] = static_cast<uint8_t>(200 - i);
  for (size_t i = 0; i < f16.size(); ++i) f16[i] = static_cast<uint8_t>(i ^ 0x5a);
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("autan-st-writer-" + std::to_string(::getpid()) + ".safetensors"))
                               .string();
  Writer w;
  w.AddTensorBytes("m.weight", DType::kF32, {3, 5}, f32);
  w.AddTensor("norm", DType::kBF16, {7},
              [&](std::span<uint8_t> out) { std::memcpy(out.data(), bf16.data(), out.size()); });
  w.AddTensorBytes("stack", DType::kF16, {2, 3, 4}, f16);
  ASSERT_TRUE(w.Write(path).ok());
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  Result<File> file = File::Open(path);
  ASSERT_TRUE(file.ok()) << file.error().message;
  ASSERT_EQ(file->tensors().size(), 3u);
  const TensorInfo* m = file->FindTensor("m.weight");
  const TensorInfo* n = file->FindTensor("norm");
  const TensorInfo* s = file->FindTensor("stack");
  ASSERT_TRUE(m && n && s);
  EXPECT_EQ(m->dtype, "F32");
  EXPECT_EQ(m->shape, (std::vector<uint64_t>{3, 5}));
  EXPECT_EQ(std::vector<uint8_t>(m->data, m->data + m->n_bytes), f32);
  EXPECT_EQ(n->dtype, "BF16");
  EXPECT_EQ(std::vector<uint8_t>(n->data, n->data + n->n_bytes), bf16);
  EXPECT_EQ(s->dtype, "F16");
  EXPECT_EQ(s->shape, (std::vector<uint64_t>{2, 3, 4}));
  EXPECT_EQ(std::vector<uint8_t>(s->data, s->data + s->n_bytes), f16);
  std::filesystem::remove(path);
}

TEST(SafetensorsWriter, RefusesWhatTheFormatCannotHold) {
  const std::vector<uint8_t> bytes(34);
  {
    Writer w;
    w.AddTensorBytes("q", DType::kQ8_0, {32}, bytes);
    Result<std::vector<uint8_t>> out = w.Serialize();
    ASSERT_FALSE(out.ok());
    EXPECT_NE(out.error().message.find("tensor 'q': type q8_0 has no safetensors dtype"),
              std::string::npos)
        << out.error().message;
  }
  {
    Writer w;
    w.AddTensorBytes("x", DType::kF32, {2}, std::span(bytes.data(), 8));
    w.AddTensorBytes("x", DType::kF32, {2}, std::span(bytes.data(), 8));
    Result<std::vector<uint8_t>> out = w.Serialize();
    ASSERT_FALSE(out.ok());
    EXPECT_NE(out.error().message.find("tensor 'x': duplicate name"), std::string::npos);
  }
  {
    Writer w;
    w.AddTensorBytes("x", DType::kF16, {3}, std::span(bytes.data(), 8));
    Result<std::vector<uint8_t>> out = w.Serialize();
    ASSERT_FALSE(out.ok());
    EXPECT_NE(out.error().message.find("tensor 'x': 8 bytes given, the shape needs 6"),
              std::string::npos)
        << out.error().message;
  }
}

}  // namespace
}  // namespace autan::safetensors
