// Dispatch from a DType to its typed scalar kernel, and the float types.
#include "kernels/quant.h"

#include <cstring>

#include "core/check.h"
#include "core/fp16.h"
#include "kernels/quant_scalar.h"

namespace autan::kernels {
namespace scalar {

float DotF32(size_t n, const float* w, const float* x) {
  double sum = 0.0;
  for (size_t i = 0; i < n; ++i) sum += static_cast<double>(w[i] * x[i]);
  return static_cast<float>(sum);
}

float DotF16(size_t n, const uint16_t* w, const uint16_t* x) {
  double sum = 0.0;
  for (size_t i = 0; i < n; ++i) sum += static_cast<double>(Fp16ToFp32(w[i]) * Fp16ToFp32(x[i]));
  return static_cast<float>(sum);
}

float DotBF16(size_t n, const uint16_t* w, const uint16_t* x) {
  double sum = 0.0;
  for (size_t i = 0; i < n; ++i) sum += static_cast<double>(Bf16ToFp32(w[i]) * Bf16ToFp32(x[i]));
  return static_cast<float>(sum);
}

}  // namespace scalar

namespace {

template <typename T>
const T* As(const void* p) {
  return static_cast<const T*>(p);
}

template <typename T>
T* As(void* p) {
  return static_cast<T*>(p);
}

void CheckWholeBlocks(DType t, size_t n) { AUTAN_CHECK(n % Info(t).block_size == 0); }

}  // namespace

bool IsComputeType(DType t) {
  switch (t) {
    case DType::kF32:
    case DType::kF16:
    case DType::kBF16:
    case DType::kQ4_0:
    case DType::kQ4_1:
    case DType::kQ5_0:
    case DType::kQ5_1:
    case DType::kQ8_0:
    case DType::kQ4_K:
    case DType::kQ5_K:
    case DType::kQ6_K:
      return true;
    default:
      return false;
  }
}

DType VecDotType(DType w) {
  switch (w) {
    case DType::kF32:
    case DType::kF16:
    case DType::kBF16:
      return w;
    case DType::kQ4_0:
    case DType::kQ5_0:
    case DType::kQ8_0:
      return DType::kQ8_0;
    case DType::kQ4_1:
    case DType::kQ5_1:
      return DType::kQ8_1;
    case DType::kQ4_K:
    case DType::kQ5_K:
    case DType::kQ6_K:
      return DType::kQ8_K;
    default:
      AUTAN_CHECK(IsComputeType(w));
      return w;
  }
}

bool CanQuantize(DType t) { return IsComputeType(t) || t == DType::kQ8_1 || t == DType::kQ8_K; }

void QuantizeRow(DType t, const float* src, void* dst, size_t n) {
  CheckWholeBlocks(t, n);
  using namespace scalar;  // NOLINT(build/namespaces): the typed kernels
  switch (t) {
    case DType::kF32:
      std::memcpy(dst, src, n * sizeof(float));
      return;
    case DType::kF16:
      for (size_t i = 0; i < n; ++i) As<uint16_t>(dst)[i] = Fp32ToFp16(src[i]);
      return;
    case DType::kBF16:
      for (size_t i = 0; i < n; ++i) As<uint16_t>(dst)[i] = Fp32ToBf16(src[i]);
      return;
    case DType::kQ4_0:
      return QuantizeQ4_0(src, As<BlockQ4_0>(dst), n);
    case DType::kQ4_1:
      return QuantizeQ4_1(src, As<BlockQ4_1>(dst), n);
    case DType::kQ5_0:
      return QuantizeQ5_0(src, As<BlockQ5_0>(dst), n);
    case DType::kQ5_1:
      return QuantizeQ5_1(src, As<BlockQ5_1>(dst), n);
    case DType::kQ8_0:
      return QuantizeQ8_0(src, As<BlockQ8_0>(dst), n);
    case DType::kQ8_1:
      return QuantizeQ8_1(src, As<BlockQ8_1>(dst), n);
    case DType::kQ4_K:
      return QuantizeQ4_K(src, As<BlockQ4_K>(dst), n);
    case DType::kQ5_K:
      return QuantizeQ5_K(src, As<BlockQ5_K>(dst), n);
    case DType::kQ6_K:
      return QuantizeQ6_K(src, As<BlockQ6_K>(dst), n);
    case DType::kQ8_K:
      return QuantizeQ8_K(src, As<BlockQ8_K>(dst), n);
    default:
      AUTAN_CHECK(CanQuantize(t));
  }
}

void DequantizeRow(DType t, const void* src, float* dst, size_t n) {
  CheckWholeBlocks(t, n);
  using namespace scalar;  // NOLINT(build/namespaces)
  switch (t) {
    case DType::kF32:
      std::memcpy(dst, src, n * sizeof(float));
      return;
    case DType::kF16:
      for (size_t i = 0; i < n; ++i) dst[i] = Fp16ToFp32(As<uint16_t>(src)[i]);
      return;
    case DType::kBF16:
      for (size_t i = 0; i < n; ++i) dst[i] = Bf16ToFp32(As<uint16_t>(src)[i]);
      return;
    case DType::kQ4_0:
      return DequantizeQ4_0(As<BlockQ4_0>(src), dst, n);
    case DType::kQ4_1:
      return DequantizeQ4_1(As<BlockQ4_1>(src), dst, n);
    case DType::kQ5_0:
      return DequantizeQ5_0(As<BlockQ5_0>(src), dst, n);
    case DType::kQ5_1:
      return DequantizeQ5_1(As<BlockQ5_1>(src), dst, n);
    case DType::kQ8_0:
      return DequantizeQ8_0(As<BlockQ8_0>(src), dst, n);
    case DType::kQ8_1:
      return DequantizeQ8_1(As<BlockQ8_1>(src), dst, n);
    case DType::kQ4_K:
      return DequantizeQ4_K(As<BlockQ4_K>(src), dst, n);
    case DType::kQ5_K:
      return DequantizeQ5_K(As<BlockQ5_K>(src), dst, n);
    case DType::kQ6_K:
      return DequantizeQ6_K(As<BlockQ6_K>(src), dst, n);
    case DType::kQ8_K:
      return DequantizeQ8_K(As<BlockQ8_K>(src), dst, n);
    default:
      AUTAN_CHECK(CanQuantize(t));
  }
}

float VecDot(DType w, size_t n, const void* w_row, const void* x_row) {
  CheckWholeBlocks(w, n);
  using namespace scalar;  // NOLINT(build/namespaces)
  switch (w) {
    case DType::kF32:
      return DotF32(n, As<float>(w_row), As<float>(x_row));
    case DType::kF16:
      return DotF16(n, As<uint16_t>(w_row), As<uint16_t>(x_row));
    case DType::kBF16:
      return DotBF16(n, As<uint16_t>(w_row), As<uint16_t>(x_row));
    case DType::kQ4_0:
      return DotQ4_0(n, As<BlockQ4_0>(w_row), As<BlockQ8_0>(x_row));
    case DType::kQ4_1:
      return DotQ4_1(n, As<BlockQ4_1>(w_row), As<BlockQ8_1>(x_row));
    case DType::kQ5_0:
      return DotQ5_0(n, As<BlockQ5_0>(w_row), As<BlockQ8_0>(x_row));
    case DType::kQ5_1:
      return DotQ5_1(n, As<BlockQ5_1>(w_row), As<BlockQ8_1>(x_row));
    case DType::kQ8_0:
      return DotQ8_0(n, As<BlockQ8_0>(w_row), As<BlockQ8_0>(x_row));
    case DType::kQ4_K:
      return DotQ4_K(n, As<BlockQ4_K>(w_row), As<BlockQ8_K>(x_row));
    case DType::kQ5_K:
      return DotQ5_K(n, As<BlockQ5_K>(w_row), As<BlockQ8_K>(x_row));
    case DType::kQ6_K:
      return DotQ6_K(n, As<BlockQ6_K>(w_row), As<BlockQ8_K>(x_row));
    default:
      AUTAN_CHECK(IsComputeType(w));
      return 0.0f;
  }
}

}  // namespace autan::kernels
