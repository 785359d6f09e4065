// safetensors files built byte by byte as the format's specification lays
// them out: valid ones read back exactly, malformed and hostile ones refused
// with a message naming the problem, never a crash.
#include "formats/safetensors.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace autan::safetensors {
namespace {

namespace fs = std::filesystem;

// 8-byte little-endian header length, the header, the data.
std::vector<uint8_t> Build(const std::string& header, const std::vector<uint8_t>& data,
                           uint64_t claimed_len = UINT64_MAX) {
  const uint64_t len = claimed_len == UINT64_MAX ? header.size() : claimed_len;
  std::vector<uint8_t> out(8 + header.size() + data.size());
  for (int i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>(len >> (8 * i));
  std::copy(header.begin(), header.end(), out.begin() + 8);
  std::copy(data.begin(), data.end(), out.begin() + 8 + static_cast<ptrdiff_t>(header.size()));
  return out;
}

std::vector<uint8_t> Iota(size_t n) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i * 7 + 3);
  return v;
}

Result<File> ParseBytes(const std::vector<uint8_t>& bytes) {
  return File::Parse(MappedFile::FromBytes(bytes, "w.safetensors"));
}

std::string ErrorOf(const std::vector<uint8_t>& bytes) {
  Result<File> f = ParseBytes(bytes);
  EXPECT_FALSE(f.ok()) << "parsed a malformed file";
  return f.ok() ? std::string() : f.error().message;
}

#define EXPECT_ERROR(bytes, needle)                                         \
  do {                                                                      \
    const std::string msg_ = ErrorOf(bytes);                                \
    EXPECT_NE(msg_.find(needle), std::string::npos) << "message: " << msg_; \
    EXPECT_EQ(msg_.rfind("w.safetensors: ", 0), 0u) << msg_;                \
  } while (0)

TEST(Safetensors, ReadsEveryTensorAsWritten) {
  // Written out of offset order, with metadata and the header padded with
  // spaces to 8 bytes, as the reference writer does.
  std::string header = R"({"b":{"dtype":"BF16","shape":[2,3],"data_offsets":[24,36]},)"
                       R"("__metadata__":{"format":"pt"},)"
                       R"("a":{"dtype":"F32","shape":[3,2],"data_offsets":[0,24]},)"
                       R"("c":{"dtype":"I64","shape":[],"data_offsets":[36,44]},)"
                       R"("d":{"dtype":"F16","shape":[0,4],"data_offsets":[44,44]}})";
  while ((8 + header.size()) % 8 != 0) header += ' ';
  const std::vector<uint8_t> data = Iota(44);
  Result<File> f = ParseBytes(Build(header, data));
  ASSERT_TRUE(f.ok()) << f.error().message;
  ASSERT_EQ(f->tensors().size(), 4u);
  EXPECT_EQ(f->metadata().at("format"), "pt");
  const uint64_t data_begin = 8 + header.size();

  const TensorInfo* a = f->FindTensor("a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->type, DType::kF32);
  EXPECT_EQ(a->shape, (std::vector<uint64_t>{3, 2}));
  EXPECT_EQ(a->n_elements, 6u);
  EXPECT_EQ(a->offset, data_begin);
  ASSERT_EQ(a->n_bytes, 24u);
  EXPECT_EQ(0, std::memcmp(a->data, data.data(), 24));

  const TensorInfo* b = f->FindTensor("b");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->type, DType::kBF16);
  EXPECT_EQ(b->offset, data_begin + 24);
  EXPECT_EQ(0, std::memcmp(b->data, data.data() + 24, 12));

  const TensorInfo* c = f->FindTensor("c");  // a scalar: one element
  ASSERT_NE(c, nullptr);
  EXPECT_FALSE(c->type.has_value());
  EXPECT_EQ(c->dtype, "I64");
  EXPECT_EQ(c->n_elements, 1u);
  EXPECT_EQ(c->n_bytes, 8u);

  const TensorInfo* d = f->FindTensor("d");  // empty
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->type, DType::kF16);
  EXPECT_EQ(d->n_bytes, 0u);
  EXPECT_EQ(f->FindTensor("e"), nullptr);
  // File order is offset order.
  EXPECT_EQ(f->tensors()[0].name, "a");
  EXPECT_EQ(f->tensors()[1].name, "b");
}

