// Llama / Mistral / Mixtral: pre-norm decoder with RMSNorm, rotary embeddings
// on adjacent pairs, grouped-query attention (optionally over a sliding
// window, as Mistral 7B v0.1) and a SwiGLU feed-forward block, dense or a
// sparse mixture of experts (Mixtral, model/moe.h).
#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "kernels/attention.h"
#include "kernels/matmul.h"
#include "kernels/ops.h"
#include "kernels/quant.h"
#include "model/architecture.h"
#include "model/moe.h"
#include "model/weights.h"

namespace autan {
namespace {

struct LlamaLayer {
  Tensor attn_norm;               // [dim]
  Tensor wq;                      // [q_dim][dim]
  Tensor wk;                      // [kv_dim][dim]
  Tensor wv;                      // [kv_dim][dim]
  Tensor wo;                      // [dim][q_dim]
  Tensor ffn_norm;                // [dim]
  Tensor w_gate;                  // [ffn_dim][dim]
  Tensor w_up;                    // [ffn_dim][dim]
  Tensor w_down;                  // [dim][ffn_dim]
  std::optional<MoeWeights> moe;  // instead of w_gate/w_up/w_down in a Mixtral layer
};

struct LlamaWeights {
  Tensor token_embd;   // [n_vocab][dim]
  Tensor output_norm;  // [dim]
  Tensor output;       // [n_vocab][dim]; the embedding itself when the file ties them
  std::vector<LlamaLayer> layers;
};

Status ReadLlamaConfig(const gguf::File& file, ModelConfig& c) {
  const std::string p = c.architecture + ".";
  Result<int32_t> dim = ReadCount(file, p + "embedding_length");
  if (!dim.ok()) return dim.error();
  Result<int32_t> layers = ReadCount(file, p + "block_count");
  if (!layers.ok()) return layers.error();
  Result<int32_t> heads = ReadCount(file, p + "attention.head_count");
  if (!heads.ok()) return heads.error();
  Result<int32_t> ffn = ReadCount(file, p + "feed_forward_length");
  if (!ffn.ok()) return ffn.error();
  c.dim = *dim;
  c.n_layers = *layers;
  c.n_heads = *heads;
  c.ffn_dim = *ffn;
  c.n_kv_heads = ReadCountOr(file, p + "attention.head_count_kv", c.n_heads);
  c.head_dim = c.n_heads > 0 && c.dim % c.n_heads == 0 ? c.dim / c.n_heads : -1;
  c.head_dim = ReadCountOr(file, p + "attention.key_length", c.head_dim);
  c.rope_dims = ReadCountOr(file, p + "rope.dimension_count", c.head_dim);
  c.rope_freq_base = ReadFloatOr(file, p + "rope.freq_base", 10000.0f);
  c.norm_eps = ReadFloatOr(file, p + "attention.layer_norm_rms_epsilon", 1e-5f);
  c.context_length = ReadCountOr(file, p + "context_length", 4096);
  const std::string window_key = p + "attention.sliding_window";
  const gguf::Value* window = file.Find(window_key);
  if (c.sliding_window < 0 && window != nullptr && window->is_array()) {
    // One window per layer, cycled (0: that layer sees everything).
    Result<std::vector<int32_t>> windows = file.GetIntArray(window_key);
    if (!windows.ok()) return windows.error();
    if (windows->empty()) return Fail("%s is an empty array", window_key.c_str());
    c.layer_windows = std::move(windows).value();
    const bool all_windowed = std::all_of(c.layer_windows.begin(), c.layer_windows.end(),
                                          [](int32_t w) { return w > 0; });
    c.sliding_window =
        all_windowed ? *std::max_element(c.layer_windows.begin(), c.layer_windows.end()) : 0;
  } else if (c.sliding_window < 0) {
    c.sliding_window = ReadCountOr(file, window_key, 0);
  }
  c.n_expert = ReadCountOr(file, p + "expert_count", 0);
  c.n_expert_used = ReadCountOr(file, p + "expert_used_count", 0);
  return {};
}

Result<LlamaWeights> BindLlamaWeights(const gguf::File& file, const ModelConfig& c) {
  LlamaWeights w;
  auto bind = [&](const std::string& name, int64_t cols, int64_t rows, Tensor& out) -> Status {
    Result<Tensor> t = BindTensor(file, name, cols, rows);
    if (!t.ok()) return t.error();
    out = *t;
    return {};
  };
  AUTAN_TRY(bind("token_embd.weight", c.dim, c.n_vocab, w.token_embd));
  AUTAN_TRY(bind("output_norm.weight", c.dim, 1, w.output_norm));
  if (HasTensor(file, "output.weight")) {
    AUTAN_TRY(bind("output.weight", c.dim, c.n_vocab, w.output));
  } else {
    w.output = w.token_embd;
  }
  w.layers.resize(static_cast<size_t>(c.n_layers));
  for (int32_t i = 0; i < c.n_layers; ++i) {
    const std::string b = "blk." + std::to_string(i) + ".";
    LlamaLayer& l = w.layers[static_cast<size_t>(i)];
    AUTAN_TRY(bind(b + "attn_norm.weight", c.dim, 1, l.attn_norm));
    AUTAN_TRY(bind(b + "attn_q.weight", c.dim, c.q_dim(), l.wq));
    AUTAN_TRY(bind(b + "attn_k.weight", c.dim, c.kv_dim(), l.wk));
    AUTAN_TRY(bind(b + "attn_v.weight", c.dim, c.kv_dim(), l.wv));
    AUTAN_TRY(bind(b + "attn_output.weight", c.q_dim(), c.dim, l.wo));
    AUTAN_TRY(bind(b + "ffn_norm.weight", c.dim, 1, l.ffn_norm));
    if (c.n_expert > 0) {
      Result<MoeWeights> moe =
          BindMoeWeights(file, b, c.dim, c.ffn_dim, c.n_expert, c.n_expert_used);
      if (!moe.ok()) return moe.error();
      l.moe = std::move(moe).value();
      continue;
    }
    AUTAN_TRY(bind(b + "ffn_gate.weight", c.dim, c.ffn_dim, l.w_gate));
    AUTAN_TRY(bind(b + "ffn_up.weight", c.dim, c.ffn_dim, l.w_up));
    AUTAN_TRY(bind(b + "ffn_down.weight", c.ffn_dim, c.dim, l.w_down));
  }
  return w;
}

class Llama final : public Architecture {
 public:
  Llama(const ModelConfig& config, LlamaWeights weights) : c_(config), w_(std::move(weights)) {}

