// Hyperparameters of a loaded model, read once from the file's metadata and
// validated before any tensor is touched.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"

namespace autan {

struct ModelConfig {
  std::string architecture;  // GGUF general.architecture, e.g. "llama"
  std::string name;          // general.name, for display
  int32_t n_vocab = 0;
  int32_t dim = 0;  // embedding width
  int32_t n_layers = 0;
  int32_t n_heads = 0;
  int32_t n_kv_heads = 0;  // grouped-query attention: n_heads / n_kv_heads queries share a KV head
  int32_t head_dim = 0;
  int32_t ffn_dim = 0;
  int32_t rope_dims = 0;  // leading dimensions of each head that RoPE rotates
  float rope_freq_base = 10000.0f;
  float norm_eps = 1e-5f;
  int32_t context_length = 0;  // trained context
  // 0: full attention; else each token sees the last W positions. With
  // per-layer windows, the largest when every layer has one, else 0 (the KV
  // cache then keeps every position).
  int32_t sliding_window = 0;
  // Per-layer windows cycled over the layers (0: that layer attends to
  // everything), as Mistral's models with interleaved local and global
  // attention; empty: every layer uses sliding_window.
  std::vector<int32_t> layer_windows;
  int32_t n_expert = 0;       // mixture of experts (Mixtral); 0: a dense feed-forward block
  int32_t n_expert_used = 0;  // experts each token goes through

  int32_t q_dim() const { return n_heads * head_dim; }
  int32_t WindowOf(int32_t layer) const {
    return layer_windows.empty() ? sliding_window
                                 : layer_windows[static_cast<size_t>(layer) % layer_windows.size()];
  }
  int32_t kv_dim() const { return n_kv_heads * head_dim; }
  Status Validate() const;
};

}  // namespace autan