TEST(Safetensors, RefusesBadHeaderLengthsAndJson) {
  EXPECT_ERROR(Iota(3), "too short for a safetensors header length");
  EXPECT_ERROR(Build("{}", {}, uint64_t{1} << 40), "exceeds the 104857600-byte limit");
  EXPECT_ERROR(Build("{}", {}, 3), "runs past the end of the file");
  EXPECT_ERROR(Build("[1, 2]", {}), "is not a JSON object");
  EXPECT_ERROR(Build("   ", {}), "is not a JSON object");
  EXPECT_ERROR(Build(R"({"a": )", {}), "malformed JSON header near offset");
  EXPECT_ERROR(Build("{\"a\xff\": 1}", {}), "malformed JSON header");
  EXPECT_ERROR(Build(R"({"a":{"dtype":"F32","shape":[[[[1]]]],"data_offsets":[0,4]}})", Iota(4)),
               "nests deeper than a safetensors header");
  EXPECT_ERROR(Build(std::string(100000, '[') + std::string(100000, ']'), {}),
               "is not a JSON object");
  EXPECT_ERROR(Build("{" + std::string(20000, '[') + "}", {}), "malformed JSON header");
  const std::string dup = R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                          R"("a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})";
  EXPECT_ERROR(Build(dup, Iota(8)), "names 'a' twice");
  EXPECT_ERROR(Build(R"({"__metadata__":{"k":1}})", {}), "__metadata__ 'k' is not a string");
}

TEST(Safetensors, RefusesBadTensorEntries) {
  auto one = [](const std::string& entry, size_t data = 8) {
    return Build(R"({"t":)" + entry + "}", Iota(data));
  };
  EXPECT_ERROR(one("3"), "tensor 't' is not an object");
  EXPECT_ERROR(one(R"({"shape":[2],"data_offsets":[0,8]})"), "tensor 't' has no dtype string");
  EXPECT_ERROR(one(R"({"dtype":"Q4","shape":[2],"data_offsets":[0,8]})"), "unknown dtype 'Q4'");
  EXPECT_ERROR(one(R"({"dtype":"F32","data_offsets":[0,8]})"), "has no shape array");
  EXPECT_ERROR(one(R"({"dtype":"F32","shape":[-2],"data_offsets":[0,8]})"),
               "a dimension is not a non-negative integer");
  EXPECT_ERROR(one(R"({"dtype":"F32","shape":[2.0],"data_offsets":[0,8]})"),
               "a dimension is not a non-negative integer");
  EXPECT_ERROR(one(R"({"dtype":"F32","shape":[1,1,1,1,1,1,1,1,2],"data_offsets":[0,8]})"),
               "has 9 dimensions (at most 8)");
  EXPECT_ERROR(one(R"({"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]})"),
               "shape [4294967296, 4294967296] overflows");
  EXPECT_ERROR(one(R"({"dtype":"F32","shape":[2],"data_offsets":[0]})"), "has no data_offsets");
  EXPECT_ERROR(one(R"({"dtype":"F32","shape":[2],"data_offsets":[8,0]})"),
               "data_offsets [8, 0] do not lie inside the 8 data bytes");
  EXPECT_ERROR(one(R"({"dtype":"F32","shape":[2],"data_offsets":[0,9223372036854775808]})"),
               "do not lie inside the 8 data bytes");
  EXPECT_ERROR(one(R"({"dtype":"F32","shape":[3],"data_offsets":[0,8]})"),
               "shape [3] of F32 needs 12 bytes, data_offsets [0, 8] hold 8");
  EXPECT_ERROR(one(R"({"dtype":"F32","shape":[2],"data_offsets":[0,8],"extra":1})"),
               "unknown field 'extra'");
}

TEST(Safetensors, RefusesOverlapsHolesAndTrailingBytes) {
  const std::string overlap = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                              R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})";
  EXPECT_ERROR(Build(overlap, Iota(12)),
               "tensor 'b' at data offset 4 overlaps the tensor before it");
  const std::string hole = R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                           R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})";
  EXPECT_ERROR(Build(hole, Iota(12)), "data bytes 4..8 before tensor 'b' belong to no tensor");
  const std::string one = R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
  EXPECT_ERROR(Build(one, Iota(6)), "the last 2 data bytes belong to no tensor");
}

