// Row operations for one SIMD target. ops_hwy.cpp includes this once per
// target through hwy/foreach_target.h; nothing else includes it.
//
// Element-wise kernels send a ragged tail through the same vector code (via a
// padded copy), so an element's result never depends on where it sits in the
// array, and thus not on the batch size.

#if defined(AUTAN_KERNELS_OPS_HWY_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef AUTAN_KERNELS_OPS_HWY_INL_H_
#undef AUTAN_KERNELS_OPS_HWY_INL_H_
#else
#define AUTAN_KERNELS_OPS_HWY_INL_H_
#endif

#include <algorithm>
#include <cmath>

#include "hwy/contrib/math/math-inl.h"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace autan::kernels::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

namespace ops {

constexpr size_t kMaxLanes = HWY_MAX_BYTES / sizeof(float);

// silu(g) * u = g / (1 + exp(-g)) * u; exp's argument is capped where
// float overflows, which leaves the result a signed zero as in the scalar code.
template <class D, class V>
inline V SiluTimes(D d, V g, V u) {
  const V e = hn::Exp(d, hn::Min(hn::Neg(g), hn::Set(d, 88.0f)));
  return hn::Mul(hn::Div(g, hn::Add(hn::Set(d, 1.0f), e)), u);
}

}  // namespace ops

void RmsNormImpl(const float* HWY_RESTRICT x, const float* HWY_RESTRICT weight,
                 float* HWY_RESTRICT out, size_t n, float eps) {
  const hn::ScalableTag<float> df;
  const size_t lanes = hn::Lanes(df);
  double sum = 0.0;
  size_t i = 0;
#if HWY_HAVE_FLOAT64 && HWY_TARGET != HWY_SCALAR
  // Squares rounded to float, summed in double, as ggml does.
  const hn::Repartition<double, decltype(df)> dd;
  const hn::Half<decltype(df)> dh;
  auto lo = hn::Zero(dd);
  auto hi = hn::Zero(dd);
  for (; i + lanes <= n; i += lanes) {
    const auto v = hn::LoadU(df, x + i);
    const auto sq = hn::Mul(v, v);
    lo = hn::Add(lo, hn::PromoteTo(dd, hn::LowerHalf(dh, sq)));
    hi = hn::Add(hi, hn::PromoteTo(dd, hn::UpperHalf(dh, sq)));
  }
  sum = hn::GetLane(hn::SumOfLanes(dd, hn::Add(lo, hi)));
#endif
  for (; i < n; ++i) sum += static_cast<double>(x[i] * x[i]);
  const float mean = static_cast<float>(sum / static_cast<double>(n));
  const float scale = 1.0f / std::sqrt(mean + eps);
  const auto s = hn::Set(df, scale);
  i = 0;
  for (; i + lanes <= n; i += lanes) {
    hn::StoreU(hn::Mul(hn::Mul(hn::LoadU(df, x + i), s), hn::LoadU(df, weight + i)), df, out + i);
  }
  for (; i < n; ++i) out[i] = (x[i] * scale) * weight[i];  // same two roundings as above
}

// x*cos + swap(x)*(-sin, sin) with separate roundings is exactly the scalar
// x0*c - x1*s, x0*s + x1*c.
void RopeImpl(float* HWY_RESTRICT x, int n_heads, int head_dim, int rope_dims,
              const float* HWY_RESTRICT table) {
  const float* cos2 = table;
  const float* sin2 = table + rope_dims;
  const size_t dims = static_cast<size_t>(rope_dims);
  for (int h = 0; h < n_heads; ++h) {
    float* head = x + static_cast<size_t>(h) * head_dim;
    size_t i = 0;
#if HWY_TARGET != HWY_SCALAR
    const hn::ScalableTag<float> df;
    const size_t lanes = hn::Lanes(df);
    for (; i + lanes <= dims; i += lanes) {
      const auto v = hn::LoadU(df, head + i);
      const auto rotated = hn::Add(hn::Mul(v, hn::LoadU(df, cos2 + i)),
                                   hn::Mul(hn::Shuffle2301(v), hn::LoadU(df, sin2 + i)));
      hn::StoreU(rotated, df, head + i);
    }
#endif
    for (; i < dims; i += 2) {
      const float x0 = head[i];
      const float x1 = head[i + 1];
      head[i] = x0 * cos2[i] + x1 * sin2[i];
      head[i + 1] = x1 * cos2[i + 1] + x0 * sin2[i + 1];
    }
  }
}

void SoftmaxImpl(float* HWY_RESTRICT x, size_t n) {
  const hn::ScalableTag<float> df;
  const size_t lanes = hn::Lanes(df);
  float max = -INFINITY;
  size_t i = 0;
  if (n >= lanes) {
    auto vmax = hn::LoadU(df, x);
    for (i = lanes; i + lanes <= n; i += lanes) vmax = hn::Max(vmax, hn::LoadU(df, x + i));
    max = hn::GetLane(hn::MaxOfLanes(df, vmax));
  }
  for (; i < n; ++i) max = std::max(max, x[i]);
  const auto m = hn::Set(df, max);
  auto sum = hn::Zero(df);
  for (i = 0; i + lanes <= n; i += lanes) {
    const auto e = hn::Exp(df, hn::Sub(hn::LoadU(df, x + i), m));
    sum = hn::Add(sum, e);
    hn::StoreU(e, df, x + i);
  }
  if (i < n) {  // padding with -inf adds exp(-inf) = 0 to the sum
    HWY_ALIGN float tail[ops::kMaxLanes];
    std::fill_n(tail, lanes, -INFINITY);
    std::copy(x + i, x + n, tail);
    const auto e = hn::Exp(df, hn::Sub(hn::Load(df, tail), m));
    sum = hn::Add(sum, e);
    hn::Store(e, df, tail);
    std::copy(tail, tail + (n - i), x + i);
  }
  const float inv = 1.0f / hn::GetLane(hn::SumOfLanes(df, sum));
  const auto vinv = hn::Set(df, inv);
  for (i = 0; i + lanes <= n; i += lanes)
    hn::StoreU(hn::Mul(hn::LoadU(df, x + i), vinv), df, x + i);
  for (; i < n; ++i) x[i] *= inv;
}

void SwiGluImpl(float* HWY_RESTRICT gate, const float* HWY_RESTRICT up, size_t n) {
  const hn::ScalableTag<float> df;
  const size_t lanes = hn::Lanes(df);
  size_t i = 0;
  for (; i + lanes <= n; i += lanes) {
    hn::StoreU(ops::SiluTimes(df, hn::LoadU(df, gate + i), hn::LoadU(df, up + i)), df, gate + i);
  }
  if (i == n) return;
  HWY_ALIGN float g[ops::kMaxLanes] = {};
  HWY_ALIGN float u[ops::kMaxLanes] = {};
  std::copy(gate + i, gate + n, g);
  std::copy(up + i, up + n, u);
  hn::Store(ops::SiluTimes(df, hn::Load(df, g), hn::Load(df, u)), df, g);
  std::copy(g, g + (n - i), gate + i);
}

void AddImpl(float* HWY_RESTRICT y, const float* HWY_RESTRICT x, size_t n) {
  const hn::ScalableTag<float> df;
  const size_t lanes = hn::Lanes(df);
  size_t i = 0;
  for (; i + lanes <= n; i += lanes) {
    hn::StoreU(hn::Add(hn::LoadU(df, y + i), hn::LoadU(df, x + i)), df, y + i);
  }
  for (; i < n; ++i) y[i] += x[i];  // exact either way
}

}  // namespace autan::kernels::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif  // AUTAN_KERNELS_OPS_HWY_INL_H_
