// Splitting a forward step's energy over the requests in it, in proportion
// to the work each did: a token's FLOPs are 2 per matrix weight plus, for
// attention, 4 x n_layers x q_dim per position it attends to (QK^T and AV),
// so a prefill token late in a long prompt weighs more than an early one,
// and a decode token weighs as a prefill token at the same position.
#pragma once

#include <cstdint>
#include <span>

#include "kernels/attention.h"
#include "model/config.h"
#include "model/model.h"

namespace autan {

struct ModelEnergyProfile {
  double matmul_flops_per_token = 0.0;        // 2 x weights of every matrix, LM head included
  double attention_flops_per_position = 0.0;  // 4 x n_layers x q_dim
  double weight_bytes = 0.0;                  // every tensor, read once per step
  double kv_bytes_per_position = 0.0;         // K and V rows of every layer
  int32_t sliding_window = 0;                 // 0: every earlier position is attended

  static ModelEnergyProfile For(const ModelConfig& config, double weight_bytes,
                                kernels::KvType kv_type);
  // With the bytes of every tensor of the model's file.
  static ModelEnergyProfile For(const Model& model, kernels::KvType kv_type);
  // FLOPs of `n` tokens at positions first..first+n-1 of one sequence.
  double Work(int32_t first, int32_t n) const;
  // Bytes of KV cache a sequence reads when it reaches `positions` positions.
  double KvBytes(int32_t positions) const;
};

// joules x work[i] / sum(work) into share[i]; an even split when no work.
void SplitJoules(double joules, std::span<const double> work, std::span<double> share);

}  // namespace autan
