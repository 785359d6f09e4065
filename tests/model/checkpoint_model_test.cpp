// A model folder (Mistral's layout and Hugging Face's) loads and computes
// exactly what the same weights in a GGUF file compute.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "../formats/safetensors_bytes.h"
#include "core/fp16.h"
#include "formats/gguf_writer.h"
#include "forward_util.h"
#include "model/model.h"
#include "runtime/kv_cache.h"

namespace autan {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kDim = 64, kLayers = 2, kHeads = 4, kKvHeads = 2, kHeadDim = 16, kFfn = 128,
                  kVocab = 32000;

using Weight = testing::Bf16Tensor;

Weight Random(std::vector<uint64_t> shape, uint32_t seed, float scale) {
  Weight w{shape, {}};
  uint64_t n = 1;
  for (uint64_t d : shape) n *= d;
  for (uint64_t i = 0; i < n; ++i) {
    seed = seed * 1664525u + 1013904223u;
    w.bf16.push_back(Fp32ToBf16((static_cast<float>(seed >> 8) / 16777216.0f - 0.5f) * scale));
  }
  return w;
}

// Within each head, HF keeps the first value of every RoPE pair, then the second.
Weight HalvesApart(const Weight& w, int64_t heads) {
  Weight out = w;
  const int64_t rows = static_cast<int64_t>(w.shape[0]), cols = static_cast<int64_t>(w.shape[1]);
  const int64_t per = rows / heads;
  for (int64_t h = 0; h < heads; ++h) {
    for (int64_t r = 0; r < per; ++r) {
      std::memcpy(&out.bf16[(h * per + (r % 2) * (per / 2) + r / 2) * cols],
                  &w.bf16[(h * per + r) * cols], cols * 2);
    }
  }
  return out;
}

TEST(CheckpointModel, FoldersComputeWhatTheSameGgufComputes) {
  const fs::path root =
      fs::temp_directory_path() / ("autan-ckpt-model-" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root / "mistral");
  fs::create_directories(root / "hf");
  const std::string spm = std::string(AUTAN_TESTDATA) + "/sentencepiece/llama2-tokenizer.model";

  // Mistral's names; norms near 1, matrices small.
  std::map<std::string, Weight> m;
  uint32_t seed = 1;
  m["tok_embeddings.weight"] = Random({kVocab, kDim}, seed++, 1.0f);
  m["norm.weight"] = Random({kDim}, seed++, 0.2f);
  m["output.weight"] = Random({kVocab, kDim}, seed++, 0.5f);
  for (int i = 0; i < kLayers; ++i) {
    const std::string p = "layers." + std::to_string(i) + ".";
    m[p + "attention_norm.weight"] = Random({kDim}, seed++, 0.2f);
    m[p + "attention.wq.weight"] = Random({kHeads * kHeadDim, kDim}, seed++, 0.5f);
    m[p + "attention.wk.weight"] = Random({kKvHeads * kHeadDim, kDim}, seed++, 0.5f);
    m[p + "attention.wv.weight"] = Random({kKvHeads * kHeadDim, kDim}, seed++, 0.5f);
    m[p + "attention.wo.weight"] = Random({kDim, kHeads * kHeadDim}, seed++, 0.5f);
    m[p + "ffn_norm.weight"] = Random({kDim}, seed++, 0.2f);
    m[p + "feed_forward.w1.weight"] = Random({kFfn, kDim}, seed++, 0.5f);
    m[p + "feed_forward.w2.weight"] = Random({kDim, kFfn}, seed++, 0.5f);
    m[p + "feed_forward.w3.weight"] = Random({kFfn, kDim}, seed++, 0.5f);
  }
  // Norm gains around 1: shift the small random values up.
  for (auto& [name, w] : m) {
    if (w.shape.size() == 1) {
      for (uint16_t& v : w.bf16) v = Fp32ToBf16(1.0f + Bf16ToFp32(v));
    }
  }
  testing::WriteBf16Safetensors(root / "mistral" / "consolidated.safetensors", m);
  std::ofstream(root / "mistral" / "params.json")
      << R"({"dim": 64, "n_layers": 2, "head_dim": 16, "hidden_dim": 128, "n_heads": 4,
             "n_kv_heads": 2, "norm_eps": 1e-05, "vocab_size": 32000, "rope_theta": 10000.0})";
  fs::copy_file(spm, root / "mistral" / "tokenizer.model");

  std::map<std::string, Weight> h;
  h["model.embed_tokens.weight"] = m["tok_embeddings.weight"];
  h["model.norm.weight"] = m["norm.weight"];
  h["lm_head.weight"] = m["output.weight"];
  for (int i = 0; i < kLayers; ++i) {
    const std::string p = "layers." + std::to_string(i) + ".";
    const std::string q = "model.layers." + std::to_string(i) + ".";
    h[q + "input_layernorm.weight"] = m[p + "attention_norm.weight"];
    h[q + "self_attn.q_proj.weight"] = HalvesApart(m[p + "attention.wq.weight"], kHeads);
    h[q + "self_attn.k_proj.weight"] = HalvesApart(m[p + "attention.wk.weight"], kKvHeads);
    h[q + "self_attn.v_proj.weight"] = m[p + "attention.wv.weight"];
    h[q + "self_attn.o_proj.weight"] = m[p + "attention.wo.weight"];
    h[q + "post_attention_layernorm.weight"] = m[p + "ffn_norm.weight"];
    h[q + "mlp.gate_proj.weight"] = m[p + "feed_forward.w1.weight"];
    h[q + "mlp.down_proj.weight"] = m[p + "feed_forward.w2.weight"];
    h[q + "mlp.up_proj.weight"] = m[p + "feed_forward.w3.weight"];
  }
  testing::WriteBf16Safetensors(root / "hf" / "model.safetensors", h);
  std::ofstream(root / "hf" / "config.json")
      << R"({"architectures": ["MistralForCausalLM"], "hidden_size": 64, "num_hidden_layers": 2,
             "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16,
             "intermediate_size": 128, "rms_norm_eps": 1e-05, "vocab_size": 32000,
             "rope_theta": 10000.0, "max_position_embeddings": 4096, "sliding_window": null})";
  fs::copy_file(spm, root / "hf" / "tokenizer.model");

  // The same weights as GGUF: bf16 matrices, f32 norms, the Llama vocabulary.
  Result<gguf::File> vocab =
      gguf::File::Open(std::string(AUTAN_TESTDATA) + "/vocab/ggml-vocab-llama-spm.gguf");
  ASSERT_TRUE(vocab.ok());
  gguf::Writer w;
  w.SetString("general.architecture", "llama");
  w.SetU32("llama.context_length", 4096);
  w.SetU32("llama.embedding_length", kDim);
  w.SetU32("llama.block_count", kLayers);
  w.SetU32("llama.feed_forward_length", kFfn);
  w.SetU32("llama.rope.dimension_count", kHeadDim);
  w.SetU32("llama.attention.head_count", kHeads);
  w.SetU32("llama.attention.head_count_kv", kKvHeads);
  w.SetF32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
  w.SetF32("llama.rope.freq_base", 10000.0f);
  w.CopyMetadata(*vocab, "tokenizer.");
  std::vector<std::vector<float>> norms;
  auto add = [&](const std::string& gguf_name, const Weight& x) {
    if (x.shape.size() == 1) {
      norms.emplace_back();
      for (uint16_t v : x.bf16) norms.back().push_back(Bf16ToFp32(v));
      w.AddTensorBytes(gguf_name, DType::kF32, {x.shape[0]},
                       {reinterpret_cast<const uint8_t*>(norms.back().data()), x.shape[0] * 4});
    } else {
      w.AddTensorBytes(gguf_name, DType::kBF16, {x.shape[1], x.shape[0]},
                       {reinterpret_cast<const uint8_t*>(x.bf16.data()), x.bf16.size() * 2});
    }
  };
  norms.reserve(16);
  add("token_embd.weight", m["tok_embeddings.weight"]);
  add("output_norm.weight", m["norm.weight"]);
  add("output.weight", m["output.weight"]);
  for (int i = 0; i < kLayers; ++i) {
    const std::string p = "layers." + std::to_string(i) + ".";
    const std::string g = "blk." + std::to_string(i) + ".";
    add(g + "attn_norm.weight", m[p + "attention_norm.weight"]);
    add(g + "attn_q.weight", m[p + "attention.wq.weight"]);
    add(g + "attn_k.weight", m[p + "attention.wk.weight"]);
    add(g + "attn_v.weight", m[p + "attention.wv.weight"]);
    add(g + "attn_output.weight", m[p + "attention.wo.weight"]);
    add(g + "ffn_norm.weight", m[p + "ffn_norm.weight"]);
    add(g + "ffn_gate.weight", m[p + "feed_forward.w1.weight"]);
    add(g + "ffn_down.weight", m[p + "feed_forward.w2.weight"]);
    add(g + "ffn_up.weight", m[p + "feed_forward.w3.weight"]);
  }
  const std::string gguf_path = (root / "same.gguf").string();
  ASSERT_TRUE(w.Write(gguf_path).ok());

  Result<std::shared_ptr<const Model>> from_gguf = Model::Load(gguf_path);
  ASSERT_TRUE(from_gguf.ok()) << from_gguf.error().message;
  const std::vector<int32_t> tokens =
      (*from_gguf)->tokenizer().Encode("The capital of France is", {.add_special = true});
  const std::vector<float> want = testing::AllLogits(**from_gguf, tokens);
  for (const char* folder : {"mistral", "hf"}) {
    Result<std::shared_ptr<const Model>> from_folder = Model::Load((root / folder).string());
    ASSERT_TRUE(from_folder.ok()) << from_folder.error().message;
    EXPECT_EQ((*from_folder)->tokenizer().Encode("The capital of France is", {.add_special = true}),
              tokens)
        << folder;
    const std::vector<float> got = testing::AllLogits(**from_folder, tokens);
    ASSERT_EQ(got.size(), want.size());
    EXPECT_EQ(0, std::memcmp(got.data(), want.data(), got.size() * sizeof(float))) << folder;
  }

  fs::remove(root / "hf" / "tokenizer.model");
  Result<std::shared_ptr<const Model>> no_tokenizer = Model::Load((root / "hf").string());
  ASSERT_FALSE(no_tokenizer.ok());
  EXPECT_NE(no_tokenizer.error().message.find("no tokenizer beside the weights"),
            std::string::npos);
  fs::remove_all(root);
}

}  // namespace
}  // namespace autan
