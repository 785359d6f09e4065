// Writer output read back by the reader, checked against hand-built bytes and
// real vocabulary files from llama.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "core/check.h"
#include "formats/gguf.h"
#include "formats/gguf_writer.h"
#include "gguf_bytes.h"

namespace autan::gguf {
namespace {

using testing::Bytes;

File ParseOrDie(const std::vector<uint8_t>& bytes, const std::string& name = "test.gguf") {
  auto f = File::Parse(MappedFile::FromBytes(bytes, name));
  EXPECT_TRUE(f.ok()) << (f.ok() ? "" : f.error().message);
  AUTAN_CHECK(f.ok());
  return std::move(f).value();
}

std::vector<std::pair<std::string, Value>> EveryValueType() {
  const std::vector<Value> i64s = {Value::I64(-1), Value::I64(1ll << 40)};
  const std::vector<Value> bools = {Value::Bool(true), Value::Bool(false)};
  return {
      {"t.u8", Value::U8(250)},
      {"t.i8", Value::I8(-100)},
      {"t.u16", Value::U16(65000)},
      {"t.i16", Value::I16(-30000)},
      {"t.u32", Value::U32(4000000000u)},
      {"t.i32", Value::I32(-2000000000)},
      {"t.f32", Value::F32(3.5f)},
      {"t.bool", Value::Bool(true)},
      {"t.string", Value::String("h\xc3\xa9llo")},
      {"t.u64", Value::U64(~0ull)},
      {"t.i64", Value::I64(-(1ll << 62))},
      {"t.f64", Value::F64(-0.125)},
      {"t.empty_string", Value::String("")},
      {"t.arr_i64", Value::ArrayOf(ValueType::kI64, i64s)},
      {"t.arr_bool", Value::ArrayOf(ValueType::kBool, bools)},
      {"t.arr_str", Value::StringArray({"a", "", "ccc"})},
      {"t.arr_empty", Value::StringArray({})},
      {"t.nested",
       Value::NestedArray({Value::StringArray({"x"}),
                           Value::NestedArray({Value::F32Array(std::vector<float>{1, 2})}),
                           Value::I32Array(std::vector<int32_t>{})})},
  };
}

class GgufRoundTrip : public ::testing::TestWithParam<uint32_t> {};

TEST_P(GgufRoundTrip, EveryValueTypeAndTensorDataSurvive) {
  const uint32_t alignment = GetParam();
  Writer w(alignment);
  const auto kvs = EveryValueType();
  for (const auto& [k, v] : kvs) w.Set(k, v);
  std::vector<float> a(3 * 5);
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<float>(i) * 0.5f;
  w.AddTensorBytes("a", DType::kF32, {5, 3},
                   {reinterpret_cast<const uint8_t*>(a.data()), a.size() * 4});
  w.AddTensor("b", DType::kQ8_0, {64, 2}, [](std::span<uint8_t> out) {
    for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<uint8_t>(i * 7);
  });
  w.AddTensor("c", DType::kF16, {3}, [](std::span<uint8_t> out) { out[0] = 0xab; });

  auto bytes = w.Serialize();
  ASSERT_TRUE(bytes.ok()) << bytes.error().message;
  const File f = ParseOrDie(*bytes);
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.alignment(), alignment);
  EXPECT_EQ(f.data_offset() % alignment, 0u);

  // Metadata in order; a non-default alignment is recorded first.
  size_t first = 0;
  if (alignment != kDefaultAlignment) {
    ASSERT_EQ(f.metadata()[0].first, "general.alignment");
    EXPECT_EQ(f.metadata()[0].second, Value::U32(alignment));
    first = 1;
  }
  ASSERT_EQ(f.metadata().size(), kvs.size() + first);
  for (size_t i = 0; i < kvs.size(); ++i) {
    EXPECT_EQ(f.metadata()[i + first].first, kvs[i].first);
    EXPECT_EQ(f.metadata()[i + first].second, kvs[i].second) << kvs[i].first;
  }

