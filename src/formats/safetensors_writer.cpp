#include "formats/safetensors_writer.h"

#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <unordered_set>

namespace autan::safetensors {
namespace {

constexpr size_t kGiven = std::numeric_limits<size_t>::max();

const char* DTypeName(DType t) {
  switch (t) {
    case DType::kF32:
      return "F32";
    case DType::kF16:
      return "F16";
    case DType::kBF16:
      return "BF16";
    default:
      return nullptr;
  }
}

}  // namespace

void Writer::AddTensor(std::string name, DType type, std::vector<uint64_t> shape, Fill fill) {
  tensors_.push_back({std::move(name), type, std::move(shape), std::move(fill), kGiven});
}

void Writer::AddTensorBytes(std::string name, DType type, std::vector<uint64_t> shape,
                            std::span<const uint8_t> bytes) {
  Fill fill = [bytes](std::span<uint8_t> out) {
    if (!out.empty()) std::memcpy(out.data(), bytes.data(), out.size());
  };
  tensors_.push_back({std::move(name), type, std::move(shape), std::move(fill), bytes.size()});
}

Result<std::string> Writer::Header() const {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata_.empty()) header["__metadata__"] = metadata_;
  std::unordered_set<std::string_view> names;
  uint64_t offset = 0;
  for (const Pending& t : tensors_) {
    const char* name = t.name.c_str();
    if (t.name.empty() || t.name == "__metadata__") return Fail("tensor '%s': bad name", name);
    if (!names.insert(t.name).second) return Fail("tensor '%s': duplicate name", name);
    const char* dtype = DTypeName(t.type);
    if (dtype == nullptr) {
      return Fail("tensor '%s': type %s has no safetensors dtype (F32, F16 or BF16 only)", name,
                  std::string(Info(t.type).name).c_str());
    }
    uint64_t n_bytes = Info(t.type).type_size;
    for (uint64_t d : t.shape) {
      if (d != 0 && n_bytes > (uint64_t{1} << 62) / d) {
        return Fail("tensor '%s': shape is too large", name);
      }
      n_bytes *= d;
    }
    if (t.given_bytes != kGiven && t.given_bytes != n_bytes) {
      return Fail("tensor '%s': %zu bytes given, the shape needs %llu", name, t.given_bytes,
                  static_cast<unsigned long long>(n_bytes));
    }
    header[t.name] = {
        {"dtype", dtype}, {"shape", t.shape}, {"data_offsets", {offset, offset + n_bytes}}};
    offset += n_bytes;
  }
  // Padded with spaces so the data starts 8-byte aligned, as the reference writer does.
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  return text;
}

Status Writer::Emit(const Sink& sink) const {
  Result<std::string> header = Header();
  if (!header.ok()) return header.error();
  uint8_t length[8];
  for (int i = 0; i < 8; ++i) length[i] = static_cast<uint8_t>(header->size() >> (8 * i));
  AUTAN_TRY(sink({length, 8}));
  AUTAN_TRY(sink({reinterpret_cast<const uint8_t*>(header->data()), header->size()}));
  std::vector<uint8_t> buffer;
  for (const Pending& t : tensors_) {
    uint64_t n = Info(t.type).type_size;
    for (uint64_t d : t.shape) n *= d;
    buffer.assign(static_cast<size_t>(n), 0);
    t.fill(std::span<uint8_t>(buffer.data(), buffer.size()));
    AUTAN_TRY(sink({buffer.data(), buffer.size()}));
  }
  return {};
}

Result<std::vector<uint8_t>> Writer::Serialize() const {
  return CollectBytes([this](const ByteSink& sink) { return Emit(sink); });
}

Status Writer::Write(const std::string& path) const {
  return WriteFileAtomically(path, [this](const ByteSink& sink) { return Emit(sink); });
}

}  // namespace autan::safetensors