  void Forward(const ForwardArgs& a) const override {
    const size_t n = a.batch.size();
    ForwardScratch& s = a.scratch;
    Reserve(s, n);

    const size_t rope_table = 2 * static_cast<size_t>(c_.rope_dims);
    for (size_t t = 0; t < n; ++t) {
      Embed(a.batch.tokens[t], &s.x[t * c_.dim]);
      // Angles depend only on the position: one table per token serves every layer.
      kernels::RopeAngles(a.batch.positions[t], c_.rope_dims, c_.rope_freq_base,
                          &s.rope[t * rope_table]);
    }

    for (int32_t l = 0; l < c_.n_layers; ++l) {
      const LlamaLayer& layer = w_.layers[static_cast<size_t>(l)];
      // Attention block: x += Wo · Attention(RoPE(Wq·norm(x)), RoPE(Wk·norm(x)), Wv·norm(x))
      for (size_t t = 0; t < n; ++t) {
        kernels::RmsNorm(&s.x[t * c_.dim], layer.attn_norm.F32(), &s.xb[t * c_.dim], c_.dim,
                         c_.norm_eps);
      }
      MatMul(layer.wq, s.xb.data(), n, s.q.data(), a);
      MatMul(layer.wk, s.xb.data(), n, s.k.data(), a);
      MatMul(layer.wv, s.xb.data(), n, s.v.data(), a);
      for (size_t t = 0; t < n; ++t) {
        const float* angles = &s.rope[t * rope_table];
        kernels::RopeAdjacentPairs(&s.q[t * c_.q_dim()], c_.n_heads, c_.head_dim, c_.rope_dims,
                                   angles);
        kernels::RopeAdjacentPairs(&s.k[t * c_.kv_dim()], c_.n_kv_heads, c_.head_dim, c_.rope_dims,
                                   angles);
        StoreKv(a, l, t);
      }
      Attend(a, l);
      MatMul(layer.wo, s.att.data(), n, s.out.data(), a);
      kernels::Add(s.x.data(), s.out.data(), n * c_.dim);

      // Feed-forward block: x += Wdown · (silu(Wgate·norm(x)) ⊙ Wup·norm(x)),
      // or the routed experts' weighted sum of that (Mixtral).
      for (size_t t = 0; t < n; ++t) {
        kernels::RmsNorm(&s.x[t * c_.dim], layer.ffn_norm.F32(), &s.xb[t * c_.dim], c_.dim,
                         c_.norm_eps);
      }
      if (layer.moe) {
        MoeFeedForward(*layer.moe, s.xb.data(), n, c_.dim, c_.ffn_dim, s.out.data(), s, a.pool);
      } else {
        MatMul(layer.w_gate, s.xb.data(), n, s.hb.data(), a);
        MatMul(layer.w_up, s.xb.data(), n, s.hb2.data(), a);
        kernels::SwiGlu(s.hb.data(), s.hb2.data(), n * c_.ffn_dim);
        MatMul(layer.w_down, s.hb.data(), n, s.out.data(), a);
      }
      kernels::Add(s.x.data(), s.out.data(), n * c_.dim);
    }

    // Outputs only for the tokens that asked for them (usually the last one).
    size_t m = 0;
    for (size_t t = 0; t < n; ++t) {
      if (!a.batch.want_logits[t]) continue;
      kernels::RmsNorm(&s.x[t * c_.dim], w_.output_norm.F32(), &s.xb[m * c_.dim], c_.dim,
                       c_.norm_eps);
      ++m;
    }
    if (a.hidden != nullptr) std::copy_n(s.xb.data(), m * c_.dim, a.hidden);
    if (m > 0 && a.logits != nullptr) MatMul(w_.output, s.xb.data(), m, a.logits, a);
  }

