#include "model/synth.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <string_view>

#include "core/rng.h"
#include "formats/gguf_writer.h"
#include "kernels/quant.h"
#include "model/checkpoint_export.h"
#include "model/type_plan.h"
#include "tokenizer/vocab.h"

namespace autan {
namespace {

struct Shape {
  std::string_view name;
  int32_t dim, n_layers, n_heads, n_kv_heads, ffn_dim, context_length;
  int32_t head_dim = 0;  // 0: dim / n_heads
  float rope_freq_base = 10000.0f;
};

// 1b is TinyLlama's geometry; 7b is Mistral 7B's; nemo is Mistral Nemo's
// (12B: heads of 128 values, so n_heads * head_dim != dim, and RoPE base
// 1e6), nemo-tiny the same traits at test size.
constexpr Shape kShapes[] = {
    {"tiny", 256, 2, 4, 2, 512, 512},
    {"small", 512, 4, 8, 4, 1536, 1024},
    {"1b", 2048, 22, 32, 4, 5632, 2048},
    {"7b", 4096, 32, 32, 8, 14336, 32768},
    {"nemo-tiny", 256, 2, 4, 2, 512, 1024, 96, 1e6f},
    {"nemo", 5120, 40, 32, 8, 14336, 131072, 128, 1e6f},
};

uint64_t HashName(std::string_view s, uint64_t seed) {
  uint64_t h = 1469598103934665603ull ^ seed;
  for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  return h;
}

// Approximately normal values, cheaply: the sum of four 16-bit uniforms,
// centred and scaled to unit variance.
float NormalApprox(Rng& rng) {
  const uint64_t r = rng.Next();
  float sum = 0.0f;
  for (int i = 0; i < 4; ++i) sum += static_cast<float>((r >> (16 * i)) & 0xffff);
  return (sum / 65536.0f - 2.0f) * 1.7320508f;
}

class SynthWriter {
 public:
  SynthWriter(const SynthOptions& o, ThreadPool& pool) : options_(o), pool_(pool) {}

  // A matrix [rows][cols] of N(0, 1/cols) values: activations keep unit scale.
  // With n_stack > 0, that many such matrices stacked as a third dimension
  // (a mixture of experts' weights).
  void Matrix(gguf::Writer& w, const std::string& name, DType type, int64_t cols, int64_t rows,
              int64_t n_stack = 0) {
    const uint64_t seed = HashName(name, options_.seed);
    const size_t row_bytes = *RowBytes(type, static_cast<uint64_t>(cols));
    const float stddev = 1.0f / std::sqrt(static_cast<float>(cols));
    std::vector<uint64_t> dims = {static_cast<uint64_t>(cols), static_cast<uint64_t>(rows)};
    if (n_stack > 0) {
      dims.push_back(static_cast<uint64_t>(n_stack));
      rows *= n_stack;
    }
    w.AddTensor(name, type, dims,
                [this, seed, type, cols, rows, row_bytes, stddev](std::span<uint8_t> out) {
                  pool_.ParallelFor(static_cast<size_t>(rows), [&](size_t begin, size_t end) {
                    std::vector<float> row(static_cast<size_t>(cols));
                    for (size_t r = begin; r < end; ++r) {
                      Rng rng(seed + r * 0x9e3779b97f4a7c15ull);
                      for (float& v : row) v = NormalApprox(rng) * stddev;
                      kernels::QuantizeRow(type, row.data(), out.data() + r * row_bytes,
                                           row.size());
                    }
                  });
                });
  }

  // A norm gain vector, f32, uniform in [0.8, 1.2].
  void Norm(gguf::Writer& w, const std::string& name, int64_t n) {
    const uint64_t seed = HashName(name, options_.seed);
    w.AddTensor(name, DType::kF32, {static_cast<uint64_t>(n)}, [seed, n](std::span<uint8_t> out) {
      Rng rng(seed);
      float* v = reinterpret_cast<float*>(out.data());
      for (int64_t i = 0; i < n; ++i) v[i] = static_cast<float>(0.8 + 0.4 * rng.Uniform());
    });
  }

