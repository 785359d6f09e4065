// Kernel sets for x86-64 instruction sets, each built in its own translation
// unit with that instruction set enabled, and the runtime choice among them.
#pragma once

#include <vector>

#include "kernels/matmul.h"

namespace autan::kernels::x86 {

// Each returns its set, or nullptr when this CPU lacks the instructions.
const MatMulKernels* Avx512Kernels();  // AVX-512 F/BW/VL/VNNI (256-bit forms, 32 registers)
const MatMulKernels* Avx2Kernels();    // AVX2 + FMA + F16C

// The fastest set this CPU runs, or nullptr for none (use the scalar set).
const MatMulKernels* BestKernels();
// Every set this CPU runs, slowest first.
std::vector<const MatMulKernels*> SupportedKernels();

}  // namespace autan::kernels::x86
