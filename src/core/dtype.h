// Tensor element types, numbered as in GGUF (ggml_type), with their block
// geometry. Quantized types pack `block_size` values into `type_size` bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace autan {

enum class DType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ5_0 = 6,
  kQ5_1 = 7,
  kQ8_0 = 8,
  kQ8_1 = 9,
  kQ2_K = 10,
  kQ3_K = 11,
  kQ4_K = 12,
  kQ5_K = 13,
  kQ6_K = 14,
  kQ8_K = 15,
  kIQ2_XXS = 16,
  kIQ2_XS = 17,
  kIQ3_XXS = 18,
  kIQ1_S = 19,
  kIQ4_NL = 20,
  kIQ3_S = 21,
  kIQ2_S = 22,
  kIQ4_XS = 23,
  kI8 = 24,
  kI16 = 25,
  kI32 = 26,
  kI64 = 27,
  kF64 = 28,
  kIQ1_M = 29,
  kBF16 = 30,
  kTQ1_0 = 34,
  kTQ2_0 = 35,
};

struct DTypeInfo {
  std::string_view name;  // as llama.cpp prints it, e.g. "q4_K"
  uint32_t block_size;    // values per block
  uint32_t type_size;     // bytes per block
};

// Geometry of a GGUF type id, or nullopt when the id is unknown.
std::optional<DTypeInfo> LookupDType(uint32_t id);
// Same for a known enum value (never fails).
DTypeInfo Info(DType t);
// The type named `name` (case-insensitive, "q4_k", "Q8_0", "bf16"...).
std::optional<DType> ParseDType(std::string_view name);

// Bytes of a row of `n` values, or nullopt when n is not a whole number of blocks
// or the size overflows.
std::optional<size_t> RowBytes(DType t, uint64_t n);

}  // namespace autan
