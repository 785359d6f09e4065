#include "formats/gguf_writer.h"

#include <cinttypes>
#include <cstring>
#include <limits>
#include <unordered_set>

#include "core/check.h"

namespace autan::gguf {
namespace {

constexpr uint32_t kWriteVersion = 3;

void AppendU32(uint32_t v, std::string& out) { out.append(reinterpret_cast<const char*>(&v), 4); }
void AppendU64(uint64_t v, std::string& out) { out.append(reinterpret_cast<const char*>(&v), 8); }
void AppendString(std::string_view s, std::string& out) {
  AppendU64(s.size(), out);
  out.append(s);
}

uint64_t Padding(uint64_t n, uint64_t alignment) { return (alignment - n % alignment) % alignment; }

}  // namespace

Writer::Writer(uint32_t alignment) : alignment_(alignment) {
  AUTAN_CHECK(alignment != 0 && (alignment & (alignment - 1)) == 0);
  if (alignment != kDefaultAlignment) SetU32(std::string(kAlignmentKey), alignment);
}

void Writer::Set(std::string key, Value v) {
  for (auto& [k, value] : metadata_) {
    if (k == key) {
      value = std::move(v);
      return;
    }
  }
  metadata_.emplace_back(std::move(key), std::move(v));
}

void Writer::Remove(std::string_view key) {
  std::erase_if(metadata_, [&](const auto& kv) { return kv.first == key; });
}

const Value* Writer::Find(std::string_view key) const {
  for (const auto& [k, v] : metadata_) {
    if (k == key) return &v;
  }
  return nullptr;
}

void Writer::CopyMetadata(const File& src, std::string_view prefix) {
  for (const auto& [key, value] : src.metadata()) {
    if (key == kAlignmentKey || !key.starts_with(prefix)) continue;
    Set(key, value);
  }
}

void Writer::AddTensor(std::string name, DType type, std::vector<uint64_t> dims, Fill fill) {
  tensors_.push_back({std::move(name), type, std::move(dims), std::move(fill),
                      std::numeric_limits<size_t>::max()});
}

void Writer::AddTensorBytes(std::string name, DType type, std::vector<uint64_t> dims,
                            std::span<const uint8_t> bytes) {
  Fill fill = [bytes](std::span<uint8_t> out) {
    if (!out.empty()) std::memcpy(out.data(), bytes.data(), out.size());
  };
  tensors_.push_back({std::move(name), type, std::move(dims), std::move(fill), bytes.size()});
}

Result<std::vector<size_t>> Writer::Layout() const {
  if (const Value* a = Find(kAlignmentKey); a != nullptr && a->AsUInt() != alignment_) {
    return Fail("key %s is %s but the file is written with alignment %" PRIu32,
                std::string(kAlignmentKey).c_str(), ValueToString(*a).c_str(), alignment_);
  }
  std::vector<size_t> sizes;
  std::unordered_set<std::string_view> names;
  for (const PendingTensor& t : tensors_) {
    const char* name = t.name.c_str();
    if (!names.insert(t.name).second) return Fail("tensor '%s': duplicate name", name);
    if (t.dims.empty() || t.dims.size() > 4) {
      return Fail("tensor '%s': %zu dimensions, expected 1..4", name, t.dims.size());
    }
    const std::optional<size_t> row = RowBytes(t.type, t.dims[0]);
    if (!row) {
      return Fail("tensor '%s': row length %" PRIu64 " is not a multiple of the %s block size",
                  name, t.dims[0], std::string(Info(t.type).name).c_str());
    }
    uint64_t n_bytes = *row;
    uint64_t n_elements = t.dims[0];
    for (size_t d = 1; d < t.dims.size(); ++d) {
      const uint64_t dim = t.dims[d];
      const uint64_t max = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
      if (dim != 0 && (n_elements > max / dim || n_bytes > max / dim)) {
        return Fail("tensor '%s': shape is too large", name);
      }
      n_elements *= dim;
      n_bytes *= dim;
    }
    if (t.given_bytes != std::numeric_limits<size_t>::max() && t.given_bytes != n_bytes) {
      return Fail("tensor '%s': %zu bytes given, the shape needs %" PRIu64, name, t.given_bytes,
                  n_bytes);
    }
    sizes.push_back(static_cast<size_t>(n_bytes));
  }
  return sizes;
}

Status Writer::Emit(const Sink& sink) const {
  auto sizes = Layout();
  if (!sizes.ok()) return sizes.error();

  std::string header = "GGUF";
  AppendU32(kWriteVersion, header);
  AppendU64(tensors_.size(), header);
  AppendU64(metadata_.size(), header);
  for (const auto& [key, value] : metadata_) {
    AppendString(key, header);
    AppendU32(static_cast<uint32_t>(value.type()), header);
    AppendPayload(value, header);
  }
  uint64_t offset = 0;
  for (size_t i = 0; i < tensors_.size(); ++i) {
    const PendingTensor& t = tensors_[i];
    AppendString(t.name, header);
    AppendU32(static_cast<uint32_t>(t.dims.size()), header);
    for (uint64_t d : t.dims) AppendU64(d, header);
    AppendU32(static_cast<uint32_t>(t.type), header);
    AppendU64(offset, header);
    offset += (*sizes)[i] + Padding((*sizes)[i], alignment_);
  }
  header.append(Padding(header.size(), alignment_), '\0');
  AUTAN_TRY(sink({reinterpret_cast<const uint8_t*>(header.data()), header.size()}));

  // Each tensor is padded so the next starts aligned, the last one too (as ggml
  // writes it, since ggml's reader loads the padded data section).
  std::vector<uint8_t> buffer;
  const std::vector<uint8_t> zeros(alignment_, 0);
  for (size_t i = 0; i < tensors_.size(); ++i) {
    const size_t n = (*sizes)[i];
    buffer.assign(n, 0);
    tensors_[i].fill(std::span<uint8_t>(buffer.data(), n));
    AUTAN_TRY(sink({buffer.data(), n}));
    AUTAN_TRY(sink({zeros.data(), static_cast<size_t>(Padding(n, alignment_))}));
  }
  return {};
}

Result<std::vector<uint8_t>> Writer::Serialize() const {
  return CollectBytes([this](const ByteSink& sink) { return Emit(sink); });
}

Status Writer::Write(const std::string& path) const {
  return WriteFileAtomically(path, [this](const ByteSink& sink) { return Emit(sink); });
}

}  // namespace autan::gguf
