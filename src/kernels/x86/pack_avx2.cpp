// Activation conversion for the x86 kernels. Built without ISA flags: the
// quantization itself is the scalar reference's, so activations round exactly
// as QuantizeRow (and llama.cpp) round them.
#include <cstring>

#include "core/fp16.h"
#include "kernels/quant.h"
#include "kernels/quant_blocks.h"
#include "kernels/x86/packed.h"

namespace autan::kernels::x86 {
namespace {

void PackQ8(int32_t zero_point, bool with_sum, const float* x, size_t n, uint8_t* dst) {
  PackedQ8Block* out = reinterpret_cast<PackedQ8Block*>(dst);
  for (size_t i = 0; i < n / kQK; ++i, x += kQK) {
    PackedQ8Block& p = out[i];
    std::memset(&p, 0, sizeof(p));
    if (with_sum) {
      BlockQ8_1 b;
      QuantizeRow(DType::kQ8_1, x, &b, kQK);
      std::memcpy(p.qs, b.qs, kQK);
      p.d = Fp16ToFp32(b.d);
      p.s = Fp16ToFp32(b.s);
    } else {
      BlockQ8_0 b;
      QuantizeRow(DType::kQ8_0, x, &b, kQK);
      std::memcpy(p.qs, b.qs, kQK);
      p.d = Fp16ToFp32(b.d);
    }
    for (int k = 0; k < 4; ++k) {
      int32_t sum = 0;
      for (int j = 0; j < 4; ++j) sum += p.qs[4 * k + j] + p.qs[16 + 4 * k + j];
      p.bias[k] = -zero_point * sum;
    }
  }
}

}  // namespace

size_t PackedQ8Bytes(size_t n) { return n / kQK * sizeof(PackedQ8Block); }

void PackQ8ForQ4_0(const float* x, size_t n, uint8_t* dst) { PackQ8(8, false, x, n, dst); }
void PackQ8ForQ5_0(const float* x, size_t n, uint8_t* dst) { PackQ8(16, false, x, n, dst); }
void PackQ8ForQ8_0(const float* x, size_t n, uint8_t* dst) { PackQ8(0, false, x, n, dst); }
void PackQ8_1(const float* x, size_t n, uint8_t* dst) { PackQ8(0, true, x, n, dst); }

size_t PackedFloatBytes(size_t n) { return n * sizeof(float); }

void PackF16(const float* x, size_t n, uint8_t* dst) {
  float* out = reinterpret_cast<float*>(dst);
  for (size_t i = 0; i < n; ++i) out[i] = Fp16ToFp32(Fp32ToFp16(x[i]));
}

void PackBF16(const float* x, size_t n, uint8_t* dst) {
  float* out = reinterpret_cast<float*>(dst);
  for (size_t i = 0; i < n; ++i) out[i] = Bf16ToFp32(Fp32ToBf16(x[i]));
}

}  // namespace autan::kernels::x86
