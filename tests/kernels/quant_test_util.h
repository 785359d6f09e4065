// Shared utilities of the kernel tests.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/fp16.h"
#include "core/rng.h"
#include "kernels/quant.h"
#include "kernels/quant_blocks.h"

namespace autan::kernels::testing {

inline constexpr std::array kComputeTypes = {
    DType::kF32,  DType::kF16,  DType::kBF16, DType::kQ4_0, DType::kQ4_1, DType::kQ5_0,
    DType::kQ5_1, DType::kQ8_0, DType::kQ4_K, DType::kQ5_K, DType::kQ6_K,
};

inline constexpr std::array kQuantizableTypes = {
    DType::kF32,  DType::kF16,  DType::kBF16, DType::kQ4_0, DType::kQ4_1,
    DType::kQ5_0, DType::kQ5_1, DType::kQ8_0, DType::kQ8_1, DType::kQ4_K,
    DType::kQ5_K, DType::kQ6_K, DType::kQ8_K,
};

inline std::string Name(DType t) { return std::string(Info(t).name); }

inline std::vector<float> NormalRow(Rng& rng, size_t n, double scale = 1.0) {
  std::vector<float> x(n);
  for (float& v : x) v = static_cast<float>(rng.Normal() * scale);
  return x;
}

inline std::vector<uint8_t> Quantize(DType t, const std::vector<float>& x) {
  std::vector<uint8_t> q(*RowBytes(t, x.size()));
  QuantizeRow(t, x.data(), q.data(), x.size());
  return q;
}

inline std::vector<float> Dequantize(DType t, const std::vector<uint8_t>& q, size_t n) {
  std::vector<float> y(n);
  DequantizeRow(t, q.data(), y.data(), n);
  return y;
}

// How far VecDot may be from the double dot of the dequantized rows `wd` and
// `xd`: float rounding of the per-block terms and of their running sum, plus,
// for Q4_1/Q5_1, the fp16 rounding of Q8_1's s = d * sum(q) (good to ~2^-11
// relative), which multiplies the weight block's offset m.
inline double DotTolerance(DType w, const uint8_t* wq, const std::vector<float>& wd,
                           const std::vector<float>& xd) {
  double tolerance = 1e-30;
  for (size_t i = 0; i < wd.size(); ++i) tolerance += 4e-6 * std::fabs(double{wd[i]} * xd[i]);
  if (w == DType::kQ4_1 || w == DType::kQ5_1) {
    for (size_t b = 0; b < wd.size() / kQK; ++b) {
      const uint16_t m16 = w == DType::kQ4_1 ? reinterpret_cast<const BlockQ4_1*>(wq)[b].m
                                             : reinterpret_cast<const BlockQ5_1*>(wq)[b].m;
      double sum_x = 0.0;
      for (size_t i = 0; i < kQK; ++i) sum_x += xd[b * kQK + i];
      tolerance += std::fabs(Fp16ToFp32(m16) * sum_x) * 0x1p-10;
    }
  }
  return tolerance;
}

// A row length that is a whole number of blocks of every type.
inline constexpr size_t kRowLen = 1024;

}  // namespace autan::kernels::testing
