// Compiles ops_hwy-inl.h once per SIMD target and dispatches each row
// operation to the best target the CPU supports.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/ops_hwy.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
// clang-format off
#include "hwy/highway.h"
#include "kernels/ops_hwy-inl.h"
// clang-format on

#if HWY_ONCE
#include "kernels/ops.h"

namespace autan::kernels {

HWY_EXPORT(RmsNormImpl);
HWY_EXPORT(RopeImpl);
HWY_EXPORT(SoftmaxImpl);
HWY_EXPORT(SwiGluImpl);
HWY_EXPORT(AddImpl);

void RmsNorm(const float* x, const float* weight, float* out, size_t n, float eps) {
  HWY_DYNAMIC_DISPATCH(RmsNormImpl)(x, weight, out, n, eps);
}

void RopeAdjacentPairs(float* x, int n_heads, int head_dim, int rope_dims, const float* table) {
  HWY_DYNAMIC_DISPATCH(RopeImpl)(x, n_heads, head_dim, rope_dims, table);
}

void Softmax(float* x, size_t n) { HWY_DYNAMIC_DISPATCH(SoftmaxImpl)(x, n); }

void SwiGlu(float* gate, const float* up, size_t n) {
  HWY_DYNAMIC_DISPATCH(SwiGluImpl)(gate, up, n);
}

void Add(float* y, const float* x, size_t n) { HWY_DYNAMIC_DISPATCH(AddImpl)(y, x, n); }

}  // namespace autan::kernels
#endif
