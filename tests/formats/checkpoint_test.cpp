// Model folders in Mistral's and Hugging Face's layouts, written here from
// one set of weights, seen as the same GGUF: the same tensors under GGUF
// names (Hugging Face's q/k rows put back in RoPE's pair order), norms in
// f32, the metadata llama.cpp writes; bad folders named by file and field.
#include "formats/checkpoint.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "core/fp16.h"
#include "safetensors_bytes.h"

namespace autan {
namespace {

namespace fs = std::filesystem;

struct Weight {
  std::vector<uint64_t> shape;
  std::vector<float> values;
};
using Weights = std::map<std::string, Weight>;

// The weights as BF16 safetensors (their values are exact in bf16).
void WriteSafetensors(const fs::path& path, const Weights& weights) {
  std::map<std::string, testing::Bf16Tensor> tensors;
  for (const auto& [name, w] : weights) {
    testing::Bf16Tensor& t = tensors[name];
    t.shape = w.shape;
    for (float v : w.values) t.bf16.push_back(Fp32ToBf16(v));
  }
  testing::WriteBf16Safetensors(path, tensors);
}

constexpr int64_t kDim = 16, kLayers = 2, kHeads = 4, kKvHeads = 2, kHeadDim = 4, kFfn = 24,
                  kVocab = 40;

Weight Random(std::vector<uint64_t> shape, uint32_t seed) {
  Weight w{shape, {}};
  uint64_t n = 1;
  for (uint64_t d : shape) n *= d;
  for (uint64_t i = 0; i < n; ++i) {
    seed = seed * 1664525u + 1013904223u;
    // Values exact in bf16, so both layouts carry the very same bits.
    w.values.push_back(Bf16ToFp32(Fp32ToBf16(static_cast<float>(seed >> 8) / 16777216.0f - 0.5f)));
  }
  return w;
}

// Mistral's names and Meta's q/k row order.
Weights MistralWeights() {
  Weights w;
  uint32_t seed = 1;
  w["tok_embeddings.weight"] = Random({kVocab, kDim}, seed++);
  w["norm.weight"] = Random({kDim}, seed++);
  w["output.weight"] = Random({kVocab, kDim}, seed++);
  for (int i = 0; i < kLayers; ++i) {
    const std::string p = "layers." + std::to_string(i) + ".";
    w[p + "attention_norm.weight"] = Random({kDim}, seed++);
    w[p + "attention.wq.weight"] = Random({kHeads * kHeadDim, kDim}, seed++);
    w[p + "attention.wk.weight"] = Random({kKvHeads * kHeadDim, kDim}, seed++);
    w[p + "attention.wv.weight"] = Random({kKvHeads * kHeadDim, kDim}, seed++);
    w[p + "attention.wo.weight"] = Random({kDim, kHeads * kHeadDim}, seed++);
    w[p + "ffn_norm.weight"] = Random({kDim}, seed++);
    w[p + "feed_forward.w1.weight"] = Random({kFfn, kDim}, seed++);
    w[p + "feed_forward.w2.weight"] = Random({kDim, kFfn}, seed++);
    w[p + "feed_forward.w3.weight"] = Random({kFfn, kDim}, seed++);
  }
  return w;
}

// The same weights as Hugging Face's converter stores them: its names, and
// within each q/k head the first value of every RoPE pair, then the second.
Weights HfWeights(const Weights& m) {
  auto halves = [](const Weight& w, int64_t heads) {
    Weight out = w;
    const int64_t rows = static_cast<int64_t>(w.shape[0]);
    const int64_t cols = static_cast<int64_t>(w.shape[1]);
    const int64_t per = rows / heads;
    for (int64_t h = 0; h < heads; ++h) {
      for (int64_t r = 0; r < per; ++r) {
        const int64_t pair = r / 2, member = r % 2;
        const int64_t to = h * per + member * (per / 2) + pair;
        std::memcpy(&out.values[to * cols], &w.values[(h * per + r) * cols], cols * sizeof(float));
      }
    }
    return out;
  };
  Weights w;
  w["model.embed_tokens.weight"] = m.at("tok_embeddings.weight");
  w["model.norm.weight"] = m.at("norm.weight");
  w["lm_head.weight"] = m.at("output.weight");
  for (int i = 0; i < kLayers; ++i) {
    const std::string p = "layers." + std::to_string(i) + ".";
    const std::string q = "model.layers." + std::to_string(i) + ".";
    w[q + "input_layernorm.weight"] = m.at(p + "attention_norm.weight");
    w[q + "self_attn.q_proj.weight"] = halves(m.at(p + "attention.wq.weight"), kHeads);
    w[q + "self_attn.k_proj.weight"] = halves(m.at(p + "attention.wk.weight"), kKvHeads);
    w[q + "self_attn.v_proj.weight"] = m.at(p + "attention.wv.weight");
    w[q + "self_attn.o_proj.weight"] = m.at(p + "attention.wo.weight");
    w[q + "post_attention_layernorm.weight"] = m.at(p + "ffn_norm.weight");
    w[q + "mlp.gate_proj.weight"] = m.at(p + "feed_forward.w1.weight");
    w[q + "mlp.down_proj.weight"] = m.at(p + "feed_forward.w2.weight");
    w[q + "mlp.up_proj.weight"] = m.at(p + "feed_forward.w3.weight");
  }
  return w;
}

const char* kParams = R"({"dim": 16, "n_layers": 2, "head_dim": 4, "hidden_dim": 24, "n_heads": 4,
  "n_kv_heads": 2, "norm_eps": 1e-05, "vocab_size": 40, "rope_theta": 1000000.0,
  "sliding_window": [8, 0]})";
