#include "formats/checkpoint.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <vector>

#include "core/fp16.h"
#include "formats/safetensors.h"

namespace autan {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

// The hyperparameters both layouts describe, in GGUF's terms.
struct Hyper {
  int64_t dim = 0, n_layers = 0, n_heads = 0, n_kv_heads = 0, head_dim = 0, ffn = 0, vocab = 0;
  int64_t context = 0, n_expert = 0, n_expert_used = 0;
  double norm_eps = 0, rope_theta = 10000.0;
  std::vector<int64_t> windows;  // empty: full attention; one: every layer; more: cycled
  bool tied = false;             // HF tie_word_embeddings: no separate LM head
};

// Reads the fields of one JSON file, naming the file and field in errors.
class Fields {
 public:
  Fields(const Json& j, std::string file) : j_(j), file_(std::move(file)) {}

  Result<int64_t> Int(const char* key, int64_t lo, int64_t hi) const {
    const auto it = j_.find(key);
    if (it == j_.end() || it->is_null())
      return Fail("%s: field '%s' is missing", file_.c_str(), key);
    return Check(*it, key, lo, hi);
  }
  Result<int64_t> IntOr(const char* key, int64_t fallback, int64_t lo, int64_t hi) const {
    const auto it = j_.find(key);
    if (it == j_.end() || it->is_null()) return fallback;
    return Check(*it, key, lo, hi);
  }
  Result<double> Number(const char* key, std::optional<double> fallback) const {
    const auto it = j_.find(key);
    if (it == j_.end() || it->is_null()) {
      if (fallback) return *fallback;
      return Fail("%s: field '%s' is missing", file_.c_str(), key);
    }
    if (!it->is_number() || !(it->get<double>() > 0) || !std::isfinite(it->get<double>())) {
      return Fail("%s: field '%s' must be a positive number", file_.c_str(), key);
    }
    return it->get<double>();
  }
  // An int, or a list of ints cycled over the layers (Mistral's
  // sliding_window); null or absent: none.
  Result<std::vector<int64_t>> Windows(const char* key) const {
    const auto it = j_.find(key);
    std::vector<int64_t> out;
    if (it == j_.end() || it->is_null()) return out;
    if (it->is_array()) {
      if (it->empty() || it->size() > 4096) {
        return Fail("%s: field '%s' must list 1 to 4096 windows", file_.c_str(), key);
      }
      for (const Json& w : *it) {
        Result<int64_t> v = Check(w, key, 0, int64_t{1} << 30);
        if (!v.ok()) return v.error();
        out.push_back(*v);
      }
      return out;
    }
    Result<int64_t> v = Check(*it, key, 0, int64_t{1} << 30);
    if (!v.ok()) return v.error();
    out.push_back(*v);
    return out;
  }
  bool Bool(const char* key) const {
    const auto it = j_.find(key);
    return it != j_.end() && it->is_boolean() && it->get<bool>();
  }
  const Json& json() const { return j_; }
  const std::string& file() const { return file_; }

