// Sparse mixture-of-experts feed-forward block (Mixtral): a router picks, for
// each token, the K experts with the largest logits; the token's output is
// the sum of those experts' SwiGLU feed-forward outputs, weighted by a
// softmax over the K chosen logits.
#pragma once

#include <cstdint>
#include <vector>

#include "core/result.h"
#include "core/thread_pool.h"
#include "formats/gguf.h"
#include "model/forward.h"
#include "model/tensor.h"

namespace autan {

struct MoeWeights {
  Tensor router;             // [n_expert][dim]
  std::vector<Tensor> gate;  // per expert [ffn_dim][dim]
  std::vector<Tensor> up;    // per expert [ffn_dim][dim]
  std::vector<Tensor> down;  // per expert [dim][ffn_dim]
  int32_t n_used = 0;        // K
};

// Binds blk.N.ffn_gate_inp and the experts: ffn_{gate,up,down}_exps as
// llama.cpp lays them out (stacked along the third dimension), or one tensor
// per expert, ffn_{gate,up,down}.E.weight, as its first Mixtral files did.
Result<MoeWeights> BindMoeWeights(const gguf::File& file, const std::string& prefix, int32_t dim,
                                  int32_t ffn_dim, int32_t n_expert, int32_t n_used);

// Writes the block's output for n tokens of normed input `x` ([n][dim]) into
// `out` ([n][dim]). Each token's result is computed with the same operations
// whatever else is in the batch.
void MoeFeedForward(const MoeWeights& w, const float* x, size_t n, int32_t dim, int32_t ffn_dim,
                    float* out, ForwardScratch& scratch, ThreadPool& pool);

}  // namespace autan
