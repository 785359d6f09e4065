// GGUF v3 writer. Tensors are declared up front with a callback that produces
// their bytes at write time, so a multi-GB model streams to disk one tensor at
// a time. The file appears atomically: it is written to "<path>.tmp" and
// renamed once complete.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/byte_sink.h"
#include "core/dtype.h"
#include "core/result.h"
#include "formats/gguf.h"
#include "formats/gguf_value.h"

namespace autan::gguf {

class Writer {
 public:
  // Fills exactly out.size() bytes of tensor data (the buffer starts zeroed).
  using Fill = std::function<void(std::span<uint8_t> out)>;

  // `alignment` must be a power of two; other than 32 it is recorded as general.alignment.
  explicit Writer(uint32_t alignment = kDefaultAlignment);

  uint32_t alignment() const { return alignment_; }

  // Sets `key`, replacing an existing value in place (so key order is stable).
  void Set(std::string key, Value v);
  void SetU32(std::string key, uint32_t v) { Set(std::move(key), Value::U32(v)); }
  void SetI32(std::string key, int32_t v) { Set(std::move(key), Value::I32(v)); }
  void SetU64(std::string key, uint64_t v) { Set(std::move(key), Value::U64(v)); }
  void SetF32(std::string key, float v) { Set(std::move(key), Value::F32(v)); }
  void SetBool(std::string key, bool v) { Set(std::move(key), Value::Bool(v)); }
  void SetString(std::string key, std::string v) {
    Set(std::move(key), Value::String(std::move(v)));
  }
  void SetStringArray(std::string key, std::vector<std::string> v) {
    Set(std::move(key), Value::StringArray(std::move(v)));
  }
  void SetF32Array(std::string key, std::span<const float> v) {
    Set(std::move(key), Value::F32Array(v));
  }
  void SetI32Array(std::string key, std::span<const int32_t> v) {
    Set(std::move(key), Value::I32Array(v));
  }
  void Remove(std::string_view key);
  const Value* Find(std::string_view key) const;
  const std::vector<std::pair<std::string, Value>>& metadata() const { return metadata_; }

  // Copies every key of `src` starting with `prefix` (all keys when empty), e.g.
  // "tokenizer." to carry a vocabulary over. general.alignment is a layout
  // property of `src`, not metadata, and is never copied.
  void CopyMetadata(const File& src, std::string_view prefix = {});

  // Declares a tensor; `dims[0]` is the row length. Shapes are validated by Write.
  void AddTensor(std::string name, DType type, std::vector<uint64_t> dims, Fill fill);
  // Same, with bytes that must stay alive until Write returns.
  void AddTensorBytes(std::string name, DType type, std::vector<uint64_t> dims,
                      std::span<const uint8_t> bytes);
  size_t tensor_count() const { return tensors_.size(); }

  // Writes the file (via "<path>.tmp" and a rename).
  Status Write(const std::string& path) const;
  // The same bytes, in memory (small files and tests).
  Result<std::vector<uint8_t>> Serialize() const;

 private:
  struct PendingTensor {
    std::string name;
    DType type;
    std::vector<uint64_t> dims;
    Fill fill;
    size_t given_bytes;  // size of AddTensorBytes data, SIZE_MAX for a Fill
  };
  using Sink = ByteSink;

  Result<std::vector<size_t>> Layout() const;  // validates; returns byte sizes
  Status Emit(const Sink& sink) const;

  uint32_t alignment_;
  std::vector<std::pair<std::string, Value>> metadata_;
  std::vector<PendingTensor> tensors_;
};

}  // namespace autan::gguf