 private:
  void Reserve(ForwardScratch& s, size_t n) const {
    s.x.resize(n * c_.dim);
    s.xb.resize(n * c_.dim);
    s.out.resize(n * c_.dim);
    s.q.resize(n * c_.q_dim());
    s.att.resize(n * c_.q_dim());
    s.k.resize(n * c_.kv_dim());
    s.v.resize(n * c_.kv_dim());
    s.hb.resize(n * c_.ffn_dim);
    s.hb2.resize(n * c_.ffn_dim);
    s.rope.resize(n * 2 * static_cast<size_t>(c_.rope_dims));
  }

  void Embed(int32_t token, float* out) const {
    kernels::DequantizeRow(w_.token_embd.type, w_.token_embd.Row(token), out, c_.dim);
  }

  void MatMul(const Tensor& w, const float* x, size_t n, float* y, const ForwardArgs& a) const {
    kernels::MatMul(w.type, w.data, static_cast<size_t>(w.rows), static_cast<size_t>(w.cols), x, n,
                    y, a.pool, a.scratch.matmul);
  }

  // Byte offset of a layer's row 0 in a cache's storage.
  size_t LayerOffset(const KvCacheView& kv, int32_t layer) const {
    return static_cast<size_t>(layer) * static_cast<size_t>(kv.layer_rows) * RowBytes(kv);
  }
  size_t RowBytes(const KvCacheView& kv) const {
    return kernels::KvRowBytes(kv.type, static_cast<size_t>(c_.kv_dim()));
  }

  void StoreKv(const ForwardArgs& a, int32_t layer, size_t t) const {
    const KvCacheView& kv = a.caches[static_cast<size_t>(a.batch.seq[t])];
    const size_t row = kv.Row(a.batch.positions[t] % kv.capacity);
    const size_t base = LayerOffset(kv, layer) + row * RowBytes(kv);
    const size_t kv_dim = static_cast<size_t>(c_.kv_dim());
    kernels::StoreKvRow(kv.type, &a.scratch.k[t * kv_dim], kv.k + base, kv_dim);
    kernels::StoreKvRow(kv.type, &a.scratch.v[t * kv_dim], kv.v + base, kv_dim);
  }

  // Every (token, KV head) pair is independent: its query heads read each
  // cached row once. Pairs are dealt round-robin so that threads share the
  // longer attention spans of later tokens; each pair is computed the same
  // way on whichever thread, so results do not depend on the thread count.
  void Attend(const ForwardArgs& a, int32_t layer) const {
    ForwardScratch& s = a.scratch;
    const size_t n_pairs = a.batch.size() * c_.n_kv_heads;
    const int32_t group = c_.n_heads / c_.n_kv_heads;
    const float scale = 1.0f / std::sqrt(static_cast<float>(c_.head_dim));
    const int32_t window = c_.WindowOf(layer);
    a.pool.Run([&](int thread, int n_threads) {
      for (size_t i = static_cast<size_t>(thread); i < n_pairs; i += n_threads) {
        const size_t t = i / c_.n_kv_heads;
        const int32_t h = static_cast<int32_t>(i % c_.n_kv_heads);
        const KvCacheView& kv = a.caches[static_cast<size_t>(a.batch.seq[t])];
        const int32_t pos = a.batch.positions[t];
        const int32_t first = window > 0 ? std::max(0, pos - window + 1) : 0;
        const size_t head_offset =
            LayerOffset(kv, layer) +
            kernels::KvRowBytes(kv.type, static_cast<size_t>(h) * c_.head_dim);
        const size_t q_offset = t * c_.q_dim() + static_cast<size_t>(h) * group * c_.head_dim;
        kernels::AttendGroup({
            .q = &s.q[q_offset],
            .n_q = group,
            .k = kv.k + head_offset,
            .v = kv.v + head_offset,
            .row_bytes = RowBytes(kv),
            .type = kv.type,
            .capacity = kv.capacity,
            .blocks = kv.blocks,
            .block_size = kv.block_size,
            .first_pos = first,
            .last_pos = pos,
            .head_dim = c_.head_dim,
            .scale = scale,
            .out = &s.att[q_offset],
        });
      }
    });
  }

  ModelConfig c_;
  LlamaWeights w_;
};

}  // namespace

Result<std::unique_ptr<const Architecture>> LoadLlama(const gguf::File& file, ModelConfig& config) {
  AUTAN_TRY(ReadLlamaConfig(file, config));
  AUTAN_TRY(config.Validate());
  Result<LlamaWeights> weights = BindLlamaWeights(file, config);
  if (!weights.ok()) return weights.error();
  return std::unique_ptr<const Architecture>(new Llama(config, std::move(weights).value()));
}

}  // namespace autan