// Writes a file into a fresh folder of its own.
class SafetensorsDir : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("autan-st-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Write(const std::string& name, const std::vector<uint8_t>& bytes) {
    std::ofstream(dir_ / name, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()),
               static_cast<std::streamsize>(bytes.size()));
  }
  void Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
  }
  fs::path dir_;
};

std::vector<uint8_t> Shard(const std::vector<std::string>& names) {
  std::string header = "{";
  for (size_t i = 0; i < names.size(); ++i) {
    header += (i ? "," : "") +
              ("\"" + names[i] + "\":{\"dtype\":\"F32\",\"shape\":[2]," + "\"data_offsets\":[" +
               std::to_string(8 * i) + "," + std::to_string(8 * i + 8) + "]}");
  }
  return Build(header + "}", Iota(8 * names.size()));
}

TEST_F(SafetensorsDir, OpensShardsThroughTheIndex) {
  Write("model-00001-of-00002.safetensors", Shard({"x.weight", "y.weight"}));
  Write("model-00002-of-00002.safetensors", Shard({"z.weight"}));
  Write(
      "model.safetensors.index.json",
      R"({"metadata":{"total_size":24},"weight_map":{"x.weight":"model-00001-of-00002.safetensors",)"
      R"("y.weight":"model-00001-of-00002.safetensors","z.weight":"model-00002-of-00002.safetensors"}})");
  Result<Checkpoint> c = Checkpoint::Open(dir_.string());
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->files().size(), 2u);
  EXPECT_EQ(c->n_tensors(), 3u);
  EXPECT_EQ(c->tensors().size(), 3u);
  const TensorInfo* z = c->FindTensor("z.weight");
  ASSERT_NE(z, nullptr);
  EXPECT_NE(z->data, nullptr);
  EXPECT_EQ(z->n_bytes, 8u);
  EXPECT_EQ(c->FindTensor("w"), nullptr);
}

TEST_F(SafetensorsDir, OpensASingleFileOrItsFolder) {
  Write("consolidated.safetensors", Shard({"tok_embeddings.weight"}));
  for (const fs::path& p : {dir_, dir_ / "consolidated.safetensors"}) {
    Result<Checkpoint> c = Checkpoint::Open(p.string());
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_NE(c->FindTensor("tok_embeddings.weight"), nullptr);
  }
}

TEST_F(SafetensorsDir, RefusesInconsistentShards) {
  auto error = [&](const std::string& index) {
    Write("model.safetensors.index.json", index);
    Result<Checkpoint> c = Checkpoint::Open(dir_.string());
    EXPECT_FALSE(c.ok());
    return c.ok() ? std::string() : c.error().message;
  };
  Write("a.safetensors", Shard({"x", "y"}));
  Write("b.safetensors", Shard({"y"}));
  EXPECT_NE(error(R"({"weight_map":{"x":"../a.safetensors"}})").find("not a file beside the index"),
            std::string::npos);
  EXPECT_NE(error(R"({"weight_map":{"x":"a.safetensors"}})").find("2 tensors, the index lists 1"),
            std::string::npos);
  EXPECT_NE(error(R"({"weight_map":{"x":"a.safetensors","z":"a.safetensors"}})")
                .find("the index puts tensor 'z' here"),
            std::string::npos);
  EXPECT_NE(error(R"({"weight_map":{"x":"a.safetensors","y":"b.safetensors"}})").find("2 tensors"),
            std::string::npos);
  EXPECT_NE(error(R"({"weight_map":{}})").find("the weight_map is empty"), std::string::npos);
  EXPECT_NE(error(R"({"weights":{}})").find("no \"weight_map\" object"), std::string::npos);
  EXPECT_NE(error("{").find("malformed JSON"), std::string::npos);
  EXPECT_NE(error(R"({"weight_map":{"x":"missing.safetensors"}})").find("missing.safetensors"),
            std::string::npos);
  fs::remove(dir_ / "model.safetensors.index.json");
  Result<Checkpoint> none = Checkpoint::Open(dir_.string());
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message.find("no consolidated.safetensors"), std::string::npos);
}

}  // namespace
}  // namespace autan::safetensors
