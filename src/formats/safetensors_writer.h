// safetensors writer: the layout the reader (formats/safetensors.h) accepts
// and Hugging Face's library writes. Tensors are declared up front and their
// bytes produced one at a time at write time, so a large checkpoint streams
// to disk; the file appears atomically ("<path>.tmp", then a rename).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "core/byte_sink.h"
#include "core/dtype.h"
#include "core/result.h"

namespace autan::safetensors {

class Writer {
 public:
  // Fills exactly out.size() bytes of one tensor's data.
  using Fill = std::function<void(std::span<uint8_t> out)>;

  // A "__metadata__" entry (Hugging Face writes {"format": "pt"}).
  void SetMetadata(std::string key, std::string value) { metadata_[std::move(key)] = value; }

  // `shape` is row-major (the last entry contiguous), as the format has it.
  // Only F32, F16 and BF16 have a safetensors dtype here; Write rejects others.
  void AddTensor(std::string name, DType type, std::vector<uint64_t> shape, Fill fill);
  // Same, with bytes that must stay alive until Write returns.
  void AddTensorBytes(std::string name, DType type, std::vector<uint64_t> shape,
                      std::span<const uint8_t> bytes);
  size_t tensor_count() const { return tensors_.size(); }

  Status Write(const std::string& path) const;
  Result<std::vector<uint8_t>> Serialize() const;

 private:
  struct Pending {
    std::string name;
    DType type;
    std::vector<uint64_t> shape;
    Fill fill;
    size_t given_bytes;  // AddTensorBytes' size, SIZE_MAX for a Fill
  };
  using Sink = ByteSink;

  Result<std::string> Header() const;  // validates; the padded header text
  Status Emit(const Sink& sink) const;

  std::map<std::string, std::string> metadata_;
  std::vector<Pending> tensors_;
};

}  // namespace autan::safetensors