  ASSERT_EQ(f.tensors().size(), 3u);
  const TensorInfo* ta = f.FindTensor("a");
  ASSERT_NE(ta, nullptr);
  EXPECT_EQ(ta->dims, (std::vector<uint64_t>{5, 3}));
  EXPECT_EQ(ta->n_elements, 15u);
  EXPECT_EQ(ta->n_rows(), 3u);
  EXPECT_EQ(ta->n_bytes, 60u);
  EXPECT_EQ(ta->offset, f.data_offset());
  EXPECT_EQ(std::memcmp(ta->data, a.data(), 60), 0);

  const TensorInfo* tb = f.FindTensor("b");
  ASSERT_NE(tb, nullptr);
  EXPECT_EQ(tb->type, DType::kQ8_0);
  EXPECT_EQ(tb->n_bytes, 2u * 2u * 34u);  // 2 rows of 2 blocks of 34 bytes
  EXPECT_EQ(tb->offset % alignment, 0u);
  EXPECT_EQ(tb->offset, f.data_offset() + (60 + alignment - 1) / alignment * alignment);
  for (size_t i = 0; i < tb->n_bytes; ++i) ASSERT_EQ(tb->data[i], static_cast<uint8_t>(i * 7));

  const TensorInfo* tc = f.FindTensor("c");
  ASSERT_NE(tc, nullptr);
  EXPECT_EQ(tc->n_bytes, 6u);
  EXPECT_EQ(tc->data[0], 0xab);
  EXPECT_EQ(tc->data[1], 0);  // the fill buffer starts zeroed
  EXPECT_EQ(f.FindTensor("d"), nullptr);
  EXPECT_EQ(bytes->size() % alignment, 0u);  // the last tensor is padded too
}

INSTANTIATE_TEST_SUITE_P(Alignments, GgufRoundTrip, ::testing::Values(32u, 64u));

TEST(GgufWriter, OutputMatchesHandBuiltLayout) {
  Writer w;
  w.SetU32("n", 7);
  w.SetString("s", "ab");
  const uint8_t data[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  w.AddTensorBytes("w", DType::kF16, {2, 2}, data);
  auto bytes = w.Serialize();
  ASSERT_TRUE(bytes.ok()) << bytes.error().message;

  Bytes expected;
  expected.Header(1, 2).KvU32("n", 7).KvString("s", "ab").Tensor("w", {2, 2}, 1, 0).PadTo(32);
  expected.Raw(std::string_view(reinterpret_cast<const char*>(data), 8)).PadTo(32);
  EXPECT_EQ(*bytes, expected.data);
}

TEST(GgufReader, ReadsHandWrittenVersion2File) {
  Bytes b;
  b.Header(1, 2, /*version=*/2).KvString("general.architecture", "llama").KvU32("x.count", 3);
  b.Tensor("t", {4}, 0, 0).PadTo(32);
  const size_t data_at = b.size();
  for (float v : {1.0f, 2.0f, -3.0f, 0.25f}) b.Pod(v);
  const File f = ParseOrDie(b.data);
  EXPECT_EQ(f.version(), 2u);
  EXPECT_EQ(f.data_offset(), data_at);
  EXPECT_EQ(*f.GetString("general.architecture"), "llama");
  EXPECT_EQ(*f.GetUInt("x.count"), 3u);
  ASSERT_EQ(f.tensors().size(), 1u);
  const TensorInfo& t = f.tensors()[0];
  EXPECT_EQ(t.name, "t");
  EXPECT_EQ(t.offset, data_at);
  float got[4];
  std::memcpy(got, t.data, 16);
  EXPECT_EQ(got[2], -3.0f);
  EXPECT_EQ(got[3], 0.25f);
}

TEST(GgufReader, AcceptsZeroSizedDimensionsAsEmptyTensors) {
  // ggml's reader accepts them too; such a tensor owns no bytes.
  Bytes b;
  b.Header(2, 0).Tensor("empty", {0, 4}, 0, 0).Tensor("one", {1}, 0, 0).PadTo(32).Zeros(4);
  const File f = ParseOrDie(b.data);
  EXPECT_EQ(f.tensors()[0].n_elements, 0u);
  EXPECT_EQ(f.tensors()[0].n_bytes, 0u);
  EXPECT_EQ(f.tensors()[0].n_rows(), 0u);
  EXPECT_EQ(f.tensors()[1].n_bytes, 4u);
}

TEST(GgufReader, TypedGettersConvertOrExplain) {
  Writer w;
  w.SetI32("neg", -5);
  w.Set("small", Value::U8(9));
  w.SetF32("eps", 1e-5f);
  w.SetString("name", "x");
  w.SetBool("flag", true);
  w.SetI32Array("ints", std::vector<int32_t>{1, -2, 3});
  w.Set("big",
        Value::ArrayOf(ValueType::kU64, std::vector<Value>{Value::U64(1), Value::U64(1ull << 40)}));
  w.SetF32Array("floats", std::vector<float>{0.5f, 1.5f});
  w.SetStringArray("words", {"p", "q"});
  auto bytes = w.Serialize();
  ASSERT_TRUE(bytes.ok());
  const File f = ParseOrDie(*bytes, "m.gguf");

  EXPECT_EQ(*f.GetUInt("small"), 9u);
  EXPECT_EQ(*f.GetInt("neg"), -5);
  EXPECT_EQ(*f.GetFloat("eps"), 1e-5f);
  EXPECT_EQ(*f.GetFloat("small"), 9.0f);
  EXPECT_EQ(*f.GetBool("flag"), true);
  EXPECT_EQ(*f.GetString("name"), "x");
  EXPECT_EQ(*f.GetIntArray("ints"), (std::vector<int32_t>{1, -2, 3}));
  EXPECT_EQ(*f.GetFloatArray("floats"), (std::vector<float>{0.5f, 1.5f}));
  EXPECT_EQ(*f.GetFloatArray("ints"), (std::vector<float>{1.0f, -2.0f, 3.0f}));
  EXPECT_EQ(*f.GetStringArray("words"), (std::vector<std::string>{"p", "q"}));
  EXPECT_EQ(f.GetStringSpan("words")->size(), 2u);
  EXPECT_EQ(*f.GetUIntOr("absent", 17), 17u);
  EXPECT_EQ(*f.GetUIntOr("small", 17), 9u);
  EXPECT_EQ(*f.GetFloatOr("absent", 0.5f), 0.5f);
  EXPECT_EQ(f.FindUInt("small"), 9u);
  EXPECT_FALSE(f.FindUInt("absent").has_value());
  EXPECT_FALSE(f.FindUInt("neg").has_value());

  auto neg = f.GetUInt("neg");
  ASSERT_FALSE(neg.ok());
  EXPECT_NE(neg.error().message.find("m.gguf"), std::string::npos);
  EXPECT_NE(neg.error().message.find("key \"neg\": expected an unsigned integer, got i32 -5"),
            std::string::npos)
      << neg.error().message;
  auto str = f.GetString("small");
  ASSERT_FALSE(str.ok());
  EXPECT_NE(str.error().message.find("expected string, got u8 9"), std::string::npos);
  auto missing = f.GetUInt("nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("key \"nope\" not found"), std::string::npos);
  EXPECT_FALSE(f.GetUIntOr("name", 1).ok());  // present with the wrong type
  auto big = f.GetIntArray("big");
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.error().message.find("element 1 (1099511627776) does not fit i32"),
            std::string::npos)
      << big.error().message;
  auto arr = f.GetStringArray("ints");
  ASSERT_FALSE(arr.ok());
  EXPECT_NE(arr.error().message.find("got array of 3 i32"), std::string::npos);
  EXPECT_FALSE(f.GetFloatArray("words").ok());
  EXPECT_FALSE(f.GetBool("small").ok());
}

