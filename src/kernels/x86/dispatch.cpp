// Built without ISA flags: asks the CPU what it supports and assembles the
// kernel tables from the instruction-set units' function addresses.
#include "kernels/x86/dispatch.h"

#include <cpuid.h>

#include "kernels/x86/kernels.h"
#include "kernels/x86/packed.h"

namespace autan::kernels::x86 {
namespace {

// F16C from CPUID itself: clang before 16 does not know "f16c" in
// __builtin_cpu_supports.
bool HasF16c() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  return __get_cpuid(1, &eax, &ebx, &ecx, &edx) != 0 && (ecx & bit_F16C) != 0;
}

bool HasAvx2() {
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && HasF16c();
}

bool HasAvx512() {
  return HasAvx2() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
         __builtin_cpu_supports("avx512vnni");
}

// Sets the entry of `t` when the instruction set has a kernel for it.
void Use(MatMulKernels& k, DType t, GemmFn gemm, size_t (*bytes)(size_t, size_t),
         void (*pack)(const float*, size_t, size_t, size_t, size_t, uint8_t*)) {
  if (gemm != nullptr) k.For(t) = {bytes, pack, gemm};
}

MatMulKernels MakeTable(const GemmSet& g) {
  MatMulKernels k = ScalarKernels();
  k.name = g.name;
  Use(k, DType::kF32, g.f32, PackedFloatBytes, nullptr);
  Use(k, DType::kF16, g.f16, PackedFloatBytes, PackF16);
  Use(k, DType::kBF16, g.bf16, PackedFloatBytes, PackBF16);
  Use(k, DType::kQ4_0, g.q4_0, PackedQ8Bytes, PackQ8ForQ4_0);
  Use(k, DType::kQ5_0, g.q5_0, PackedQ8Bytes, PackQ8ForQ5_0);
  Use(k, DType::kQ8_0, g.q8_0, PackedQ8Bytes, PackQ8ForQ8_0);
  Use(k, DType::kQ4_1, g.q4_1, PackedQ8Bytes, PackQ8_1);
  Use(k, DType::kQ5_1, g.q5_1, PackedQ8Bytes, PackQ8_1);
  Use(k, DType::kQ4_K, g.q4_k, PackedQ8KBytes, PackQ8_K);
  Use(k, DType::kQ5_K, g.q5_k, PackedQ8KBytes, PackQ8_K);
  Use(k, DType::kQ6_K, g.q6_k, PackedQ8KBytes, PackQ8_K);
  return k;
}

}  // namespace

const MatMulKernels* Avx512Kernels() {
  if (!HasAvx512()) return nullptr;
  static const MatMulKernels k = MakeTable(kAvx512Gemms);
  return &k;
}

const MatMulKernels* Avx2Kernels() {
  if (!HasAvx2()) return nullptr;
  static const MatMulKernels k = MakeTable(kAvx2Gemms);
  return &k;
}

const MatMulKernels* BestKernels() {
  if (const MatMulKernels* k = Avx512Kernels()) return k;
  return Avx2Kernels();
}

std::vector<const MatMulKernels*> SupportedKernels() {
  std::vector<const MatMulKernels*> sets;
  for (const MatMulKernels* k : {Avx2Kernels(), Avx512Kernels()}) {
    if (k != nullptr) sets.push_back(k);
  }
  return sets;
}

}  // namespace autan::kernels::x86