const char* kConfig = R"({"architectures": ["MistralForCausalLM"], "hidden_size": 16,
  "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 4,
  "intermediate_size": 24, "rms_norm_eps": 1e-05, "vocab_size": 40, "rope_theta": 1000000.0,
  "max_position_embeddings": 32768, "sliding_window": null, "tie_word_embeddings": false})";

class CheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("autan-ckpt-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_ / "mistral");
    fs::create_directories(root_ / "hf");
    weights_ = MistralWeights();
    WriteSafetensors(root_ / "mistral" / "consolidated.safetensors", weights_);
    Write(root_ / "mistral" / "params.json", kParams);
    WriteSafetensors(root_ / "hf" / "model.safetensors", HfWeights(weights_));
    Write(root_ / "hf" / "config.json", kConfig);
  }
  void TearDown() override { fs::remove_all(root_); }
  static void Write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

  std::string Error(const std::string& folder) {
    Result<CheckpointView> v = OpenCheckpoint((root_ / folder).string());
    EXPECT_FALSE(v.ok());
    return v.ok() ? std::string() : v.error().message;
  }

  fs::path root_;
  Weights weights_;
};

TEST_F(CheckpointTest, BothLayoutsAreTheSameGguf) {
  Result<CheckpointView> mistral = OpenCheckpoint((root_ / "mistral").string());
  ASSERT_TRUE(mistral.ok()) << mistral.error().message;
  Result<CheckpointView> hf = OpenCheckpoint((root_ / "hf").string());
  ASSERT_TRUE(hf.ok()) << hf.error().message;
  EXPECT_EQ(mistral->layout, CheckpointLayout::kMistral);
  EXPECT_EQ(hf->layout, CheckpointLayout::kHuggingFace);
  const gguf::File& m = mistral->file;
  EXPECT_EQ(*m.GetString("general.architecture"), "llama");
  EXPECT_EQ(*m.GetUInt("llama.embedding_length"), 16u);
  EXPECT_EQ(*m.GetUInt("llama.block_count"), 2u);
  EXPECT_EQ(*m.GetUInt("llama.attention.head_count_kv"), 2u);
  EXPECT_EQ(*m.GetUInt("llama.rope.dimension_count"), 4u);
  EXPECT_EQ(m.Find("llama.attention.key_length"), nullptr);  // 4 heads of 4: the width
  EXPECT_EQ(*m.GetFloat("llama.rope.freq_base"), 1e6f);
  EXPECT_EQ(*m.GetIntArray("llama.attention.sliding_window"), (std::vector<int32_t>{8, 0}));
  EXPECT_EQ(hf->file.Find("llama.attention.sliding_window"), nullptr);  // null: none

  ASSERT_EQ(m.tensors().size(), hf->file.tensors().size());
  ASSERT_EQ(m.tensors().size(), 3u + 9u * kLayers);
  for (const gguf::TensorInfo& t : m.tensors()) {
    const gguf::TensorInfo* u = hf->file.FindTensor(t.name);
    ASSERT_NE(u, nullptr) << t.name;
    EXPECT_EQ(t.type, u->type) << t.name;
    EXPECT_EQ(t.dims, u->dims) << t.name;
    ASSERT_EQ(t.n_bytes, u->n_bytes) << t.name;
    EXPECT_EQ(0, std::memcmp(t.data, u->data, t.n_bytes)) << t.name;
  }
  // GGUF names and shapes; weights in bf16 as written, norms widened to f32.
  const gguf::TensorInfo* q = m.FindTensor("blk.1.attn_q.weight");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->type, DType::kBF16);
  EXPECT_EQ(q->dims, (std::vector<uint64_t>{kDim, kHeads * kHeadDim}));
  const Weight& wq = weights_.at("layers.1.attention.wq.weight");
  uint16_t b;
  std::memcpy(&b, q->data + 2 * (5 * kDim + 3), 2);
  EXPECT_EQ(Bf16ToFp32(b), wq.values[5 * kDim + 3]);
  const gguf::TensorInfo* norm = m.FindTensor("blk.0.ffn_norm.weight");
  ASSERT_NE(norm, nullptr);
  EXPECT_EQ(norm->type, DType::kF32);
  ASSERT_EQ(norm->n_bytes, kDim * 4u);
  EXPECT_EQ(
      0, std::memcmp(norm->data, weights_.at("layers.0.ffn_norm.weight").values.data(), kDim * 4));
}