TEST(GgufWriter, SetReplacesInPlaceAndRemoveDeletes) {
  Writer w;
  w.SetU32("a", 1);
  w.SetU32("b", 2);
  w.SetString("a", "one");
  w.Remove("b");
  ASSERT_EQ(w.metadata().size(), 1u);
  EXPECT_EQ(w.metadata()[0].first, "a");
  EXPECT_EQ(*w.Find("a"), Value::String("one"));
  EXPECT_EQ(w.Find("b"), nullptr);
}

TEST(GgufWriter, RejectsInvalidTensorsAndLeavesNoFile) {
  const std::string dir = ::testing::TempDir();
  const std::string path = dir + "/autan_writer_bad.gguf";
  std::remove(path.c_str());
  auto fails_with = [&](Writer& w, const std::string& needle) {
    const Status s = w.Write(path);
    ASSERT_FALSE(s.ok()) << needle;
    EXPECT_NE(s.error().message.find(needle), std::string::npos) << s.error().message;
    EXPECT_FALSE(std::filesystem::exists(path));
    EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  };
  auto nop = [](std::span<uint8_t>) {};
  {
    Writer w;
    w.AddTensor("x", DType::kF32, {2}, nop);
    w.AddTensor("x", DType::kF32, {2}, nop);
    fails_with(w, "tensor 'x': duplicate name");
  }
  {
    Writer w;
    w.AddTensor("q", DType::kQ4_0, {33}, nop);
    fails_with(w, "tensor 'q': row length 33 is not a multiple of the q4_0 block size");
  }
  {
    Writer w;
    w.AddTensor("d", DType::kF32, {1, 1, 1, 1, 1}, nop);
    fails_with(w, "tensor 'd': 5 dimensions");
  }
  {
    Writer w;
    const uint8_t three[3] = {};
    w.AddTensorBytes("s", DType::kF32, {1}, three);
    fails_with(w, "tensor 's': 3 bytes given, the shape needs 4");
  }
  {
    Writer w;
    w.AddTensor("big", DType::kF32, {1ull << 32, 1ull << 32}, nop);
    fails_with(w, "tensor 'big': shape is too large");
  }
  {
    Writer w(64);
    w.SetU32("general.alignment", 32);
    fails_with(w, "general.alignment");
  }
}

