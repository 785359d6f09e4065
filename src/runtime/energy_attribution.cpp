#include "runtime/energy_attribution.h"

#include <algorithm>

namespace autan {

ModelEnergyProfile ModelEnergyProfile::For(const ModelConfig& c, double weight_bytes,
                                           kernels::KvType kv_type) {
  const double dim = c.dim, q = c.q_dim(), kv = c.kv_dim(), ffn = c.ffn_dim;
  // Per layer: Q, K, V and output projections, then gate, up and down.
  const double per_layer = dim * q + 2.0 * dim * kv + q * dim + 3.0 * dim * ffn;
  ModelEnergyProfile p;
  p.matmul_flops_per_token = 2.0 * (c.n_layers * per_layer + static_cast<double>(c.n_vocab) * dim);
  p.attention_flops_per_position = 4.0 * c.n_layers * q;
  p.weight_bytes = weight_bytes;
  p.kv_bytes_per_position =
      2.0 * c.n_layers * static_cast<double>(kernels::KvRowBytes(kv_type, c.kv_dim()));
  p.sliding_window = c.sliding_window;
  return p;
}

ModelEnergyProfile ModelEnergyProfile::For(const Model& model, kernels::KvType kv_type) {
  double weight_bytes = 0.0;
  for (const gguf::TensorInfo& t : model.file().tensors()) weight_bytes += t.n_bytes;
  return For(model.config(), weight_bytes, kv_type);
}

double ModelEnergyProfile::Work(int32_t first, int32_t n) const {
  double attended = 0.0;
  for (int32_t i = 0; i < n; ++i) {
    const int32_t seen = first + i + 1;  // itself and every earlier position
    attended += sliding_window > 0 ? std::min(seen, sliding_window) : seen;
  }
  return n * matmul_flops_per_token + attended * attention_flops_per_position;
}

double ModelEnergyProfile::KvBytes(int32_t positions) const {
  const int32_t read = sliding_window > 0 ? std::min(positions, sliding_window) : positions;
  return read * kv_bytes_per_position;
}

void SplitJoules(double joules, std::span<const double> work, std::span<double> share) {
  double total = 0.0;
  for (double w : work) total += std::max(w, 0.0);
  for (size_t i = 0; i < work.size() && i < share.size(); ++i) {
    share[i] = total > 0.0 ? joules * std::max(work[i], 0.0) / total
                           : joules / static_cast<double>(work.size());
  }
}

}  // namespace autan