 private:
  Result<int64_t> Check(const Json& v, const char* key, int64_t lo, int64_t hi) const {
    if (!v.is_number_integer())
      return Fail("%s: field '%s' must be an integer", file_.c_str(), key);
    const int64_t x = v.get<int64_t>();
    if (x < lo || x > hi) {
      return Fail("%s: field '%s' = %lld is outside %lld..%lld", file_.c_str(), key,
                  static_cast<long long>(x), static_cast<long long>(lo),
                  static_cast<long long>(hi));
    }
    return x;
  }
  const Json& j_;
  std::string file_;
};

Result<Json> ReadJson(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail("%s: cannot open", path.c_str());
  std::stringstream text;
  text << in.rdbuf();
  if (text.str().size() > (size_t{16} << 20)) return Fail("%s: larger than 16 MiB", path.c_str());
  try {
    Json j = Json::parse(text.str());
    if (!j.is_object()) return Fail("%s: not a JSON object", path.c_str());
    return j;
  } catch (const Json::exception& e) {  // parse_error, and out_of_range for 1e400
    return Fail("%s: malformed JSON: %s", path.c_str(), e.what());
  }
}

constexpr int64_t kMaxWidth = int64_t{1} << 20;

// What each layout calls the hyperparameters both describe.
struct FieldNames {
  const char *dim, *n_layers, *n_heads, *n_kv_heads, *ffn, *context, *norm_eps;
  int64_t default_context;
};
constexpr FieldNames kParamsFields = {"dim",        "n_layers",    "n_heads",  "n_kv_heads",
                                      "hidden_dim", "max_seq_len", "norm_eps", 32768};
constexpr FieldNames kHfFields = {
    "hidden_size",       "num_hidden_layers",       "num_attention_heads", "num_key_value_heads",
    "intermediate_size", "max_position_embeddings", "rms_norm_eps",        4096};

Result<Hyper> ReadHyper(const Fields& f, const FieldNames& n) {
  Hyper h;
  auto get = [&](int64_t& out, Result<int64_t> r) -> Status {
    if (!r.ok()) return r.error();
    out = *r;
    return {};
  };
  AUTAN_TRY(get(h.dim, f.Int(n.dim, 1, kMaxWidth)));
  AUTAN_TRY(get(h.n_layers, f.Int(n.n_layers, 1, 1024)));
  AUTAN_TRY(get(h.n_heads, f.Int(n.n_heads, 1, 1024)));
  AUTAN_TRY(get(h.n_kv_heads, f.IntOr(n.n_kv_heads, h.n_heads, 1, h.n_heads)));
  AUTAN_TRY(get(h.head_dim, f.IntOr("head_dim", h.dim / h.n_heads, 2, 1024)));
  AUTAN_TRY(get(h.ffn, f.Int(n.ffn, 1, kMaxWidth)));
  AUTAN_TRY(get(h.vocab, f.Int("vocab_size", 1, int64_t{1} << 22)));
  AUTAN_TRY(get(h.context, f.IntOr(n.context, n.default_context, 1, int64_t{1} << 24)));
  Result<double> eps = f.Number(n.norm_eps, std::nullopt);
  if (!eps.ok()) return eps.error();
  h.norm_eps = *eps;
  Result<double> theta = f.Number("rope_theta", 10000.0);
  if (!theta.ok()) return theta.error();
  h.rope_theta = *theta;
  Result<std::vector<int64_t>> windows = f.Windows("sliding_window");
  if (!windows.ok()) return windows.error();
  h.windows = std::move(windows).value();
  return h;
}

Result<Hyper> FromParams(const Fields& f) {
  Result<Hyper> h = ReadHyper(f, kParamsFields);
  if (!h.ok()) return h;
  const auto moe = f.json().find("moe");
  if (moe != f.json().end() && !moe->is_null()) {
    if (!moe->is_object()) return Fail("%s: field 'moe' must be an object", f.file().c_str());
    const Fields m(*moe, f.file() + " moe");
    Result<int64_t> n = m.Int("num_experts", 1, 256);
    if (!n.ok()) return n.error();
    Result<int64_t> k = m.Int("num_experts_per_tok", 1, *n);
    if (!k.ok()) return k.error();
    h->n_expert = *n;
    h->n_expert_used = *k;
  }
  return h;
}

Result<Hyper> FromHfConfig(const Fields& f) {
  const auto archs = f.json().find("architectures");
  std::string arch;
  if (archs != f.json().end() && archs->is_array() && !archs->empty() && (*archs)[0].is_string()) {
    arch = (*archs)[0].get<std::string>();
  }
  if (arch != "MistralForCausalLM" && arch != "LlamaForCausalLM" && arch != "MixtralForCausalLM") {
    return Fail(
        "%s: field 'architectures' is '%s'; supported: MistralForCausalLM, "
        "LlamaForCausalLM, MixtralForCausalLM",
        f.file().c_str(), arch.c_str());
  }
  Result<Hyper> h = ReadHyper(f, kHfFields);
  if (!h.ok()) return h;
  h->tied = f.Bool("tie_word_embeddings");
  if (arch == "MixtralForCausalLM") {
    Result<int64_t> n = f.Int("num_local_experts", 1, 256);
    if (!n.ok()) return n.error();
    Result<int64_t> k = f.Int("num_experts_per_tok", 1, *n);
    if (!k.ok()) return k.error();
    h->n_expert = *n;
    h->n_expert_used = *k;
  }
  return h;
}

std::vector<std::pair<std::string, gguf::Value>> Metadata(const Hyper& h, const std::string& name) {
  using gguf::Value;
  auto u32 = [](int64_t v) { return Value::U32(static_cast<uint32_t>(v)); };
  std::vector<std::pair<std::string, Value>> m = {
      {"general.architecture", Value::String("llama")},
      {"general.name", Value::String(name)},
      {"llama.context_length", u32(h.context)},
      {"llama.embedding_length", u32(h.dim)},
      {"llama.block_count", u32(h.n_layers)},
      {"llama.feed_forward_length", u32(h.ffn)},
      {"llama.rope.dimension_count", u32(h.head_dim)},
      {"llama.attention.head_count", u32(h.n_heads)},
      {"llama.attention.head_count_kv", u32(h.n_kv_heads)},
      {"llama.attention.layer_norm_rms_epsilon", Value::F32(static_cast<float>(h.norm_eps))},
      {"llama.rope.freq_base", Value::F32(static_cast<float>(h.rope_theta))},
      {"llama.vocab_size", u32(h.vocab)},
  };
  if (h.head_dim * h.n_heads != h.dim) {
    m.emplace_back("llama.attention.key_length", u32(h.head_dim));
    m.emplace_back("llama.attention.value_length", u32(h.head_dim));
  }
  if (h.windows.size() == 1 && h.windows[0] > 0) {
    m.emplace_back("llama.attention.sliding_window", u32(h.windows[0]));
  } else if (h.windows.size() > 1) {
    std::vector<int32_t> w(h.windows.begin(), h.windows.end());
    m.emplace_back("llama.attention.sliding_window", Value::I32Array(w));
  }
  if (h.n_expert > 0) {
    m.emplace_back("llama.expert_count", u32(h.n_expert));
    m.emplace_back("llama.expert_used_count", u32(h.n_expert_used));
  }
  return m;
}

std::string ShapeString(const std::vector<uint64_t>& shape) {
  std::string s;
  for (uint64_t d : shape) s += (s.empty() ? "" : ", ") + std::to_string(d);
  return "[" + s + "]";
}

// How one GGUF tensor comes from the checkpoint.
enum class Conversion { kView, kNormToF32, kUnpairHeads };

class ViewBuilder {
 public:
  ViewBuilder(const safetensors::Checkpoint& ckpt, std::string where)
      : ckpt_(ckpt), where_(std::move(where)) {}

