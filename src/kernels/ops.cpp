// Scalar references of the row operations, and the RoPE angle table (scalar
// in every build so angles agree with llama.cpp). SIMD versions: ops_hwy-inl.h.
#include <cmath>

#include "core/check.h"
#include "kernels/ops.h"

namespace autan::kernels {

void RopeAngles(int32_t pos, int rope_dims, float freq_base, float* table) {
  // theta_i = pos * base^(-2i/d), built by repeated multiplication like ggml's
  // rope cache, so angles agree with llama.cpp to the last bit.
  const float theta_scale = std::pow(freq_base, -2.0f / static_cast<float>(rope_dims));
  float theta = static_cast<float>(pos);
  float* cos2 = table;
  float* sin2 = table + rope_dims;
  for (int i = 0; i < rope_dims; i += 2) {
    const float c = std::cos(theta);
    const float s = std::sin(theta);
    cos2[i] = c;
    cos2[i + 1] = c;
    sin2[i] = -s;
    sin2[i + 1] = s;
    theta *= theta_scale;
  }
}

void RopeAdjacentPairs(float* x, int n_heads, int head_dim, int rope_dims, int32_t pos,
                       float freq_base) {
  constexpr int kMaxRopeDims = 1024;  // ModelConfig allows heads up to this size
  AUTAN_CHECK(rope_dims <= kMaxRopeDims);
  float table[2 * kMaxRopeDims];
  RopeAngles(pos, rope_dims, freq_base, table);
  RopeAdjacentPairs(x, n_heads, head_dim, rope_dims, table);
}

namespace scalar {

void RmsNorm(const float* x, const float* weight, float* out, size_t n, float eps) {
  double sum = 0.0;
  for (size_t i = 0; i < n; ++i) sum += static_cast<double>(x[i] * x[i]);
  const float mean = static_cast<float>(sum / static_cast<double>(n));
  const float scale = 1.0f / std::sqrt(mean + eps);
  for (size_t i = 0; i < n; ++i) out[i] = (x[i] * scale) * weight[i];
}

void RopeAdjacentPairs(float* x, int n_heads, int head_dim, int rope_dims, int32_t pos,
                       float freq_base) {
  const float theta_scale = std::pow(freq_base, -2.0f / static_cast<float>(rope_dims));
  for (int h = 0; h < n_heads; ++h) {
    float* head = x + static_cast<size_t>(h) * head_dim;
    float theta = static_cast<float>(pos);
    for (int i = 0; i < rope_dims; i += 2) {
      const float c = std::cos(theta);
      const float s = std::sin(theta);
      const float x0 = head[i];
      const float x1 = head[i + 1];
      head[i] = x0 * c - x1 * s;
      head[i + 1] = x0 * s + x1 * c;
      theta *= theta_scale;
    }
  }
}

void Softmax(float* x, size_t n) {
  float max = -INFINITY;
  for (size_t i = 0; i < n; ++i) max = std::fmax(max, x[i]);
  double sum = 0.0;
  for (size_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - max);
    sum += x[i];
  }
  const float inv = static_cast<float>(1.0 / sum);
  for (size_t i = 0; i < n; ++i) x[i] *= inv;
}

void SwiGlu(float* gate, const float* up, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const float g = gate[i];
    gate[i] = g / (1.0f + std::exp(-g)) * up[i];
  }
}

void Add(float* y, const float* x, size_t n) {
  for (size_t i = 0; i < n; ++i) y[i] += x[i];
}

}  // namespace scalar
}  // namespace autan::kernels
