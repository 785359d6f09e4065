// Builds GGUF byte streams field by field, independently of the writer, so
// tests can state exact layouts and craft malformed files.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/mapped_file.h"

namespace autan::gguf::testing {

class Bytes {
 public:
  template <typename T>
  Bytes& Pod(T v) {
    const size_t at = data.size();
    data.resize(at + sizeof(T));
    std::memcpy(&data[at], &v, sizeof(T));
    return *this;
  }
  Bytes& U8(uint8_t v) { return Pod(v); }
  Bytes& U32(uint32_t v) { return Pod(v); }
  Bytes& U64(uint64_t v) { return Pod(v); }
  Bytes& Raw(std::string_view s) {
    data.insert(data.end(), s.begin(), s.end());
    return *this;
  }
  Bytes& Str(std::string_view s) { return U64(s.size()).Raw(s); }
  Bytes& Zeros(size_t n) {
    data.resize(data.size() + n, 0);
    return *this;
  }
  Bytes& PadTo(size_t alignment) {
    return Zeros((alignment - data.size() % alignment) % alignment);
  }

  Bytes& Header(uint64_t n_tensors, uint64_t n_kv, uint32_t version = 3) {
    return Raw("GGUF").U32(version).U64(n_tensors).U64(n_kv);
  }
  Bytes& KvU32(std::string_view key, uint32_t v) { return Str(key).U32(4).U32(v); }
  Bytes& KvString(std::string_view key, std::string_view v) { return Str(key).U32(8).Str(v); }
  Bytes& Tensor(std::string_view name, const std::vector<uint64_t>& dims, uint32_t type,
                uint64_t offset) {
    Str(name).U32(static_cast<uint32_t>(dims.size()));
    for (uint64_t d : dims) U64(d);
    return U32(type).U64(offset);
  }

  size_t size() const { return data.size(); }
  std::shared_ptr<const MappedFile> Map(std::string name = "test.gguf") const {
    return MappedFile::FromBytes(data, std::move(name));
  }

  std::vector<uint8_t> data;
};

}  // namespace autan::gguf::testing