  // `source` [rows][cols] (a vector when rows == 0) becomes GGUF tensor
  // `name`; kUnpairHeads takes `heads` heads of `rows / heads` rows each.
  Status Add(const std::string& name, const std::string& source, int64_t rows, int64_t cols,
             Conversion how = Conversion::kView, int64_t heads = 0) {
    const safetensors::TensorInfo* t = ckpt_.FindTensor(source);
    if (t == nullptr) return Fail("%s: missing tensor '%s'", where_.c_str(), source.c_str());
    const std::vector<uint64_t> want =
        rows == 0 ? std::vector<uint64_t>{static_cast<uint64_t>(cols)}
                  : std::vector<uint64_t>{static_cast<uint64_t>(rows), static_cast<uint64_t>(cols)};
    if (t->shape != want) {
      return Fail("%s: tensor '%s' has shape %s, expected %s", where_.c_str(), source.c_str(),
                  ShapeString(t->shape).c_str(), ShapeString(want).c_str());
    }
    if (!t->type) {
      return Fail("%s: tensor '%s' has dtype %s; weights must be F32, F16 or BF16", where_.c_str(),
                  source.c_str(), t->dtype.c_str());
    }
    gguf::TensorInfo g;
    g.name = name;
    g.type = *t->type;
    g.dims = rows == 0
                 ? std::vector<uint64_t>{static_cast<uint64_t>(cols)}
                 : std::vector<uint64_t>{static_cast<uint64_t>(cols), static_cast<uint64_t>(rows)};
    g.n_elements = t->n_elements;
    g.n_bytes = t->n_bytes;
    g.data = t->data;
    if (how == Conversion::kNormToF32) {
      auto out = std::make_shared<std::vector<uint8_t>>(static_cast<size_t>(cols) * 4);
      for (int64_t i = 0; i < cols; ++i) {
        float v = 0;
        if (g.type == DType::kF32) {
          std::memcpy(&v, t->data + 4 * i, 4);
        } else {
          uint16_t b;
          std::memcpy(&b, t->data + 2 * i, 2);
          v = g.type == DType::kF16 ? Fp16ToFp32(b) : Bf16ToFp32(b);
        }
        std::memcpy(out->data() + 4 * i, &v, 4);
      }
      g.type = DType::kF32;
      g.n_bytes = out->size();
      g.data = out->data();
      keep_.push_back(std::move(out));
    } else if (how == Conversion::kUnpairHeads) {
      // Within each head, HF row j * half + i holds what RoPE pairs as row
      // 2i + j in GGUF (and Mistral's) order.
      const int64_t head_rows = rows / heads;
      const int64_t half = head_rows / 2;
      const size_t row_bytes = t->n_bytes / static_cast<size_t>(rows);
      auto out = std::make_shared<std::vector<uint8_t>>(t->n_bytes);
      for (int64_t h = 0; h < heads; ++h) {
        for (int64_t i = 0; i < half; ++i) {
          for (int64_t j = 0; j < 2; ++j) {
            std::memcpy(out->data() + static_cast<size_t>(h * head_rows + 2 * i + j) * row_bytes,
                        t->data + static_cast<size_t>(h * head_rows + j * half + i) * row_bytes,
                        row_bytes);
          }
        }
      }
      g.data = out->data();
      keep_.push_back(std::move(out));
    }
    tensors_.push_back(std::move(g));
    return {};
  }
  bool Has(const std::string& source) const { return ckpt_.FindTensor(source) != nullptr; }

