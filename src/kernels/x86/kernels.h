// The products each instruction-set unit exports. Only function addresses
// cross the unit boundary: the tables are assembled in dispatch.cpp, which is
// built without ISA flags.
#pragma once

#include "kernels/matmul.h"

namespace autan::kernels::x86 {

using GemmFn = void (*)(const GemmArgs&);

// One instruction set's products by weight type; null where the scalar
// reference is used.
struct GemmSet {
  const char* name;
  GemmFn f32;
  GemmFn f16;
  GemmFn bf16;
  GemmFn q4_0;
  GemmFn q4_1;
  GemmFn q5_0;
  GemmFn q5_1;
  GemmFn q8_0;
  GemmFn q4_k;
  GemmFn q5_k;
  GemmFn q6_k;
};

extern const GemmSet kAvx512Gemms;  // avx512.cpp
extern const GemmSet kAvx2Gemms;    // avx2.cpp

}  // namespace autan::kernels::x86