TEST(GgufWriter, WritesAtomicallyToDiskAndOpens) {
  const std::string path = ::testing::TempDir() + "/autan_writer_ok.gguf";
  Writer w(64);
  w.SetString("general.name", "tiny");
  std::vector<float> v = {1, 2, 3, 4};
  w.AddTensorBytes("v", DType::kF32, {4}, {reinterpret_cast<const uint8_t*>(v.data()), 16});
  const Status s = w.Write(path);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  auto f = File::Open(path);
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(f->path(), path);
  EXPECT_EQ(f->alignment(), 64u);
  const TensorInfo* t = f->FindTensor("v");
  ASSERT_NE(t, nullptr);
  // Tensor views outlive the File object through a copy of it.
  const File copy = *f;
  f = Fail("dropped");
  EXPECT_EQ(std::memcmp(copy.FindTensor("v")->data, v.data(), 16), 0);
  EXPECT_EQ(*copy.GetString("general.name"), "tiny");
  std::remove(path.c_str());

  auto missing = File::Open(path);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find(path), std::string::npos);
}

std::string VocabPath(const char* name) { return std::string(AUTAN_TESTDATA) + "/vocab/" + name; }

TEST(GgufReader, ParsesLlamaSpmVocabulary) {
  auto f = File::Open(VocabPath("ggml-vocab-llama-spm.gguf"));
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(*f->GetString("tokenizer.ggml.model"), "llama");
  EXPECT_EQ(*f->GetString("general.architecture"), "llama");
  auto tokens = f->GetStringArray("tokenizer.ggml.tokens");
  ASSERT_TRUE(tokens.ok()) << tokens.error().message;
  ASSERT_EQ(tokens->size(), 32000u);
  // The Llama SentencePiece vocabulary: <unk>, <s>, </s>, then 256 byte tokens.
  EXPECT_EQ((*tokens)[0], "<unk>");
  EXPECT_EQ((*tokens)[1], "<s>");
  EXPECT_EQ((*tokens)[2], "</s>");
  EXPECT_EQ((*tokens)[3], "<0x00>");
  EXPECT_EQ((*tokens)[258], "<0xFF>");
  EXPECT_EQ(f->GetFloatArray("tokenizer.ggml.scores")->size(), 32000u);
  auto types = f->GetIntArray("tokenizer.ggml.token_type");
  ASSERT_TRUE(types.ok());
  EXPECT_EQ((*types)[0], 2);     // unknown
  EXPECT_EQ((*types)[1], 3);     // control
  EXPECT_EQ((*types)[3], 6);     // byte
  EXPECT_EQ((*types)[1000], 1);  // normal
  EXPECT_EQ(*f->GetUInt("tokenizer.ggml.bos_token_id"), 1u);
  EXPECT_EQ(*f->GetUInt("tokenizer.ggml.eos_token_id"), 2u);
  EXPECT_TRUE(f->tensors().empty());
}