  std::vector<gguf::TensorInfo> TakeTensors() { return std::move(tensors_); }
  std::vector<std::shared_ptr<const void>> TakeKeepAlive() { return std::move(keep_); }

 private:
  const safetensors::Checkpoint& ckpt_;
  std::string where_;
  std::vector<gguf::TensorInfo> tensors_;
  std::vector<std::shared_ptr<const void>> keep_;
};

// Tensor names of each layout, for layer i (and expert e).
struct Names {
  std::string embed, norm, output;
  std::string (*layer)(int64_t i, const char* what);
  std::string (*expert)(int64_t i, int64_t e, const char* w);
};

std::string MistralLayer(int64_t i, const char* what) {
  return "layers." + std::to_string(i) + "." + what;
}
std::string MistralExpert(int64_t i, int64_t e, const char* w) {
  return "layers." + std::to_string(i) + ".feed_forward.experts." + std::to_string(e) + "." + w +
         ".weight";
}
std::string HfLayer(int64_t i, const char* what) {
  return "model.layers." + std::to_string(i) + "." + what;
}
std::string HfExpert(int64_t i, int64_t e, const char* w) {
  return "model.layers." + std::to_string(i) + ".block_sparse_moe.experts." + std::to_string(e) +
         "." + w + ".weight";
}

Status AddTensors(ViewBuilder& b, const Hyper& h, CheckpointLayout layout) {
  const bool hf = layout == CheckpointLayout::kHuggingFace;
  const int64_t q_rows = h.n_heads * h.head_dim;
  const int64_t kv_rows = h.n_kv_heads * h.head_dim;
  auto layer = hf ? HfLayer : MistralLayer;
  auto expert = hf ? HfExpert : MistralExpert;
  AUTAN_TRY(b.Add("token_embd.weight", hf ? "model.embed_tokens.weight" : "tok_embeddings.weight",
                  h.vocab, h.dim));
  AUTAN_TRY(b.Add("output_norm.weight", hf ? "model.norm.weight" : "norm.weight", 0, h.dim,
                  Conversion::kNormToF32));
  const std::string head = hf ? "lm_head.weight" : "output.weight";
  if (!h.tied || b.Has(head)) AUTAN_TRY(b.Add("output.weight", head, h.vocab, h.dim));
  const Conversion pairs = hf ? Conversion::kUnpairHeads : Conversion::kView;
  for (int64_t i = 0; i < h.n_layers; ++i) {
    const std::string g = "blk." + std::to_string(i) + ".";
    AUTAN_TRY(b.Add(g + "attn_norm.weight",
                    layer(i, hf ? "input_layernorm.weight" : "attention_norm.weight"), 0, h.dim,
                    Conversion::kNormToF32));
    AUTAN_TRY(b.Add(g + "attn_q.weight",
                    layer(i, hf ? "self_attn.q_proj.weight" : "attention.wq.weight"), q_rows, h.dim,
                    pairs, h.n_heads));
    AUTAN_TRY(b.Add(g + "attn_k.weight",
                    layer(i, hf ? "self_attn.k_proj.weight" : "attention.wk.weight"), kv_rows,
                    h.dim, pairs, h.n_kv_heads));
    AUTAN_TRY(b.Add(g + "attn_v.weight",
                    layer(i, hf ? "self_attn.v_proj.weight" : "attention.wv.weight"), kv_rows,
                    h.dim));
    AUTAN_TRY(b.Add(g + "attn_output.weight",
                    layer(i, hf ? "self_attn.o_proj.weight" : "attention.wo.weight"), h.dim,
                    q_rows));
    AUTAN_TRY(b.Add(g + "ffn_norm.weight",
                    layer(i, hf ? "post_attention_layernorm.weight" : "ffn_norm.weight"), 0, h.dim,
                    Conversion::kNormToF32));
    if (h.n_expert > 0) {
      AUTAN_TRY(b.Add(g + "ffn_gate_inp.weight",
                      layer(i, hf ? "block_sparse_moe.gate.weight" : "feed_forward.gate.weight"),
                      h.n_expert, h.dim));
      // One tensor per expert, as llama.cpp's first Mixtral files had them.
      for (int64_t e = 0; e < h.n_expert; ++e) {
        const std::string n = std::to_string(e);
        AUTAN_TRY(b.Add(g + "ffn_gate." + n + ".weight", expert(i, e, "w1"), h.ffn, h.dim));
        AUTAN_TRY(b.Add(g + "ffn_down." + n + ".weight", expert(i, e, "w2"), h.dim, h.ffn));
        AUTAN_TRY(b.Add(g + "ffn_up." + n + ".weight", expert(i, e, "w3"), h.ffn, h.dim));
      }
      continue;
    }
    AUTAN_TRY(b.Add(g + "ffn_gate.weight",
                    layer(i, hf ? "mlp.gate_proj.weight" : "feed_forward.w1.weight"), h.ffn,
                    h.dim));
    AUTAN_TRY(b.Add(g + "ffn_down.weight",
                    layer(i, hf ? "mlp.down_proj.weight" : "feed_forward.w2.weight"), h.dim,
                    h.ffn));
    AUTAN_TRY(b.Add(g + "ffn_up.weight",
                    layer(i, hf ? "mlp.up_proj.weight" : "feed_forward.w3.weight"), h.ffn, h.dim));
  }
  return {};
}

// tokenizer_config.json, when the folder has one: chat_template is a
// string, or a list of {"name", "template"} of which the "default" one is the
// chat template; add_bos_token / add_eos_token are true or false.
Result<TokenizerConfig> ReadTokenizerConfig(const fs::path& root) {
  TokenizerConfig c;
  const fs::path path = root / "tokenizer_config.json";
  std::error_code ec;
  if (!fs::exists(path, ec)) return c;
  Result<Json> config = ReadJson(path);
  if (!config.ok()) return config.error();
  for (auto [key, flag] : {std::pair{"add_bos_token", &c.add_bos}, {"add_eos_token", &c.add_eos}}) {
    const auto it = config->find(key);
    if (it == config->end() || it->is_null()) continue;
    if (!it->is_boolean()) return Fail("%s: field '%s' must be true or false", path.c_str(), key);
    *flag = it->get<bool>();
  }
  const auto it = config->find("chat_template");
  if (it == config->end() || it->is_null()) return c;
  if (it->is_string()) {
    c.chat_template = it->get<std::string>();
    return c;
  }
  if (it->is_array()) {
    for (const Json& entry : *it) {
      if (entry.is_object() && entry.value("name", Json()) == "default" &&
          entry.value("template", Json()).is_string()) {
        c.chat_template = entry["template"].get<std::string>();
        return c;
      }
    }
  }
  return Fail("%s: chat_template: expected a string or a list holding a \"default\" template",
              path.c_str());
}

}  // namespace

