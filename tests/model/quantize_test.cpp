// autan quantize: per-tensor types as the plan says (the same bytes as a synth
// file made in that type), K-quant fallbacks for rows that do not fit, and
// refusals that name the tensor.
#include "model/quantize.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "model/model.h"
#include "model/synth.h"

namespace autan {
namespace {

class QuantizeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::filesystem::path(std::filesystem::temp_directory_path() /
                                     ("autan-quantize-" + std::to_string(::getpid())));
    std::filesystem::create_directories(*dir_);
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }
  static std::string Synth(const std::string& shape, const std::string& type) {
    Result<gguf::File> vocab =
        gguf::File::Open(std::string(AUTAN_TESTDATA) + "/vocab/ggml-vocab-llama-spm.gguf");
    EXPECT_TRUE(vocab.ok());
    ThreadPool pool(2);
    const std::string path = (*dir_ / (shape + "-" + type + ".gguf")).string();
    Status s = WriteSynthModel({.shape = shape, .type = type, .seed = 3}, *vocab, path, pool);
    EXPECT_TRUE(s.ok()) << s.error().message;
    return path;
  }
  static Result<QuantizeReport> Quantize(const std::string& in, const std::string& out,
                                         const std::string& type, bool requantize = false) {
    Result<gguf::File> f = gguf::File::Open(in);
    EXPECT_TRUE(f.ok());
    ThreadPool pool(2);
    return QuantizeModel(*f, out, {.type = type, .allow_requantize = requantize}, pool);
  }
  static std::filesystem::path* dir_;
};
std::filesystem::path* QuantizeTest::dir_ = nullptr;

TEST_F(QuantizeTest, EqualsASynthFileMadeInThatType) {
  const std::string f32 = Synth("tiny", "f32");
  for (const char* type : {"q8_0", "q4_k_m"}) {
    const std::string out = (*dir_ / (std::string("quantized-") + type + ".gguf")).string();
    Result<QuantizeReport> r = Quantize(f32, out, type);
    ASSERT_TRUE(r.ok()) << r.error().message;
    Result<gguf::File> got = gguf::File::Open(out);
    Result<gguf::File> want = gguf::File::Open(Synth("tiny", type));
    ASSERT_TRUE(got.ok() && want.ok());
    ASSERT_EQ(got->tensors().size(), want->tensors().size());
    EXPECT_EQ(r->tensors_quantized + r->tensors_kept, static_cast<int32_t>(got->tensors().size()));
    for (const gguf::TensorInfo& w : want->tensors()) {
      const gguf::TensorInfo* g = got->FindTensor(w.name);
      ASSERT_NE(g, nullptr) << w.name;
      EXPECT_EQ(g->type, w.type) << type << " " << w.name;
      ASSERT_EQ(g->n_bytes, w.n_bytes) << w.name;
      EXPECT_EQ(0, std::memcmp(g->data, w.data, w.n_bytes)) << type << " " << w.name;
    }
    EXPECT_EQ(*got->GetUInt("general.file_type"), *want->GetUInt("general.file_type"));
    EXPECT_EQ(*got->GetUInt("general.quantization_version"), 2u);
    EXPECT_TRUE(Model::Load(out).ok());
  }
}

TEST_F(QuantizeTest, RowsThatNoKQuantFitsFallBack) {
  // nemo-tiny's attention output has rows of 384 values: not a whole number
  // of 256-value super-blocks, so Q4_K falls back to Q5_0 there.
  const std::string out = (*dir_ / "nemo-q4_k.gguf").string();
  Result<QuantizeReport> r = Quantize(Synth("nemo-tiny", "f16"), out, "q4_k");
  ASSERT_TRUE(r.ok()) << r.error().message;
  Result<gguf::File> got = gguf::File::Open(out);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->FindTensor("blk.0.attn_output.weight")->type, DType::kQ5_0);
  EXPECT_EQ(got->FindTensor("blk.0.attn_q.weight")->type, DType::kQ4_K);
  EXPECT_EQ(got->FindTensor("blk.0.attn_norm.weight")->type, DType::kF32);
  EXPECT_TRUE(Model::Load(out).ok());
}

TEST_F(QuantizeTest, RequantizingNeedsConsent) {
  const std::string q8 = Synth("tiny", "q8_0");
  const std::string out = (*dir_ / "requantized.gguf").string();
  Result<QuantizeReport> refused = Quantize(q8, out, "q4_0");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("tensor 'token_embd.weight' is already quantized (q8_0)"),
            std::string::npos)
      << refused.error().message;
  EXPECT_FALSE(std::filesystem::exists(out));
  Result<QuantizeReport> allowed = Quantize(q8, out, "q4_0", true);
  ASSERT_TRUE(allowed.ok()) << allowed.error().message;
  Result<gguf::File> got = gguf::File::Open(out);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->FindTensor("blk.1.attn_q.weight")->type, DType::kQ4_0);
  EXPECT_EQ(got->FindTensor("output.weight")->type, DType::kQ6_K);  // the LM head, as llama.cpp
}

}  // namespace
}  // namespace autan