TEST_F(CheckpointTest, NamesTheFileAndFieldAtFault) {
  Write(root_ / "mistral" / "params.json", R"({"n_layers": 2})");
  EXPECT_NE(Error("mistral").find("params.json: field 'dim' is missing"), std::string::npos);
  Write(root_ / "mistral" / "params.json",
        std::string(kParams).replace(std::string(kParams).find("\"n_kv_heads\": 2"), 15,
                                     "\"n_kv_heads\": 9"));
  EXPECT_NE(Error("mistral").find("field 'n_kv_heads' = 9 is outside 1..4"), std::string::npos);
  Write(root_ / "mistral" / "params.json", "{\"dim\": ");
  EXPECT_NE(Error("mistral").find("params.json: malformed JSON"), std::string::npos);
  Write(root_ / "hf" / "config.json", R"({"architectures": ["GPT2LMHeadModel"]})");
  EXPECT_NE(Error("hf").find("field 'architectures' is 'GPT2LMHeadModel'"), std::string::npos);

  Write(root_ / "mistral" / "params.json", kParams);
  Weights bad = weights_;
  bad["layers.1.attention.wk.weight"] = Random({kKvHeads * kHeadDim + 1, kDim}, 99);
  WriteSafetensors(root_ / "mistral" / "consolidated.safetensors", bad);
  EXPECT_NE(Error("mistral").find("tensor 'layers.1.attention.wk.weight' has shape [9, 16], "
                                  "expected [8, 16]"),
            std::string::npos);
  bad = weights_;
  bad.erase("layers.0.feed_forward.w3.weight");
  WriteSafetensors(root_ / "mistral" / "consolidated.safetensors", bad);
  EXPECT_NE(Error("mistral").find("missing tensor 'layers.0.feed_forward.w3.weight'"),
            std::string::npos);
}

}  // namespace
}  // namespace autan
