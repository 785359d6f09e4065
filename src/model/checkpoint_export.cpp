#include "model/checkpoint_export.h"

#include <charconv>
#include <cinttypes>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>

#include "formats/safetensors_writer.h"
#include "model/vocab_gguf.h"
#include "tokenizer/sentencepiece_writer.h"
#include "tokenizer/tekken_writer.h"

namespace autan {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

// The GGUF hyperparameters a folder's config file restates.
struct Hyper {
  uint64_t dim = 0, n_layers = 0, n_heads = 0, n_kv_heads = 0, head_dim = 0, ffn = 0;
  uint64_t context = 0, n_expert = 0, n_expert_used = 0;
  float norm_eps = 0, rope_theta = 10000.0f;
  Json windows;  // null, one window or a list cycled over the layers
};

Result<Hyper> ReadHyper(const gguf::File& f) {
  Result<std::string_view> arch = f.GetString("general.architecture");
  if (!arch.ok()) return arch.error();
  if (*arch != "llama") {
    return Fail(
        "%s: general.architecture is '%.*s'; only 'llama' models can be written as a "
        "folder",
        f.path().c_str(), static_cast<int>(arch->size()), arch->data());
  }
  Hyper h;
  auto u = [&](const char* key, uint64_t& out) -> Status {
    Result<uint64_t> v = f.GetUInt(key);
    if (!v.ok()) return v.error();
    out = *v;
    return {};
  };
  AUTAN_TRY(u("llama.embedding_length", h.dim));
  AUTAN_TRY(u("llama.block_count", h.n_layers));
  AUTAN_TRY(u("llama.attention.head_count", h.n_heads));
  AUTAN_TRY(u("llama.feed_forward_length", h.ffn));
  AUTAN_TRY(u("llama.context_length", h.context));
  Result<uint64_t> kv = f.GetUIntOr("llama.attention.head_count_kv", h.n_heads);
  if (!kv.ok()) return kv.error();
  Result<uint64_t> hd =
      f.GetUIntOr("llama.attention.key_length", h.n_heads == 0 ? 0 : h.dim / h.n_heads);
  if (!hd.ok()) return hd.error();
  Result<uint64_t> ne = f.GetUIntOr("llama.expert_count", 0);
  if (!ne.ok()) return ne.error();
  Result<uint64_t> nu = f.GetUIntOr("llama.expert_used_count", 0);
  if (!nu.ok()) return nu.error();
  Result<float> eps = f.GetFloat("llama.attention.layer_norm_rms_epsilon");
  if (!eps.ok()) return eps.error();
  Result<float> theta = f.GetFloatOr("llama.rope.freq_base", 10000.0f);
  if (!theta.ok()) return theta.error();
  h.n_kv_heads = *kv, h.head_dim = *hd, h.n_expert = *ne, h.n_expert_used = *nu;
  h.norm_eps = *eps, h.rope_theta = *theta;
  if (const gguf::Value* w = f.Find("llama.attention.sliding_window"); w != nullptr) {
    if (w->AsUInt()) {
      h.windows = *w->AsUInt();
    } else {
      Result<std::vector<int32_t>> list = f.GetIntArray("llama.attention.sliding_window");
      if (!list.ok()) return list.error();
      h.windows = *list;
    }
  }
  return h;
}

// A float as the shortest decimal that reads back to it, so 1e-5f is written
// "1e-05" rather than its double expansion; the reader gets the same float.
double Shortest(float v) {
  char text[32];
  const auto end = std::to_chars(text, text + sizeof(text), v).ptr;
  *end = '\0';
  return std::strtod(text, nullptr);
}

Json MistralParams(const Hyper& h, uint64_t vocab) {
  Json p = {{"dim", h.dim},
            {"n_layers", h.n_layers},
            {"head_dim", h.head_dim},
            {"hidden_dim", h.ffn},
            {"n_heads", h.n_heads},
            {"n_kv_heads", h.n_kv_heads},
            {"norm_eps", Shortest(h.norm_eps)},
            {"vocab_size", vocab},
            {"rope_theta", Shortest(h.rope_theta)},
            {"max_seq_len", h.context}};
  if (!h.windows.is_null()) p["sliding_window"] = h.windows;
  if (h.n_expert > 0) {
    p["moe"] = {{"num_experts", h.n_expert}, {"num_experts_per_tok", h.n_expert_used}};
  }
  return p;
}

Json HfConfig(const Hyper& h, uint64_t vocab, const VocabSpec& spec, const char* dtype) {
  // Mixtral for experts; Mistral where Llama's config has no field for a
  // window or a Tekken vocabulary; Llama otherwise.
  const bool mistral = !h.windows.is_null() || spec.model != "llama";
  const char* arch = h.n_expert > 0 ? "MixtralForCausalLM"
                     : mistral      ? "MistralForCausalLM"
                                    : "LlamaForCausalLM";
  const char* type = h.n_expert > 0 ? "mixtral" : mistral ? "mistral" : "llama";
  Json c = {{"architectures", {arch}},
            {"model_type", type},
            {"hidden_act", "silu"},
            {"hidden_size", h.dim},
            {"num_hidden_layers", h.n_layers},
            {"num_attention_heads", h.n_heads},
            {"num_key_value_heads", h.n_kv_heads},
            {"head_dim", h.head_dim},
            {"intermediate_size", h.ffn},
            {"rms_norm_eps", Shortest(h.norm_eps)},
            {"vocab_size", vocab},
            {"rope_theta", Shortest(h.rope_theta)},
            {"max_position_embeddings", h.context},
            {"sliding_window", h.windows},
            {"tie_word_embeddings", false},
            {"torch_dtype", dtype}};
  if (spec.bos_id >= 0) c["bos_token_id"] = spec.bos_id;
  if (spec.eos_id >= 0) c["eos_token_id"] = spec.eos_id;
  if (h.n_expert > 0) {
    c["num_local_experts"] = h.n_expert;
    c["num_experts_per_tok"] = h.n_expert_used;
  }
  return c;
}

// One safetensors tensor: where its bytes come from in the GGUF file.
struct Piece {
  std::string name;
  const gguf::TensorInfo* src;
  std::vector<uint64_t> shape;  // row-major
  size_t offset = 0;            // into src's bytes (one expert of a stack)
  size_t n_bytes = 0;
  int64_t pair_heads = 0;  // > 0: Hugging Face's q/k row order, this many heads
};

// GGUF's name of a layer tensor, in each layout.
struct LayerName {
  const char *gguf, *mistral, *hf;
};
constexpr LayerName kLayerNames[] = {
    {"attn_norm", "attention_norm", "input_layernorm"},
    {"attn_q", "attention.wq", "self_attn.q_proj"},
    {"attn_k", "attention.wk", "self_attn.k_proj"},
    {"attn_v", "attention.wv", "self_attn.v_proj"},
    {"attn_output", "attention.wo", "self_attn.o_proj"},
    {"ffn_norm", "ffn_norm", "post_attention_layernorm"},
    {"ffn_gate", "feed_forward.w1", "mlp.gate_proj"},
    {"ffn_down", "feed_forward.w2", "mlp.down_proj"},
    {"ffn_up", "feed_forward.w3", "mlp.up_proj"},
    {"ffn_gate_inp", "feed_forward.gate", "block_sparse_moe.gate"},
};
// Stacked experts: GGUF name and the checkpoints' w1/w2/w3.
constexpr std::pair<const char*, const char*> kExpertNames[] = {
    {"ffn_gate_exps", "w1"}, {"ffn_down_exps", "w2"}, {"ffn_up_exps", "w3"}};

Result<std::vector<Piece>> Pieces(const gguf::File& f, const Hyper& h, bool hf) {
  std::vector<Piece> out;
  for (const gguf::TensorInfo& t : f.tensors()) {
    if (t.type != DType::kF32 && t.type != DType::kF16 && t.type != DType::kBF16) {
      return Fail("%s: tensor '%s' is %s; a model folder holds only F32, F16 and BF16 weights",
                  f.path().c_str(), t.name.c_str(), std::string(Info(t.type).name).c_str());
    }
    std::vector<uint64_t> shape(t.dims.rbegin(), t.dims.rend());
    Piece p{"", &t, shape, 0, t.n_bytes, 0};
    if (t.name == "token_embd.weight") {
      p.name = hf ? "model.embed_tokens.weight" : "tok_embeddings.weight";
    } else if (t.name == "output_norm.weight") {
      p.name = hf ? "model.norm.weight" : "norm.weight";
    } else if (t.name == "output.weight") {
      p.name = hf ? "lm_head.weight" : "output.weight";
    }
    unsigned layer = 0;
    char what[64] = {};
    if (p.name.empty() &&
        std::sscanf(t.name.c_str(), "blk.%u.%63[a-z_].weight", &layer, what) == 2 &&
        t.name == "blk." + std::to_string(layer) + "." + what + ".weight") {
      const std::string l = std::to_string(layer);
      for (const LayerName& n : kLayerNames) {
        if (std::strcmp(n.gguf, what) != 0) continue;
        p.name = hf ? "model.layers." + l + "." + n.hf + ".weight"
                    : "layers." + l + "." + n.mistral + ".weight";
        if (hf && std::strcmp(what, "attn_q") == 0) p.pair_heads = static_cast<int64_t>(h.n_heads);
        if (hf && std::strcmp(what, "attn_k") == 0) {
          p.pair_heads = static_cast<int64_t>(h.n_kv_heads);
        }
      }
      for (const auto& [gguf_name, w] : kExpertNames) {
        if (std::strcmp(gguf_name, what) != 0 || shape.size() != 3) continue;
        // [n_expert][rows][cols]: one tensor per expert, as both layouts store them.
        const size_t each = t.n_bytes / shape[0];
        for (uint64_t e = 0; e < shape[0]; ++e) {
          const std::string name = hf ? "model.layers." + l + ".block_sparse_moe.experts."
                                      : "layers." + l + ".feed_forward.experts.";
          out.push_back({name + std::to_string(e) + "." + w + ".weight",
                         &t,
                         {shape[1], shape[2]},
                         e * each,
                         each,
                         0});
        }
        p.name = "-";
      }
    }
    if (p.name.empty()) {
      return Fail("%s: tensor '%s' has no place in a Mistral or Hugging Face folder",
                  f.path().c_str(), t.name.c_str());
    }
    if (p.name != "-") out.push_back(std::move(p));
  }
  return out;
}

// Writes `p`'s bytes; Hugging Face's q/k rows go back to its order, where
// each head keeps the first value of every RoPE pair, then the second.
void FillPiece(const Piece& p, std::span<uint8_t> out) {
  const uint8_t* src = p.src->data + p.offset;
  if (p.pair_heads == 0) {
    std::memcpy(out.data(), src, p.n_bytes);
    return;
  }
  const size_t rows = p.shape[0];
  const size_t row_bytes = p.n_bytes / rows;
  const size_t head_rows = rows / static_cast<size_t>(p.pair_heads);
  const size_t half = head_rows / 2;
  for (size_t h = 0; h < static_cast<size_t>(p.pair_heads); ++h) {
    for (size_t i = 0; i < half; ++i) {
      for (size_t j = 0; j < 2; ++j) {
        std::memcpy(out.data() + (h * head_rows + j * half + i) * row_bytes,
                    src + (h * head_rows + 2 * i + j) * row_bytes, row_bytes);
      }
    }
  }
}

Status WriteText(const fs::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  out.close();
  if (!out) return Fail("%s: cannot write", path.c_str());
  return {};
}

Status WriteWeights(const std::vector<Piece>& pieces, const ExportOptions& o, const fs::path& dir) {
  const bool hf = o.layout == CheckpointLayout::kHuggingFace;
  const size_t n_shards = hf ? static_cast<size_t>(o.shards) : 1;
  if (n_shards < 1 || n_shards > pieces.size() || n_shards > 99999) {
    return Fail("%zu shards asked for %zu tensors", n_shards, pieces.size());
  }
  uint64_t total = 0;
  for (const Piece& p : pieces) total += p.n_bytes;
  // Shard k takes tensors in order until the running size passes k/N of the
  // total, keeping at least one tensor for each shard still to come.
  std::vector<size_t> shard_of(pieces.size());
  uint64_t running = 0;
  size_t shard = 0;
  for (size_t i = 0; i < pieces.size(); ++i) {
    const size_t left = pieces.size() - i;
    const bool full = running * n_shards >= total * (shard + 1);
    if (i > 0 && shard + 1 < n_shards && (full || left == n_shards - shard - 1)) ++shard;
    shard_of[i] = shard;
    running += pieces[i].n_bytes;
  }
  auto file_name = [&](size_t k) {
    if (!hf) return std::string("consolidated.safetensors");
    if (n_shards == 1) return std::string("model.safetensors");
    char name[64];
    std::snprintf(name, sizeof(name), "model-%05zu-of-%05zu.safetensors", k + 1, n_shards);
    return std::string(name);
  };
  Json weight_map = Json::object();
  for (size_t k = 0; k < n_shards; ++k) {
    safetensors::Writer w;
    w.SetMetadata("format", "pt");
    for (size_t i = 0; i < pieces.size(); ++i) {
      if (shard_of[i] != k) continue;
      const Piece& p = pieces[i];
      w.AddTensor(p.name, p.src->type, p.shape,
                  [&p](std::span<uint8_t> out) { FillPiece(p, out); });
      weight_map[p.name] = file_name(k);
    }
    AUTAN_TRY(w.Write((dir / file_name(k)).string()));
  }
  if (n_shards > 1) {
    const Json index = {{"metadata", {{"total_size", total}}}, {"weight_map", weight_map}};
    AUTAN_TRY(WriteText(dir / "model.safetensors.index.json", index.dump(2) + "\n"));
  }
  return {};
}

Status WriteTokenizer(const gguf::File& f, const VocabSpec& spec, bool hf, const fs::path& dir) {
  if (spec.model == "llama") {
    Result<std::vector<uint8_t>> model = SerializeSentencePiece(spec);
    if (!model.ok()) return model.error();
    AUTAN_TRY(WriteText(dir / (hf ? "tokenizer.model" : "tokenizer.model.v3"),
                        {reinterpret_cast<const char*>(model->data()), model->size()}));
  } else if (spec.model == "gpt2" && spec.pre == "tekken") {
    Result<std::string> tekken = SerializeTekken(spec);
    if (!tekken.ok()) return Fail("%s: %s", f.path().c_str(), tekken.error().message.c_str());
    AUTAN_TRY(WriteText(dir / "tekken.json", *tekken));
  } else {
    return Fail(
        "%s: a '%s' vocabulary (pre-tokenizer '%s') has no tokenizer file in a model "
        "folder; SentencePiece and Tekken do",
        f.path().c_str(), spec.model.c_str(), spec.pre.c_str());
  }
  if (!hf) return {};
  // What Hugging Face keeps beside the tokenizer: special tokens, whether BOS
  // and EOS are added, and the chat template.
  Json config = {{"add_bos_token", spec.add_bos.value_or(true)},
                 {"add_eos_token", spec.add_eos.value_or(false)}};
  auto text = [&](int32_t id) {
    return id >= 0 && static_cast<size_t>(id) < spec.tokens.size() ? Json(spec.tokens[id])
                                                                   : Json(nullptr);
  };
  config["bos_token"] = text(spec.bos_id >= 0 ? spec.bos_id : 1);
  config["eos_token"] = text(spec.eos_id >= 0 ? spec.eos_id : 2);
  config["unk_token"] = text(spec.unk_id >= 0 ? spec.unk_id : 0);
  if (f.Find("tokenizer.chat_template") != nullptr) {
    Result<std::string_view> tmpl = f.GetString("tokenizer.chat_template");
    if (!tmpl.ok()) return tmpl.error();
    config["chat_template"] = std::string(*tmpl);
  }
  return WriteText(dir / "tokenizer_config.json", config.dump(2) + "\n");
}

}  // namespace

