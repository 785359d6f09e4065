// Q4_K, Q5_K, Q6_K and Q8_K: 256-value super-blocks. The quantizers search
// each sub-block's scale (and min) for the least weighted squared error, as
// llama.cpp's reference quantize_row_q*_K_ref do (make_qkx2_quants for
// Q4_K/Q5_K, make_qx_quants for Q6_K), then quantize the sub-block scales
// themselves to 6 or 8 bits under one fp16 super-block scale. Dots follow
// ggml's scalar vec_dot_q*_K_q8_K: integer sums per sub-block, accumulated in
// eight lanes (value index mod 8) and scaled once per super-block.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/fp16.h"
#include "kernels/quant_scalar.h"

namespace autan::kernels::scalar {
namespace {

constexpr size_t kSubBlocks = kQK_K / 32;  // Q4_K/Q5_K sub-blocks of 32
constexpr size_t kGroups = kQK_K / 16;     // Q6_K sub-blocks (and Q8_K sums) of 16
constexpr size_t kLanes = 8;

// Finds scale and min so that x ~= scale * L + min with L in [0, nmax],
// min <= 0, minimizing sum(weights * err^2). Starts from the min/max fit and
// tries nstep + 1 stretched grids (nmax + rmin + rdelta * is levels over the
// range), solving the weighted least squares for scale and min on each.
// Returns the scale and stores -min (>= 0) in *neg_min.
float FitScaleMin(const float* x, const float* weights, int n, int nmax, uint8_t* L, float* neg_min,
                  float rmin, float rdelta, int nstep) {
  float min = x[0];
  float max = x[0];
  float sum_w = weights[0];
  float sum_x = sum_w * x[0];
  for (int i = 1; i < n; ++i) {
    min = std::min(min, x[i]);
    max = std::max(max, x[i]);
    sum_w += weights[i];
    sum_x += weights[i] * x[i];
  }
  if (min > 0) min = 0;
  if (max == min) {
    std::fill(L, L + n, uint8_t{0});
    *neg_min = -min;
    return 0.0f;
  }
  float iscale = static_cast<float>(nmax) / (max - min);
  float scale = 1 / iscale;
  float best_err = 0;
  for (int i = 0; i < n; ++i) {
    L[i] = static_cast<uint8_t>(std::clamp(NearestInt(iscale * (x[i] - min)), 0, nmax));
    const float diff = scale * L[i] + min - x[i];
    best_err += weights[i] * (diff * diff);
  }
  uint8_t trial[32];
  for (int is = 0; is <= nstep; ++is) {
    iscale = (rmin + rdelta * static_cast<float>(is) + static_cast<float>(nmax)) / (max - min);
    float sum_l = 0;
    float sum_l2 = 0;
    float sum_xl = 0;
    for (int i = 0; i < n; ++i) {
      const int l = std::clamp(NearestInt(iscale * (x[i] - min)), 0, nmax);
      trial[i] = static_cast<uint8_t>(l);
      const float w = weights[i];
      sum_l += w * static_cast<float>(l);
      sum_l2 += w * static_cast<float>(l) * static_cast<float>(l);
      sum_xl += w * static_cast<float>(l) * x[i];
    }
    const float det = sum_w * sum_l2 - sum_l * sum_l;
    if (!(det > 0)) continue;  // also skips a NaN determinant
    float this_scale = (sum_w * sum_xl - sum_x * sum_l) / det;
    float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / det;
    if (this_min > 0) {  // a positive offset is not representable: fit scale alone
      this_min = 0;
      this_scale = sum_xl / sum_l2;
    }
    float err = 0;
    for (int i = 0; i < n; ++i) {
      const float diff = this_scale * trial[i] + this_min - x[i];
      err += weights[i] * (diff * diff);
    }
    if (err < best_err) {
      std::copy(trial, trial + n, L);
      best_err = err;
      scale = this_scale;
      min = this_min;
    }
  }
  *neg_min = -min;
  return scale;
}

// Finds a signed scale so that x ~= scale * (L - nmax) with L in [0, 2*nmax),
// maximizing the x^2-weighted fit over 19 grids around the one that maps the
// largest magnitude to -nmax. Returns the scale (0 for an all-zero input).
float FitScaleSymmetric(const float* x, int n, int nmax, uint8_t* L) {
  float max = 0;
  float amax = 0;
  for (int i = 0; i < n; ++i) {
    const float ax = std::fabs(x[i]);
    if (ax > amax) {
      amax = ax;
      max = x[i];
    }
  }
  if (amax < 1e-15f) {
    std::fill(L, L + n, uint8_t{0});
    return 0.0f;
  }
  // sum(w*x*l)^2 / sum(w*l^2) is the error reduction of the best scale for L.
  auto fit = [&](float iscale, float* sumlx, float* suml2) {
    *sumlx = 0;
    *suml2 = 0;
    for (int i = 0; i < n; ++i) {
      const int l = std::clamp(NearestInt(iscale * x[i]), -nmax, nmax - 1);
      const float w = x[i] * x[i];
      *sumlx += w * x[i] * static_cast<float>(l);
      *suml2 += w * static_cast<float>(l) * static_cast<float>(l);
    }
  };
  auto assign = [&](float iscale) {
    for (int i = 0; i < n; ++i) {
      L[i] = static_cast<uint8_t>(nmax + std::clamp(NearestInt(iscale * x[i]), -nmax, nmax - 1));
    }
  };
  float iscale = -static_cast<float>(nmax) / max;
  float sumlx;
  float suml2;
  fit(iscale, &sumlx, &suml2);
  assign(iscale);
  float scale = suml2 != 0 ? sumlx / suml2 : 0.0f;
  float best = scale * sumlx;
  for (int is = -9; is <= 9; ++is) {
    if (is == 0) continue;
    iscale = -(static_cast<float>(nmax) + 0.1f * static_cast<float>(is)) / max;
    fit(iscale, &sumlx, &suml2);
    if (suml2 > 0 && sumlx * sumlx > best * suml2) {
      assign(iscale);
      scale = sumlx / suml2;
      best = scale * sumlx;
    }
  }
  return scale;
}

// Fits the 8 sub-blocks of a Q4_K/Q5_K super-block (quants in [0, nmax]) and
// stores the packed 6-bit scales/mins, d and dmin. L gets the final quants.
void QuantizeScaleMinSuperBlock(const float* x, int nmax, float rmin, int nstep, uint16_t* d,
                                uint16_t* dmin, uint8_t packed[kScaleBytesK], uint8_t L[kQK_K]) {
  float scales[kSubBlocks];
  float mins[kSubBlocks];
  float max_scale = 0;  // scales are positive since the min is subtracted
  float max_min = 0;
  for (size_t j = 0; j < kSubBlocks; ++j) {
    const float* xs = x + 32 * j;
    float sum_x2 = 0;
    for (int l = 0; l < 32; ++l) sum_x2 += xs[l] * xs[l];
    // Weight larger values more, relative to the sub-block's rms.
    const float av_x = std::sqrt(sum_x2 / 32);
    float weights[32];
    for (int l = 0; l < 32; ++l) weights[l] = av_x + std::fabs(xs[l]);
    scales[j] = FitScaleMin(xs, weights, 32, nmax, L + 32 * j, &mins[j], rmin, 0.1f, nstep);
    max_scale = std::max(max_scale, scales[j]);
    max_min = std::max(max_min, mins[j]);
  }
  const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
  const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
  std::memset(packed, 0, kScaleBytesK);
  for (size_t j = 0; j < kSubBlocks; ++j) {
    // Through uint8_t first, as the reference does, then clamp to 6 bits.
    const uint8_t ls =
        std::min<uint8_t>(63, static_cast<uint8_t>(NearestInt(inv_scale * scales[j])));
    const uint8_t lm = std::min<uint8_t>(63, static_cast<uint8_t>(NearestInt(inv_min * mins[j])));
    if (j < 4) {
      packed[j] |= ls;
      packed[j + 4] |= lm;
    } else {
      packed[j + 4] = static_cast<uint8_t>((ls & 0xF) | ((lm & 0xF) << 4));
      packed[j - 4] |= static_cast<uint8_t>((ls >> 4) << 6);
      packed[j] |= static_cast<uint8_t>((lm >> 4) << 6);
    }
  }
  *d = Fp32ToFp16(max_scale / 63.f);
  *dmin = Fp32ToFp16(max_min / 63.f);
  // Requantize with the rounded scales actually stored.
  for (size_t j = 0; j < kSubBlocks; ++j) {
    uint8_t sc;
    uint8_t m;
    UnpackScaleMinK4(static_cast<int>(j), packed, &sc, &m);
    const float dj = Fp16ToFp32(*d) * sc;
    if (dj == 0.0f) continue;  // keeps the fitted quants, as the reference does
    const float mj = Fp16ToFp32(*dmin) * m;
    for (size_t l = 0; l < 32; ++l) {
      L[32 * j + l] =
          static_cast<uint8_t>(std::clamp(NearestInt((x[32 * j + l] + mj) / dj), 0, nmax));
    }
  }
}

// Adds scale[g] * (a . q8) over the 16 groups of 16 values into 8 lanes by
// value index mod 8, like the reference's aux32 accumulators.
void AccumulateLanes(const int8_t* a, const int8_t* q8, const int* group_scale,
                     int32_t lanes[kLanes]) {
  for (size_t g = 0; g < kGroups; ++g) {
    for (size_t k = 0; k < 16; ++k) {
      lanes[k % kLanes] += group_scale[g] * (a[16 * g + k] * q8[16 * g + k]);
    }
  }
}

// Q4_K/Q5_K dot given the expanded quants of each super-block.
template <typename Block, typename Expand>
float DotScaleMinK(size_t n, const Block* w, const BlockQ8_K* x, Expand expand) {
  float lane_sums[kLanes] = {};
  float sum = 0;
  for (size_t i = 0; i < n / kQK_K; ++i) {
    int8_t a[kQK_K];
    expand(w[i], a);
    int group_scale[kGroups];
    int sum_mins = 0;
    for (size_t j = 0; j < kSubBlocks; ++j) {
      uint8_t sc;
      uint8_t m;
      UnpackScaleMinK4(static_cast<int>(j), w[i].scales, &sc, &m);
      group_scale[2 * j] = group_scale[2 * j + 1] = sc;
      sum_mins += (x[i].bsums[2 * j] + x[i].bsums[2 * j + 1]) * m;
    }
    int32_t lanes[kLanes] = {};
    AccumulateLanes(a, x[i].qs, group_scale, lanes);
    const float d = Fp16ToFp32(w[i].d) * x[i].d;
    for (size_t l = 0; l < kLanes; ++l) lane_sums[l] += d * static_cast<float>(lanes[l]);
    const float dmin = Fp16ToFp32(w[i].dmin) * x[i].d;
    sum -= dmin * static_cast<float>(sum_mins);
  }
  for (float s : lane_sums) sum += s;
  return sum;
}

// Quants of a Q4_K block in value order.
void ExpandQ4_K(const BlockQ4_K& b, int8_t* a) {
  for (size_t k = 0; k < kQK_K / 64; ++k) {
    for (size_t l = 0; l < 32; ++l) {
      a[64 * k + l] = static_cast<int8_t>(b.qs[32 * k + l] & 0xF);
      a[64 * k + 32 + l] = static_cast<int8_t>(b.qs[32 * k + l] >> 4);
    }
  }
}

void ExpandQ5_K(const BlockQ5_K& b, int8_t* a) {
  for (size_t k = 0; k < kQK_K / 64; ++k) {
    for (size_t l = 0; l < 32; ++l) {
      const int lo_hi = (b.qh[l] >> (2 * k)) & 1;
      const int hi_hi = (b.qh[l] >> (2 * k + 1)) & 1;
      a[64 * k + l] = static_cast<int8_t>((b.qs[32 * k + l] & 0xF) | (lo_hi << 4));
      a[64 * k + 32 + l] = static_cast<int8_t>((b.qs[32 * k + l] >> 4) | (hi_hi << 4));
    }
  }
}

// Signed quants (q - 32) of a Q6_K block in value order.
void ExpandQ6_K(const BlockQ6_K& b, int8_t* a) {
  for (size_t h = 0; h < kQK_K / 128; ++h) {
    const uint8_t* ql = b.ql + 64 * h;
    const uint8_t* qh = b.qh + 32 * h;
    int8_t* out = a + 128 * h;
    for (size_t l = 0; l < 32; ++l) {
      out[l] = static_cast<int8_t>(((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32);
      out[l + 32] = static_cast<int8_t>(((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32);
      out[l + 64] = static_cast<int8_t>(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
      out[l + 96] = static_cast<int8_t>(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
    }
  }
}

void DequantizeScaleMinK(const int8_t* a, uint16_t d16, uint16_t dmin16, const uint8_t* packed,
                         float* y) {
  const float d = Fp16ToFp32(d16);
  const float dmin = Fp16ToFp32(dmin16);
  for (size_t j = 0; j < kSubBlocks; ++j) {
    uint8_t sc;
    uint8_t m;
    UnpackScaleMinK4(static_cast<int>(j), packed, &sc, &m);
    const float dj = d * sc;
    const float mj = dmin * m;
    for (size_t l = 0; l < 32; ++l) y[32 * j + l] = dj * static_cast<float>(a[32 * j + l]) - mj;
  }
}

}  // namespace

void QuantizeQ4_K(const float* x, BlockQ4_K* y, size_t n) {
  for (size_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    uint8_t L[kQK_K];
    QuantizeScaleMinSuperBlock(x, 15, -1.0f, 20, &y[i].d, &y[i].dmin, y[i].scales, L);
    for (size_t k = 0; k < kQK_K / 64; ++k) {
      for (size_t l = 0; l < 32; ++l) {
        y[i].qs[32 * k + l] = static_cast<uint8_t>(L[64 * k + l] | (L[64 * k + 32 + l] << 4));
      }
    }
  }
}

void QuantizeQ5_K(const float* x, BlockQ5_K* y, size_t n) {
  for (size_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    uint8_t L[kQK_K];
    QuantizeScaleMinSuperBlock(x, 31, -0.5f, 15, &y[i].d, &y[i].dmin, y[i].scales, L);
    std::memset(y[i].qh, 0, sizeof(y[i].qh));
    for (size_t k = 0; k < kQK_K / 64; ++k) {
      for (size_t l = 0; l < 32; ++l) {
        const uint8_t lo = L[64 * k + l];
        const uint8_t hi = L[64 * k + 32 + l];
        y[i].qs[32 * k + l] = static_cast<uint8_t>((lo & 0xF) | ((hi & 0xF) << 4));
        y[i].qh[l] |= static_cast<uint8_t>(((lo >> 4) << (2 * k)) | ((hi >> 4) << (2 * k + 1)));
      }
    }
  }
}

void QuantizeQ6_K(const float* x, BlockQ6_K* y, size_t n) {
  for (size_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    uint8_t L[kQK_K];
    float scales[kGroups];
    float max_scale = 0;
    float max_abs_scale = 0;
    for (size_t g = 0; g < kGroups; ++g) {
      scales[g] = FitScaleSymmetric(x + 16 * g, 16, 32, L + 16 * g);
      if (std::fabs(scales[g]) > max_abs_scale) {
        max_abs_scale = std::fabs(scales[g]);
        max_scale = scales[g];
      }
    }
    if (max_abs_scale < 1e-15f) {
      std::memset(&y[i], 0, sizeof(y[i]));
      continue;
    }
    // The largest sub-block scale maps to -128, so all fit in int8 after clamping 128.
    const float iscale = -128.f / max_scale;
    y[i].d = Fp32ToFp16(1 / iscale);
    for (size_t g = 0; g < kGroups; ++g) {
      y[i].scales[g] = static_cast<int8_t>(std::min(127, NearestInt(iscale * scales[g])));
    }
    for (size_t g = 0; g < kGroups; ++g) {
      const float d = Fp16ToFp32(y[i].d) * y[i].scales[g];
      if (d == 0.0f) continue;  // keeps the fitted quants, as the reference does
      for (size_t l = 0; l < 16; ++l) {
        L[16 * g + l] =
            static_cast<uint8_t>(std::clamp(NearestInt(x[16 * g + l] / d), -32, 31) + 32);
      }
    }
    for (size_t h = 0; h < kQK_K / 128; ++h) {
      const uint8_t* q = L + 128 * h;
      uint8_t* ql = y[i].ql + 64 * h;
      uint8_t* qh = y[i].qh + 32 * h;
      for (size_t l = 0; l < 32; ++l) {
        ql[l] = static_cast<uint8_t>((q[l] & 0xF) | ((q[l + 64] & 0xF) << 4));
        ql[l + 32] = static_cast<uint8_t>((q[l + 32] & 0xF) | ((q[l + 96] & 0xF) << 4));
        qh[l] = static_cast<uint8_t>((q[l] >> 4) | ((q[l + 32] >> 4) << 2) |
                                     ((q[l + 64] >> 4) << 4) | ((q[l + 96] >> 4) << 6));
      }
    }
  }
}

void QuantizeQ8_K(const float* x, BlockQ8_K* y, size_t n) {
  for (size_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    float max = 0;
    float amax = 0;
    for (size_t j = 0; j < kQK_K; ++j) {
      if (std::fabs(x[j]) > amax) {
        amax = std::fabs(x[j]);
        max = x[j];
      }
    }
    if (amax == 0.0f) {
      std::memset(&y[i], 0, sizeof(y[i]));
      continue;
    }
    // -127 rather than -128 keeps every quant in [-127, 127].
    const float iscale = -127.f / max;
    for (size_t j = 0; j < kQK_K; ++j) {
      y[i].qs[j] = static_cast<int8_t>(std::min(127, NearestInt(iscale * x[j])));
    }
    for (size_t g = 0; g < kGroups; ++g) {
      int sum = 0;
      for (size_t l = 0; l < 16; ++l) sum += y[i].qs[16 * g + l];
      y[i].bsums[g] = static_cast<int16_t>(sum);
    }
    y[i].d = 1 / iscale;
  }
}

void DequantizeQ4_K(const BlockQ4_K* x, float* y, size_t n) {
  for (size_t i = 0; i < n / kQK_K; ++i, y += kQK_K) {
    int8_t a[kQK_K];
    ExpandQ4_K(x[i], a);
    DequantizeScaleMinK(a, x[i].d, x[i].dmin, x[i].scales, y);
  }
}

void DequantizeQ5_K(const BlockQ5_K* x, float* y, size_t n) {
  for (size_t i = 0; i < n / kQK_K; ++i, y += kQK_K) {
    int8_t a[kQK_K];
    ExpandQ5_K(x[i], a);
    DequantizeScaleMinK(a, x[i].d, x[i].dmin, x[i].scales, y);
  }
}

void DequantizeQ6_K(const BlockQ6_K* x, float* y, size_t n) {
  for (size_t i = 0; i < n / kQK_K; ++i, y += kQK_K) {
    int8_t a[kQK_K];
    ExpandQ6_K(x[i], a);
    const float d = Fp16ToFp32(x[i].d);
    for (size_t j = 0; j < kQK_K; ++j) {
      y[j] = d * static_cast<float>(x[i].scales[j / 16]) * static_cast<float>(a[j]);
    }
  }
}

void DequantizeQ8_K(const BlockQ8_K* x, float* y, size_t n) {
  for (size_t i = 0; i < n / kQK_K; ++i, y += kQK_K) {
    for (size_t j = 0; j < kQK_K; ++j) y[j] = x[i].d * static_cast<float>(x[i].qs[j]);
  }
}

float DotQ4_K(size_t n, const BlockQ4_K* w, const BlockQ8_K* x) {
  return DotScaleMinK(n, w, x, ExpandQ4_K);
}

float DotQ5_K(size_t n, const BlockQ5_K* w, const BlockQ8_K* x) {
  return DotScaleMinK(n, w, x, ExpandQ5_K);
}

float DotQ6_K(size_t n, const BlockQ6_K* w, const BlockQ8_K* x) {
  float lane_sums[kLanes] = {};
  for (size_t i = 0; i < n / kQK_K; ++i) {
    int8_t a[kQK_K];
    ExpandQ6_K(w[i], a);
    int group_scale[kGroups];
    for (size_t g = 0; g < kGroups; ++g) group_scale[g] = w[i].scales[g];
    int32_t lanes[kLanes] = {};
    AccumulateLanes(a, x[i].qs, group_scale, lanes);
    const float d = Fp16ToFp32(w[i].d) * x[i].d;
    for (size_t l = 0; l < kLanes; ++l) lane_sums[l] += d * static_cast<float>(lanes[l]);
  }
  float sum = 0;
  for (float s : lane_sums) sum += s;
  return sum;
}

}  // namespace autan::kernels::scalar
