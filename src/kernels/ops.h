// Element-wise and row operations of the transformer, scalar reference
// versions. Numerics follow ggml's CPU ops so results stay comparable.
#pragma once

#include <cstddef>
#include <cstdint>

namespace autan::kernels {

// out = x / sqrt(mean(x^2) + eps) * weight   (the mean is accumulated in double, as ggml does)
void RmsNorm(const float* x, const float* weight, float* out, size_t n, float eps);

// Rotary embedding on adjacent pairs (x[2i], x[2i+1]) of each head, the
// "normal" mode llama.cpp uses for the llama architecture. x is [n_heads][head_dim];
// only the first rope_dims dimensions of each head rotate.
void RopeAdjacentPairs(float* x, int n_heads, int head_dim, int rope_dims, int32_t pos,
                       float freq_base);

// In-place softmax over n values.
void Softmax(float* x, size_t n);

// gate[i] = silu(gate[i]) * up[i]
void SwiGlu(float* gate, const float* up, size_t n);

// y += x
void Add(float* y, const float* x, size_t n);

}  // namespace autan::kernels
