#include "model/config.h"

namespace autan {

Status ModelConfig::Validate() const {
  // Upper bounds keep later size arithmetic far from overflow; real models are far below them.
  constexpr int32_t kMaxDim = 1 << 16;
  auto in_range = [](int64_t v, int64_t lo, int64_t hi) { return v >= lo && v <= hi; };
  if (!in_range(dim, 1, kMaxDim)) return Fail("embedding_length %d out of range", dim);
  if (!in_range(n_layers, 1, 1024)) return Fail("block_count %d out of range", n_layers);
  if (!in_range(n_heads, 1, 1024)) return Fail("attention.head_count %d out of range", n_heads);
  if (!in_range(n_kv_heads, 1, n_heads) || n_heads % n_kv_heads != 0) {
    return Fail("attention.head_count_kv %d must divide head_count %d", n_kv_heads, n_heads);
  }
  if (!in_range(head_dim, 2, 1024) || head_dim % 2 != 0) {
    return Fail("head dimension %d must be even and at most 1024", head_dim);
  }
  if (!in_range(rope_dims, 2, head_dim) || rope_dims % 2 != 0) {
    return Fail("rope.dimension_count %d must be even and at most the head dimension %d", rope_dims,
                head_dim);
  }
  if (!in_range(ffn_dim, 1, 1 << 20)) return Fail("feed_forward_length %d out of range", ffn_dim);
  if (!in_range(n_vocab, 1, 1 << 22)) return Fail("vocabulary size %d out of range", n_vocab);
  if (!(rope_freq_base > 0.0f)) return Fail("rope.freq_base must be positive");
  if (!(norm_eps > 0.0f && norm_eps < 1.0f)) return Fail("layer_norm_rms_epsilon out of range");
  if (sliding_window < 0) return Fail("sliding_window must not be negative");
  for (int32_t w : layer_windows) {
    if (w < 0) return Fail("attention.sliding_window: a layer's window %d is negative", w);
  }
  if (!in_range(n_expert, 0, 256)) return Fail("expert_count %d out of range", n_expert);
  if (n_expert > 0 && !in_range(n_expert_used, 1, n_expert)) {
    return Fail("expert_used_count %d must be between 1 and expert_count %d", n_expert_used,
                n_expert);
  }
  return {};
}

}  // namespace autan