bool IsCheckpointFolder(const std::string& path) {
  std::error_code ec;
  return fs::is_directory(path, ec) && (fs::exists(fs::path(path) / "params.json", ec) ||
                                        fs::exists(fs::path(path) / "config.json", ec));
}

Result<CheckpointView> OpenCheckpoint(const std::string& dir) {
  const fs::path root(dir);
  std::error_code ec;
  const CheckpointLayout layout = fs::exists(root / "params.json", ec)
                                      ? CheckpointLayout::kMistral
                                      : CheckpointLayout::kHuggingFace;
  const bool hf = layout == CheckpointLayout::kHuggingFace;
  const fs::path config_path = root / (hf ? "config.json" : "params.json");
  Result<Json> config = ReadJson(config_path);
  if (!config.ok()) return config.error();
  const Fields fields(*config, config_path.string());
  Result<Hyper> h = hf ? FromHfConfig(fields) : FromParams(fields);
  if (!h.ok()) return h.error();
  if (h->head_dim % 2 != 0) {
    return Fail("%s: the head dimension %lld must be even", config_path.c_str(),
                static_cast<long long>(h->head_dim));
  }

  // Mistral's folders may hold both layouts' weights; each reads its own.
  const fs::path weights_path = !hf ? root / "consolidated.safetensors"
                                : fs::exists(root / "model.safetensors.index.json", ec)
                                    ? root / "model.safetensors.index.json"
                                    : root / "model.safetensors";
  Result<safetensors::Checkpoint> weights = safetensors::Checkpoint::Open(weights_path.string());
  if (!weights.ok()) return weights.error();
  auto ckpt = std::make_shared<safetensors::Checkpoint>(std::move(weights).value());
  ViewBuilder b(*ckpt, dir);
  AUTAN_TRY(AddTensors(b, *h, layout));
  std::vector<std::shared_ptr<const void>> keep = b.TakeKeepAlive();
  keep.push_back(ckpt);
  Result<TokenizerConfig> tokenizer_config = ReadTokenizerConfig(root);
  if (!tokenizer_config.ok()) return tokenizer_config.error();
  std::vector<std::pair<std::string, gguf::Value>> metadata =
      Metadata(*h, root.filename().string());
  // Mistral's layout carries no template: its tokenizer's format applies.
  if (hf && tokenizer_config->chat_template) {
    metadata.emplace_back("tokenizer.chat_template",
                          gguf::Value::String(*tokenizer_config->chat_template));
  }
  Result<gguf::File> file =
      gguf::File::Compose(dir, std::move(metadata), b.TakeTensors(), std::move(keep));
  if (!file.ok()) return file.error();
  std::string tokenizer;
  for (const char* name :
       {"tekken.json", "tokenizer.model.v3", "tokenizer.model", "tokenizer.json"}) {
    if (fs::exists(root / name, ec)) {
      tokenizer = (root / name).string();
      break;
    }
  }
  return CheckpointView{layout, std::move(file).value(), std::move(tokenizer),
                        std::move(tokenizer_config).value()};
}

}  // namespace autan
