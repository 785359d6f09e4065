// Element-wise and row operations of the transformer. The functions in
// autan::kernels are SIMD (ops_hwy-inl.h, dispatched to the best target of
// the CPU); those in kernels::scalar are the references they are tested
// against. Numerics follow ggml's CPU ops so results stay comparable.
#pragma once

#include <cstddef>
#include <cstdint>

namespace autan::kernels {

// out = x / sqrt(mean(x^2) + eps) * weight   (the mean is accumulated in double, as ggml does)
void RmsNorm(const float* x, const float* weight, float* out, size_t n, float eps);

// Rotary embedding on adjacent pairs (x[2i], x[2i+1]) of each head, the
// "normal" mode llama.cpp uses for the llama architecture. x is [n_heads][head_dim];
// only the first rope_dims dimensions of each head rotate.
//
// RopeAngles fills `table` ([2][rope_dims] floats) for one position: cos of
// each pair's angle twice, then (-sin, sin); one table serves q and k.
void RopeAngles(int32_t pos, int rope_dims, float freq_base, float* table);
void RopeAdjacentPairs(float* x, int n_heads, int head_dim, int rope_dims, const float* table);
// Both steps at once (the table on the stack).
void RopeAdjacentPairs(float* x, int n_heads, int head_dim, int rope_dims, int32_t pos,
                       float freq_base);

// In-place softmax over n values.
void Softmax(float* x, size_t n);

// gate[i] = silu(gate[i]) * up[i]
void SwiGlu(float* gate, const float* up, size_t n);

// y += x
void Add(float* y, const float* x, size_t n);

namespace scalar {
void RmsNorm(const float* x, const float* weight, float* out, size_t n, float eps);
void RopeAdjacentPairs(float* x, int n_heads, int head_dim, int rope_dims, int32_t pos,
                       float freq_base);
void Softmax(float* x, size_t n);
void SwiGlu(float* gate, const float* up, size_t n);
void Add(float* y, const float* x, size_t n);
}  // namespace scalar

}  // namespace autan::kernels
