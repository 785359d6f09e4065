// GGUF reader. The whole header is validated once at Parse time (this is where
// untrusted model files enter the program): every count, length, shape, type
// and data range is checked against the file before it is used, and each
// failure names the field and its byte offset. Tensors are views into the
// memory-mapped file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/dtype.h"
#include "core/mapped_file.h"
#include "core/result.h"
#include "formats/gguf_value.h"

namespace autan::gguf {

inline constexpr uint32_t kDefaultAlignment = 32;
inline constexpr std::string_view kAlignmentKey = "general.alignment";
// Arrays may nest (the format allows it); deeper nesting is rejected so a
// hostile file cannot exhaust the stack.
inline constexpr int kMaxArrayDepth = 8;

struct TensorInfo {
  std::string name;
  DType type = DType::kF32;
  std::vector<uint64_t> dims;  // 1..4 entries; dims[0] is the row length
  uint64_t n_elements = 0;
  uint64_t offset = 0;  // absolute, in bytes from the start of the file
  size_t n_bytes = 0;
  const uint8_t* data = nullptr;  // into the mapping; valid while the File lives

  std::span<const uint8_t> bytes() const { return {data, n_bytes}; }
  uint64_t n_rows() const { return dims[0] == 0 ? 0 : n_elements / dims[0]; }
};

class File {
 public:
  static Result<File> Open(const std::string& path);
  static Result<File> Parse(std::shared_ptr<const MappedFile> bytes);
  // A File assembled in memory rather than parsed: a checkpoint of another
  // format seen as GGUF. Tensor data lie wherever `keep_alive` holds them
  // (mappings, converted buffers), which every copy of the File keeps alive.
  // Checked like a parsed file: unique keys and names, 1 to 4 dims, bytes
  // matching type and shape. `name` stands for the path in messages.
  static Result<File> Compose(std::string name, std::vector<std::pair<std::string, Value>> metadata,
                              std::vector<TensorInfo> tensors,
                              std::vector<std::shared_ptr<const void>> keep_alive);

  const std::string& path() const { return map_->path(); }
  uint32_t version() const { return version_; }
  size_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }  // may exceed the size without tensors

  const std::vector<std::pair<std::string, Value>>& metadata() const { return metadata_; }
  const Value* Find(std::string_view key) const;

  // Typed getters; errors name the file and the key ("key 'x': expected u32, got
  // string"). Integer getters accept any integer type whose value fits.
  Result<uint64_t> GetUInt(std::string_view key) const;
  Result<int64_t> GetInt(std::string_view key) const;
  Result<float> GetFloat(std::string_view key) const;  // f32, f64 or integer
  Result<bool> GetBool(std::string_view key) const;
  Result<std::string_view> GetString(std::string_view key) const;
  // For optional keys: `fallback` when absent, an error when present with a wrong type.
  Result<uint64_t> GetUIntOr(std::string_view key, uint64_t fallback) const;
  Result<float> GetFloatOr(std::string_view key, float fallback) const;
  // nullopt when absent or not an unsigned-representable integer.
  std::optional<uint64_t> FindUInt(std::string_view key) const;

  Result<std::vector<std::string>> GetStringArray(std::string_view key) const;
  // A view of a string array, without copying the strings.
  Result<std::span<const std::string>> GetStringSpan(std::string_view key) const;
  Result<std::vector<float>> GetFloatArray(std::string_view key) const;  // float or integer
  Result<std::vector<int32_t>> GetIntArray(std::string_view key) const;  // integers fitting i32

  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* FindTensor(std::string_view name) const;

  // Tensor data stays valid while any copy of this File or of the mapping lives.
  std::shared_ptr<const MappedFile> mapping() const { return map_; }

 private:
  friend class FileParser;
  File() = default;

  Result<const Value*> Require(std::string_view key) const;
  Error KeyError(std::string_view key, const char* expected, const Value& got) const;

  std::shared_ptr<const MappedFile> map_;
  uint32_t version_ = 0;
  size_t alignment_ = kDefaultAlignment;
  uint64_t data_offset_ = 0;
  std::vector<std::pair<std::string, Value>> metadata_;
  std::vector<uint64_t> value_offsets_;  // file offset of each metadata value
  std::vector<TensorInfo> tensors_;
  // Keys are views into the mapping, so copies of a File share them safely.
  std::unordered_map<std::string_view, size_t> key_index_;
  std::unordered_map<std::string_view, size_t> tensor_index_;
  std::vector<std::shared_ptr<const void>> keep_alive_;  // composed files' tensor data
};

}  // namespace autan::gguf
