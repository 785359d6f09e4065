// How a named file type ("q4_k_m", "q8_0", ...) assigns a weight type to each
// tensor, as llama.cpp's quantizer does: one base type, a type for the LM
// head, and more bits for attn_v and ffn_down in the layers that benefit.
// Shared by `autan synth` and `autan quantize`, so a synth file of a type and
// a quantized synth f32 file of that type are the same bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/dtype.h"

namespace autan {

struct TypePlan {
  std::string_view name;
  DType base;
  DType output;        // LM head
  DType high;          // attn_v / ffn_down of the layers that get more bits (the _M mixes)
  uint32_t file_type;  // llama.cpp's general.file_type code
};

// nullptr for an unknown name.
const TypePlan* FindTypePlan(std::string_view name);
std::vector<std::string> TypePlanNames();

// llama.cpp's rule for which layers of a _M mix keep more bits.
bool UsesMoreBits(int32_t layer, int32_t n_layers);

// The type of GGUF tensor `name` (of `n_layers` layers) under `plan`.
DType PlannedType(const TypePlan& plan, const std::string& name, int32_t n_layers);

}  // namespace autan
