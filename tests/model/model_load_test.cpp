#include "model/model.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <functional>

#include "formats/gguf_writer.h"
#include "model/synth.h"
#include "runtime/session.h"

namespace autan {
namespace {

class ModelLoadTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::filesystem::path(std::filesystem::temp_directory_path() /
                                     ("autan-model-" + std::to_string(::getpid())));
    std::filesystem::create_directories(*dir_);
    Result<gguf::File> vocab =
        gguf::File::Open(std::string(AUTAN_TESTDATA) + "/vocab/ggml-vocab-llama-spm.gguf");
    ASSERT_TRUE(vocab.ok()) << vocab.error().message;
    ThreadPool pool(2);
    Status s = WriteSynthModel({.shape = "tiny", .type = "f16", .seed = 5}, *vocab, Base(), pool);
    ASSERT_TRUE(s.ok()) << s.error().message;
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }
  static std::string Base() { return (*dir_ / "base.gguf").string(); }

  // Rewrites the base model through `edit`, which may change metadata and
  // decide per tensor whether to keep it (and with which dims).
  using TensorEdit = std::function<bool(const gguf::TensorInfo&, std::vector<uint64_t>& dims)>;
  static std::string Variant(const std::string& name,
                             const std::function<void(gguf::Writer&)>& edit_metadata,
                             const TensorEdit& edit_tensor) {
    Result<gguf::File> base = gguf::File::Open(Base());
    EXPECT_TRUE(base.ok());
    gguf::Writer w;
    w.CopyMetadata(*base);
    edit_metadata(w);
    for (const gguf::TensorInfo& t : base->tensors()) {
      std::vector<uint64_t> dims = t.dims;
      if (!edit_tensor(t, dims)) continue;
      w.AddTensorBytes(t.name, t.type, dims, t.bytes());
    }
    const std::string path = (*dir_ / (name + ".gguf")).string();
    Status s = w.Write(path);
    EXPECT_TRUE(s.ok()) << s.error().message;
    return path;
  }
  static std::string LoadError(const std::string& path) {
    Result<std::shared_ptr<const Model>> m = Model::Load(path);
    return m.ok() ? std::string("loaded") : m.error().message;
  }

  static std::filesystem::path* dir_;
};
std::filesystem::path* ModelLoadTest::dir_ = nullptr;

const auto kKeepMetadata = [](gguf::Writer&) {};
const auto kKeepTensors = [](const gguf::TensorInfo&, std::vector<uint64_t>&) { return true; };

TEST_F(ModelLoadTest, ReadsTheConfiguration) {
  Result<std::shared_ptr<const Model>> m = Model::Load(Base());
  ASSERT_TRUE(m.ok()) << m.error().message;
  const ModelConfig& c = (*m)->config();
  EXPECT_EQ(c.architecture, "llama");
  EXPECT_EQ(c.dim, 256);
  EXPECT_EQ(c.n_layers, 2);
  EXPECT_EQ(c.n_heads, 4);
  EXPECT_EQ(c.n_kv_heads, 2);
  EXPECT_EQ(c.head_dim, 64);
  EXPECT_EQ(c.ffn_dim, 512);
  EXPECT_EQ(c.n_vocab, 32000);
  EXPECT_EQ(c.sliding_window, 0);
  EXPECT_FLOAT_EQ(c.rope_freq_base, 10000.0f);
  EXPECT_EQ((*m)->tokenizer().bos(), 1);
}

TEST_F(ModelLoadTest, MissingTensorIsNamed) {
  const std::string path = Variant("missing", kKeepMetadata, [](const auto& t, auto&) {
    return t.name != "blk.1.ffn_up.weight";
  });
  EXPECT_NE(LoadError(path).find("missing tensor 'blk.1.ffn_up.weight'"), std::string::npos)
      << LoadError(path);
}

TEST_F(ModelLoadTest, MisshapenTensorIsNamed) {
  const std::string path = Variant("shape", kKeepMetadata, [](const auto& t, auto& dims) {
    if (t.name == "blk.0.attn_k.weight") std::swap(dims[0], dims[1]);
    return true;
  });
  const std::string error = LoadError(path);
  EXPECT_NE(error.find("blk.0.attn_k.weight"), std::string::npos) << error;
  EXPECT_NE(error.find("expected [256, 128]"), std::string::npos) << error;
}

TEST_F(ModelLoadTest, BadHyperparametersAreRefused) {
  auto kv3 = Variant(
      "kv3", [](gguf::Writer& w) { w.SetU32("llama.attention.head_count_kv", 3); }, kKeepTensors);
  EXPECT_NE(LoadError(kv3).find("head_count_kv 3"), std::string::npos) << LoadError(kv3);
  auto arch = Variant(
      "arch", [](gguf::Writer& w) { w.SetString("general.architecture", "mamba"); }, kKeepTensors);
  EXPECT_NE(LoadError(arch).find("unsupported architecture 'mamba'"), std::string::npos);
  auto no_dim = Variant(
      "nodim", [](gguf::Writer& w) { w.Remove("llama.embedding_length"); }, kKeepTensors);
  EXPECT_NE(LoadError(no_dim).find("llama.embedding_length"), std::string::npos)
      << LoadError(no_dim);
  auto huge = Variant(
      "huge", [](gguf::Writer& w) { w.SetU64("llama.block_count", 1ull << 40); }, kKeepTensors);
  EXPECT_NE(LoadError(huge).find("llama.block_count"), std::string::npos) << LoadError(huge);
}

// Without output.weight the LM head is the token embedding: logits then equal
// those of a file whose output.weight is a copy of the embedding.
TEST_F(ModelLoadTest, TiedEmbeddingIsTheLmHead) {
  Result<gguf::File> base = gguf::File::Open(Base());
  ASSERT_TRUE(base.ok());
  const gguf::TensorInfo* embd = base->FindTensor("token_embd.weight");
  ASSERT_NE(embd, nullptr);
  gguf::Writer copy;
  copy.CopyMetadata(*base);
  gguf::Writer tied;
  tied.CopyMetadata(*base);
  for (const gguf::TensorInfo& t : base->tensors()) {
    if (t.name == "output.weight") {
      copy.AddTensorBytes(t.name, embd->type, embd->dims, embd->bytes());
      continue;
    }
    copy.AddTensorBytes(t.name, t.type, t.dims, t.bytes());
    tied.AddTensorBytes(t.name, t.type, t.dims, t.bytes());
  }
  const std::string copy_path = (*dir_ / "copy.gguf").string();
  const std::string tied_path = (*dir_ / "tied.gguf").string();
  ASSERT_TRUE(copy.Write(copy_path).ok());
  ASSERT_TRUE(tied.Write(tied_path).ok());
  auto logits = [](const std::string& path) {
    auto model = Model::Load(path);
    EXPECT_TRUE(model.ok());
    ThreadPool pool(2);
    auto session = Session::Create(*model, pool, {.n_ctx = 16});
    const int32_t tokens[] = {1, 15043, 3186};
    Result<std::span<const float>> out = (*session)->Eval(tokens);
    EXPECT_TRUE(out.ok());
    return std::vector<float>(out->begin(), out->end());
  };
  const std::vector<float> a = logits(copy_path);
  const std::vector<float> b = logits(tied_path);
  ASSERT_EQ(a.size(), 32000u);
  EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * sizeof(float)));
}

}  // namespace
}  // namespace autan
