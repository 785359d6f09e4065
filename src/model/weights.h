// Binding named GGUF tensors to typed views, with every shape checked so a
// missing or misshapen tensor is reported by name.
#pragma once

#include <cstdint>
#include <string>

#include "core/result.h"
#include "formats/gguf.h"
#include "model/tensor.h"

namespace autan {

// Matrix [rows][cols] stored as GGUF dims [cols, rows]; a vector is rows == 1.
Result<Tensor> BindTensor(const gguf::File& file, const std::string& name, int64_t cols,
                          int64_t rows);
bool HasTensor(const gguf::File& file, const std::string& name);

// Metadata helpers that name the key in their errors.
Result<int32_t> ReadCount(const gguf::File& file, const std::string& key);
int32_t ReadCountOr(const gguf::File& file, const std::string& key, int32_t fallback);
float ReadFloatOr(const gguf::File& file, const std::string& key, float fallback);

}  // namespace autan