Status ExportCheckpoint(const gguf::File& model, const ExportOptions& o, const std::string& dir) {
  const bool hf = o.layout == CheckpointLayout::kHuggingFace;
  if (!hf && o.shards != 1) return Fail("Mistral's layout has one consolidated.safetensors");
  Result<Hyper> h = ReadHyper(model);
  if (!h.ok()) return h.error();
  Result<VocabSpec> spec = VocabSpecFromGguf(model);
  if (!spec.ok()) return Fail("%s: %s", model.path().c_str(), spec.error().message.c_str());
  Result<std::vector<Piece>> pieces = Pieces(model, *h, hf);
  if (!pieces.ok()) return pieces.error();
  const gguf::TensorInfo* embd = model.FindTensor("token_embd.weight");
  if (embd == nullptr || embd->dims.size() != 2) {
    return Fail("%s: no 2-D tensor 'token_embd.weight'", model.path().c_str());
  }
  const uint64_t vocab = embd->dims[1];

  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Fail("%s: cannot create: %s", dir.c_str(), ec.message().c_str());
  AUTAN_TRY(WriteWeights(*pieces, o, dir));
  const char* dtype = embd->type == DType::kF32   ? "float32"
                      : embd->type == DType::kF16 ? "float16"
                                                  : "bfloat16";
  const Json config = hf ? HfConfig(*h, vocab, *spec, dtype) : MistralParams(*h, vocab);
  AUTAN_TRY(WriteText(fs::path(dir) / (hf ? "config.json" : "params.json"), config.dump(2) + "\n"));
  return WriteTokenizer(model, *spec, hf, dir);
}

}  // namespace autan
