// A typed, shaped view of a weight matrix inside the mapped model file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/dtype.h"

namespace autan {

struct Tensor {
  DType type = DType::kF32;
  int64_t cols = 0;  // values per row (GGUF ne0)
  int64_t rows = 1;  // GGUF ne1 (1 for vectors)
  size_t row_bytes = 0;
  const uint8_t* data = nullptr;

  const uint8_t* Row(int64_t r) const { return data + static_cast<size_t>(r) * row_bytes; }
  const float* F32() const { return reinterpret_cast<const float*>(data); }
  explicit operator bool() const { return data != nullptr; }
};

}  // namespace autan
