// safetensors reader: the format Mistral and Hugging Face publish weights in.
// A file is an 8-byte little-endian header length, a JSON header naming every
// tensor (dtype, shape, byte range in the data that follows) and the data.
// The header is validated whole before any tensor is used: its length inside
// the file, the JSON well formed and of the expected shape, every dtype known,
// shape times dtype size equal to the byte range, ranges inside the data and
// neither overlapping nor leaving holes. Tensors are views into the mapping.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/dtype.h"
#include "core/mapped_file.h"
#include "core/result.h"

namespace autan::safetensors {

// The reference implementation's limit; real headers are a few hundred KiB.
inline constexpr uint64_t kMaxHeaderBytes = uint64_t{100} << 20;

struct TensorInfo {
  std::string name;
  std::string dtype;            // as written: "F32", "BF16", "I64", ...
  std::optional<DType> type;    // F32, F16 or BF16; other dtypes load as nothing
  std::vector<uint64_t> shape;  // row-major, the last entry is contiguous; [] is a scalar
  uint64_t n_elements = 0;
  uint64_t offset = 0;  // absolute, from the start of the file
  size_t n_bytes = 0;
  const uint8_t* data = nullptr;  // into the mapping; valid while the File lives

  std::span<const uint8_t> bytes() const { return {data, n_bytes}; }
};

class File {
 public:
  static Result<File> Open(const std::string& path);
  static Result<File> Parse(std::shared_ptr<const MappedFile> bytes);

  const std::string& path() const { return map_->path(); }
  // Tensors in file order (by offset).
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* FindTensor(std::string_view name) const;
  // The header's optional "__metadata__" string map.
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  std::shared_ptr<const MappedFile> mapping() const { return map_; }

 private:
  friend class HeaderParser;
  File() = default;

  std::shared_ptr<const MappedFile> map_;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, std::string> metadata_;
  std::unordered_map<std::string, size_t> index_;
};

// A checkpoint: one .safetensors file, or the shards listed by a
// `*.safetensors.index.json` ({"weight_map": {tensor: file}}), every shard
// checked to hold exactly the tensors the index gives it.
class Checkpoint {
 public:
  // `path`: a .safetensors file, an index file, or a folder holding
  // consolidated.safetensors, model.safetensors or model.safetensors.index.json.
  static Result<Checkpoint> Open(const std::string& path);

  const std::vector<File>& files() const { return files_; }
  const TensorInfo* FindTensor(std::string_view name) const;
  size_t n_tensors() const { return index_.size(); }
  // Every tensor, shard by shard.
  std::vector<const TensorInfo*> tensors() const;

 private:
  std::vector<File> files_;
  std::unordered_map<std::string, const TensorInfo*> index_;
};

}  // namespace autan::safetensors
