#include "model/weights.h"

#include <limits>

#include "kernels/quant.h"

namespace autan {

bool HasTensor(const gguf::File& file, const std::string& name) {
  return file.FindTensor(name) != nullptr;
}

Result<Tensor> BindTensor(const gguf::File& file, const std::string& name, int64_t cols,
                          int64_t rows) {
  const gguf::TensorInfo* info = file.FindTensor(name);
  if (info == nullptr) return Fail("missing tensor '%s'", name.c_str());
  const bool is_vector = rows == 1;
  const bool shape_ok =
      info->dims.size() >= 1 && static_cast<int64_t>(info->dims[0]) == cols &&
      (info->dims.size() == 1 ? is_vector
                              : static_cast<int64_t>(info->dims[1]) == rows &&
                                    (info->dims.size() == 2 ||
                                     info->n_elements == static_cast<uint64_t>(cols * rows)));
  if (!shape_ok) {
    std::string dims;
    for (uint64_t d : info->dims) dims += (dims.empty() ? "" : ", ") + std::to_string(d);
    return Fail("tensor '%s' has shape [%s], expected [%lld, %lld]", name.c_str(), dims.c_str(),
                static_cast<long long>(cols), static_cast<long long>(rows));
  }
  if (!is_vector && !kernels::IsComputeType(info->type)) {
    return Fail("tensor '%s' has type %s, which this engine cannot compute with", name.c_str(),
                std::string(Info(info->type).name).c_str());
  }
  if (is_vector && info->type != DType::kF32) {
    return Fail("tensor '%s' has type %s, expected f32", name.c_str(),
                std::string(Info(info->type).name).c_str());
  }
  Tensor t;
  t.type = info->type;
  t.cols = cols;
  t.rows = rows;
  t.row_bytes = *RowBytes(info->type, static_cast<uint64_t>(cols));
  t.data = info->data;
  return t;
}

Result<int32_t> ReadCount(const gguf::File& file, const std::string& key) {
  Result<uint64_t> v = file.GetUInt(key);
  if (!v.ok()) return v.error();
  if (*v > static_cast<uint64_t>(std::numeric_limits<int32_t>::max())) {
    return Fail("metadata '%s' = %llu is too large", key.c_str(),
                static_cast<unsigned long long>(*v));
  }
  return static_cast<int32_t>(*v);
}

int32_t ReadCountOr(const gguf::File& file, const std::string& key, int32_t fallback) {
  if (file.Find(key) == nullptr) return fallback;
  Result<int32_t> v = ReadCount(file, key);
  return v.ok() ? *v : -1;  // -1 fails validation with the key's range message
}

float ReadFloatOr(const gguf::File& file, const std::string& key, float fallback) {
  if (file.Find(key) == nullptr) return fallback;
  Result<float> v = file.GetFloat(key);
  return v.ok() ? *v : std::numeric_limits<float>::quiet_NaN();
}

}  // namespace autan