TEST(GgufReader, ParsesGpt2Vocabulary) {
  auto f = File::Open(VocabPath("ggml-vocab-gpt-2.gguf"));
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(*f->GetString("tokenizer.ggml.model"), "gpt2");
  auto tokens = f->GetStringSpan("tokenizer.ggml.tokens");
  ASSERT_TRUE(tokens.ok());
  ASSERT_EQ(tokens->size(), 50257u);
  EXPECT_EQ((*tokens)[0], "!");
  EXPECT_EQ((*tokens)[50256], "<|endoftext|>");
  auto merges = f->GetStringSpan("tokenizer.ggml.merges");
  ASSERT_TRUE(merges.ok());
  EXPECT_EQ(merges->size(), 50000u);
  EXPECT_EQ((*merges)[0], "\xc4\xa0 t");  // "Ġ t", the first GPT-2 merge
}

TEST(GgufWriter, CopiesVocabularyMetadataLosslessly) {
  auto src = File::Open(VocabPath("ggml-vocab-llama-spm.gguf"));
  ASSERT_TRUE(src.ok()) << src.error().message;
  Writer w(64);
  w.CopyMetadata(*src, "tokenizer.");
  size_t n_tokenizer_keys = 0;
  for (const auto& kv : src->metadata()) n_tokenizer_keys += kv.first.starts_with("tokenizer.");
  EXPECT_EQ(w.metadata().size(), n_tokenizer_keys + 1);  // + general.alignment
  auto bytes = w.Serialize();
  ASSERT_TRUE(bytes.ok());
  const File copy = ParseOrDie(*bytes);
  for (const auto& [key, value] : src->metadata()) {
    const Value* got = copy.Find(key);
    if (!key.starts_with("tokenizer.")) {
      EXPECT_TRUE(got == nullptr || key == "general.alignment") << key;
      continue;
    }
    ASSERT_NE(got, nullptr) << key;
    EXPECT_EQ(*got, value) << key;
  }
}

TEST(GgufReader, ParsesTwoHundredThousandStringsQuickly) {
  std::vector<std::string> tokens(200000);
  for (size_t i = 0; i < tokens.size(); ++i) {
    tokens[i] = "tok" + std::to_string(i) + (i % 7 == 0 ? std::string(40, 'x') : "");
  }
  Writer w;
  w.SetStringArray("tokenizer.ggml.tokens", tokens);
  auto bytes = w.Serialize();
  ASSERT_TRUE(bytes.ok());
  const auto map = MappedFile::FromBytes(*bytes, "big.gguf");
  double best_ms = 1e9;
  for (int run = 0; run < 3; ++run) {
    const auto t0 = std::chrono::steady_clock::now();
    auto f = File::Parse(map);
    const auto t1 = std::chrono::steady_clock::now();
    ASSERT_TRUE(f.ok());
    ASSERT_EQ(f->GetStringSpan("tokenizer.ggml.tokens")->size(), tokens.size());
    EXPECT_EQ((*f->GetStringSpan("tokenizer.ggml.tokens"))[123456], tokens[123456]);
    best_ms = std::min(best_ms, std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
#if defined(__SANITIZE_ADDRESS__) || !defined(NDEBUG)
  const double limit_ms = 2000;  // instrumented or unoptimized builds
#else
  const double limit_ms = 100;
#endif
  EXPECT_LT(best_ms, limit_ms);
}

}  // namespace
}  // namespace autan::gguf