 private:
  const SynthOptions& options_;
  ThreadPool& pool_;
};

}  // namespace

std::vector<std::string> SynthShapeNames() {
  std::vector<std::string> names;
  for (const Shape& s : kShapes) names.emplace_back(s.name);
  return names;
}

std::vector<std::string> SynthTypeNames() { return TypePlanNames(); }

namespace {

// The vocabulary's token, score and type lists with `added` at the end.
Status AddControlTokens(const gguf::File& vocab, std::vector<std::string> tokens,
                        const std::vector<std::string>& added, gguf::Writer& w) {
  std::vector<float> scores(tokens.size(), 0.0f);
  if (vocab.Find("tokenizer.ggml.scores") != nullptr) {
    Result<std::vector<float>> s = vocab.GetFloatArray("tokenizer.ggml.scores");
    if (!s.ok() || s->size() != tokens.size()) return Fail("vocabulary: bad tokenizer.ggml.scores");
    scores = std::move(s).value();
  }
  std::vector<int32_t> types(tokens.size(), static_cast<int32_t>(TokenType::kNormal));
  if (vocab.Find("tokenizer.ggml.token_type") != nullptr) {
    Result<std::vector<int32_t>> t = vocab.GetIntArray("tokenizer.ggml.token_type");
    if (!t.ok() || t->size() != tokens.size()) {
      return Fail("vocabulary: bad tokenizer.ggml.token_type");
    }
    types = std::move(t).value();
  }
  for (const std::string& token : added) {
    if (token.empty() || std::find(tokens.begin(), tokens.end(), token) != tokens.end()) {
      return Fail("control token '%s' is empty or already in the vocabulary", token.c_str());
    }
    tokens.push_back(token);
    scores.push_back(0.0f);
    types.push_back(static_cast<int32_t>(TokenType::kControl));
  }
  w.SetStringArray("tokenizer.ggml.tokens", std::move(tokens));
  w.SetF32Array("tokenizer.ggml.scores", scores);
  w.SetI32Array("tokenizer.ggml.token_type", types);
  return {};
}

}  // namespace

namespace {

Status WriteSynthGguf(const SynthOptions& o, const gguf::File& vocab, const std::string& path,
                      ThreadPool& pool) {
  const Shape* shape = nullptr;
  for (const Shape& s : kShapes) shape = s.name == o.shape ? &s : shape;
  if (shape == nullptr) {
    return Fail("unknown shape '%s' (tiny, small, 1b, 7b, nemo-tiny, nemo)", o.shape.c_str());
  }
  const TypePlan* plan = FindTypePlan(o.type);
  if (plan == nullptr) return Fail("unknown type '%s'", o.type.c_str());
  if (o.sliding_window < 0) return Fail("sliding window must not be negative");
  for (int32_t lw : o.layer_windows) {
    if (lw < 0) return Fail("layer windows must not be negative");
  }
  if (o.arch != "llama" && o.arch != "mixtral") {
    return Fail("unknown architecture '%s' (llama, mixtral)", o.arch.c_str());
  }
  // Mixtral's routing: 8 experts, 2 per token.
  const int32_t n_expert = o.arch == "mixtral" ? 8 : 0;
  const int32_t n_expert_used = 2;

  Result<std::vector<std::string>> tokens = vocab.GetStringArray("tokenizer.ggml.tokens");
  if (!tokens.ok()) return Fail("vocabulary: %s", tokens.error().message.c_str());
  const int64_t n_vocab = static_cast<int64_t>(tokens->size() + o.control_tokens.size());

  gguf::Writer w;
  w.SetString("general.architecture", "llama");
  w.SetString("general.name",
              "autan-synth-" + (o.arch == "llama" ? "" : o.arch + "-") + o.shape + "-" + o.type);
  w.SetU32("general.file_type", plan->file_type);
  w.SetU32("llama.context_length", static_cast<uint32_t>(shape->context_length));
  w.SetU32("llama.embedding_length", static_cast<uint32_t>(shape->dim));
  w.SetU32("llama.block_count", static_cast<uint32_t>(shape->n_layers));
  w.SetU32("llama.feed_forward_length", static_cast<uint32_t>(shape->ffn_dim));
  const int32_t head_dim = shape->head_dim > 0 ? shape->head_dim : shape->dim / shape->n_heads;
  w.SetU32("llama.rope.dimension_count", static_cast<uint32_t>(head_dim));
  if (head_dim * shape->n_heads != shape->dim) {
    w.SetU32("llama.attention.key_length", static_cast<uint32_t>(head_dim));
    w.SetU32("llama.attention.value_length", static_cast<uint32_t>(head_dim));
  }
  w.SetU32("llama.attention.head_count", static_cast<uint32_t>(shape->n_heads));
  w.SetU32("llama.attention.head_count_kv", static_cast<uint32_t>(shape->n_kv_heads));
  w.SetF32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
  w.SetF32("llama.rope.freq_base", shape->rope_freq_base);
  w.SetU32("llama.vocab_size", static_cast<uint32_t>(n_vocab));
  if (!o.layer_windows.empty()) {
    w.SetI32Array("llama.attention.sliding_window", o.layer_windows);
  } else if (o.sliding_window > 0) {
    w.SetU32("llama.attention.sliding_window", static_cast<uint32_t>(o.sliding_window));
  }
  if (n_expert > 0) {
    w.SetU32("llama.expert_count", static_cast<uint32_t>(n_expert));
    w.SetU32("llama.expert_used_count", static_cast<uint32_t>(n_expert_used));
  }
  w.CopyMetadata(vocab, "tokenizer.");
  if (!o.control_tokens.empty()) AUTAN_TRY(AddControlTokens(vocab, *tokens, o.control_tokens, w));

  SynthWriter s(o, pool);
  const int64_t dim = shape->dim;
  const int64_t q_dim = int64_t{head_dim} * shape->n_heads;
  const int64_t kv_dim = int64_t{head_dim} * shape->n_kv_heads;
  const int64_t ffn = shape->ffn_dim;
  // Each tensor's type as the quantizer would choose it (model/type_plan.h).
  auto type = [&](const std::string& name) { return PlannedType(*plan, name, shape->n_layers); };
  s.Matrix(w, "token_embd.weight", type("token_embd.weight"), dim, n_vocab);
  for (int32_t i = 0; i < shape->n_layers; ++i) {
    const std::string b = "blk." + std::to_string(i) + ".";
    s.Norm(w, b + "attn_norm.weight", dim);
    s.Matrix(w, b + "attn_q.weight", type(b + "attn_q.weight"), dim, q_dim);
    s.Matrix(w, b + "attn_k.weight", type(b + "attn_k.weight"), dim, kv_dim);
    s.Matrix(w, b + "attn_v.weight", type(b + "attn_v.weight"), dim, kv_dim);
    s.Matrix(w, b + "attn_output.weight", type(b + "attn_output.weight"), q_dim, dim);
    s.Norm(w, b + "ffn_norm.weight", dim);
    if (n_expert > 0) {
      s.Matrix(w, b + "ffn_gate_inp.weight", DType::kF32, dim, n_expert);
      s.Matrix(w, b + "ffn_gate_exps.weight", type(b + "ffn_gate_exps.weight"), dim, ffn, n_expert);
      s.Matrix(w, b + "ffn_up_exps.weight", type(b + "ffn_up_exps.weight"), dim, ffn, n_expert);
      s.Matrix(w, b + "ffn_down_exps.weight", type(b + "ffn_down_exps.weight"), ffn, dim, n_expert);
      continue;
    }
    s.Matrix(w, b + "ffn_gate.weight", type(b + "ffn_gate.weight"), dim, ffn);
    s.Matrix(w, b + "ffn_up.weight", type(b + "ffn_up.weight"), dim, ffn);
    s.Matrix(w, b + "ffn_down.weight", type(b + "ffn_down.weight"), ffn, dim);
  }
  s.Norm(w, "output_norm.weight", dim);
  s.Matrix(w, "output.weight", type("output.weight"), dim, n_vocab);
  return w.Write(path);
}

}  // namespace

Status WriteSynthModel(const SynthOptions& o, const gguf::File& vocab, const std::string& path,
                       ThreadPool& pool) {
  if (o.shards != 1 && o.format != "safetensors") {
    return Fail("--shards applies to the safetensors format only");
  }
  if (o.format == "gguf") return WriteSynthGguf(o, vocab, path, pool);
  if (o.format != "safetensors" && o.format != "consolidated") {
    return Fail("unknown format '%s' (gguf, safetensors, consolidated)", o.format.c_str());
  }
  if (o.type != "f32" && o.type != "f16" && o.type != "bf16") {
    return Fail("type '%s': a %s folder holds f32, f16 or bf16 weights", o.type.c_str(),
                o.format.c_str());
  }
  // The GGUF file first, then the folder from it: one source of weights.
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec) return Fail("%s: cannot create: %s", path.c_str(), ec.message().c_str());
  const std::string staging = (fs::path(path) / ".synth.gguf").string();
  Status status = WriteSynthGguf(o, vocab, staging, pool);
  if (status.ok()) {
    Result<gguf::File> model = gguf::File::Open(staging);
    status = model.ok()
                 ? ExportCheckpoint(*model,
                                    {o.format == "safetensors" ? CheckpointLayout::kHuggingFace
                                                               : CheckpointLayout::kMistral,
                                     o.shards},
                                    path)
                 : Status(model.error());
  }
  fs::remove(staging, ec);
  return status;
}

}  // namespace autan
