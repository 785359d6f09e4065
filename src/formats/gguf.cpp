#include "formats/gguf.h"

#include <algorithm>
#include <cinttypes>
#include <cstdarg>
#include <cstring>
#include <limits>

#include "core/check.h"

namespace autan::gguf {
namespace {

constexpr uint8_t kMagic[4] = {'G', 'G', 'U', 'F'};
// The smallest encodings, used to bound counts by the bytes left: a key-value
// pair is an empty key (u64 length), a u32 type and a one-byte value; a tensor
// info is an empty name, n_dims, one dim, a type and an offset.
constexpr uint64_t kMinKvBytes = 8 + 4 + 1;
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 8 + 4 + 8;
constexpr uint64_t kMinArrayBytes = 4 + 8;  // element type and count
constexpr uint32_t kMaxDims = 4;
// Element counts are int64 in ggml; larger shapes are corrupt.
constexpr uint64_t kMaxElements = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
// Up-front reservations are capped; beyond that vectors grow only as elements
// are actually parsed, so a claimed count cannot allocate ahead of the bytes.
constexpr uint64_t kReserveCap = uint64_t{1} << 20;
// Structures that cost far more in memory than in the file are capped well
// above anything real (models have hundreds of keys and a few thousand
// tensors; ggml does not even allow nested arrays), so a hostile file cannot
// turn its size into ten times as much heap.
constexpr uint64_t kMaxMetadataEntries = uint64_t{1} << 20;
constexpr uint64_t kMaxTensors = uint64_t{1} << 20;
constexpr uint64_t kMaxNestedArrays = uint64_t{1} << 20;  // in the whole file

uint64_t MinElementBytes(ValueType t) {
  if (t == ValueType::kString) return 8;
  if (t == ValueType::kArray) return kMinArrayBytes;
  return ScalarSize(t);
}

std::string ShapeString(const std::vector<uint64_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i > 0) s += ", ";
    s += std::to_string(dims[i]);
  }
  return s + "]";
}

}  // namespace

// Reads a GGUF header front to back; every read checks the bytes left first.
class FileParser {
 public:
  explicit FileParser(std::shared_ptr<const MappedFile> map)
      : map_(std::move(map)), p_(map_->data()), size_(map_->size()) {}

  Result<File> Run();

 private:
  [[gnu::format(printf, 3, 4)]] Error At(uint64_t offset, const char* fmt, ...) const;
  uint64_t left() const { return size_ - pos_; }
  Status Need(uint64_t n, const char* field) const;
  Result<uint32_t> ReadU32(const char* field);
  Result<uint64_t> ReadU64(const char* field);
  Result<std::string_view> ReadString(const char* field);
  Result<ValueType> ReadType(const char* field);
  Result<Value> ReadValue(ValueType type, int depth);
  Result<Value> ReadArray(int depth);

  Status ReadHeader(File& f, uint64_t& n_tensors, uint64_t& n_kv);
  Status ReadMetadata(File& f, uint64_t n_kv);
  Status ReadAlignment(File& f);
  Status ReadTensorInfo(File& f, uint64_t index);
  Status CheckTensorData(File& f);

  std::shared_ptr<const MappedFile> map_;
  const uint8_t* p_;
  uint64_t size_;
  uint64_t pos_ = 0;
  std::string context_ = "header";      // what is being read, for messages
  std::vector<uint64_t> info_offsets_;  // where each tensor info starts
  uint64_t nested_arrays_ = 0;          // arrays read as elements of arrays
};

Error FileParser::At(uint64_t offset, const char* fmt, ...) const {
  va_list args;
  va_start(args, fmt);
  char buf[512];
  std::vsnprintf(buf, sizeof(buf), fmt, args);
  va_end(args);
  return Fail("%s: offset %" PRIu64 ": %s: %s", map_->path().c_str(), offset, context_.c_str(),
              buf);
}

Status FileParser::Need(uint64_t n, const char* field) const {
  if (n <= left()) return {};
  return At(pos_,
            "%s needs %" PRIu64 " bytes but the file ends after %" PRIu64 " (size %" PRIu64 ")",
            field, n, left(), size_);
}

Result<uint32_t> FileParser::ReadU32(const char* field) {
  AUTAN_TRY(Need(4, field));
  uint32_t v;
  std::memcpy(&v, p_ + pos_, 4);
  pos_ += 4;
  return v;
}

Result<uint64_t> FileParser::ReadU64(const char* field) {
  AUTAN_TRY(Need(8, field));
  uint64_t v;
  std::memcpy(&v, p_ + pos_, 8);
  pos_ += 8;
  return v;
}

Result<std::string_view> FileParser::ReadString(const char* field) {
  const uint64_t at = pos_;
  AUTAN_TRY(Need(8, field));
  uint64_t n;
  std::memcpy(&n, p_ + pos_, 8);
  if (n > left() - 8) {
    return At(at, "%s length %" PRIu64 " exceeds the %" PRIu64 " bytes left in the file", field, n,
              left() - 8);
  }
  pos_ += 8;
  std::string_view s(reinterpret_cast<const char*>(p_ + pos_), n);
  pos_ += n;
  return s;
}

Result<ValueType> FileParser::ReadType(const char* field) {
  const uint64_t at = pos_;
  auto t = ReadU32(field);
  if (!t.ok()) return t.error();
  if (*t >= kValueTypeCount) return At(at, "unknown %s %" PRIu32, field, *t);
  return static_cast<ValueType>(*t);
}

Result<Value> FileParser::ReadValue(ValueType type, int depth) {
  if (type == ValueType::kArray) return ReadArray(depth);
  if (type == ValueType::kString) {
    auto s = ReadString("string");
    if (!s.ok()) return s.error();
    return Value::String(std::string(*s));
  }
  const size_t n = ScalarSize(type);
  AUTAN_TRY(Need(n, ValueTypeName(type).c_str()));
  if (type == ValueType::kBool && p_[pos_] > 1) {
    return At(pos_, "bool value %u is not 0 or 1", p_[pos_]);
  }
  Value v = Value::Scalar(type, p_ + pos_);
  pos_ += n;
  return v;
}

Result<Value> FileParser::ReadArray(int depth) {
  const uint64_t at = pos_;
  if (depth >= kMaxArrayDepth) {
    return At(at, "arrays nested deeper than %d levels", kMaxArrayDepth);
  }
  auto elem = ReadType("array element type");
  if (!elem.ok()) return elem.error();
  auto count = ReadU64("array count");
  if (!count.ok()) return count.error();
  const uint64_t min_bytes = MinElementBytes(*elem);
  if (*count > left() / min_bytes) {
    return At(at,
              "array of %" PRIu64 " %s needs at least %" PRIu64
              " bytes per element but only %" PRIu64 " bytes are left",
              *count, ValueTypeName(*elem).c_str(), min_bytes, left());
  }
  if (*elem == ValueType::kArray && *count > kMaxNestedArrays - nested_arrays_) {
    return At(at, "more than %" PRIu64 " nested arrays in the file", kMaxNestedArrays);
  }
  const uint64_t reserve = std::min(*count, kReserveCap);
  if (*elem == ValueType::kString) {
    std::vector<std::string> items;
    items.reserve(reserve);
    for (uint64_t i = 0; i < *count; ++i) {
      auto s = ReadString("array string");
      if (!s.ok()) return s.error();
      items.emplace_back(*s);
    }
    return Value::StringArray(std::move(items));
  }
  if (*elem == ValueType::kArray) {
    nested_arrays_ += *count;
    std::vector<Value> items;
    items.reserve(std::min<uint64_t>(reserve, 1024));
    for (uint64_t i = 0; i < *count; ++i) {
      auto v = ReadArray(depth + 1);
      if (!v.ok()) return v.error();
      items.push_back(std::move(v).value());
    }
    return Value::NestedArray(std::move(items));
  }
  // Fixed-size scalars: the count check above guarantees the bytes are there.
  const uint64_t n_bytes = *count * min_bytes;
  if (*elem == ValueType::kBool) {
    for (uint64_t i = 0; i < *count; ++i) {
      if (p_[pos_ + i] > 1) {
        return At(pos_ + i, "bool array element %" PRIu64 " is %u, not 0 or 1", i, p_[pos_ + i]);
      }
    }
  }
  std::vector<uint8_t> bytes(p_ + pos_, p_ + pos_ + n_bytes);
  pos_ += n_bytes;
  return Value::PackedArray(*elem, std::move(bytes));
}

Status FileParser::ReadHeader(File& f, uint64_t& n_tensors, uint64_t& n_kv) {
  if (size_ < 4 || std::memcmp(p_, kMagic, 4) != 0) {
    const std::string_view got(reinterpret_cast<const char*>(p_), std::min<uint64_t>(size_, 4));
    return At(0, "not a GGUF file: magic %s, expected \"GGUF\"", QuoteForDisplay(got).c_str());
  }
  pos_ = 4;
  auto version = ReadU32("version");
  if (!version.ok()) return version.error();
  if (*version != 2 && *version != 3) {
    const uint32_t swapped = __builtin_bswap32(*version);
    if (swapped == 2 || swapped == 3) return At(4, "big-endian GGUF files are not supported");
    if (*version == 1) return At(4, "GGUF version 1 is no longer supported (only 2 and 3)");
    return At(4, "unsupported GGUF version %" PRIu32 " (only 2 and 3)", *version);
  }
  f.version_ = *version;
  auto tensors = ReadU64("tensor count");
  if (!tensors.ok()) return tensors.error();
  auto kvs = ReadU64("metadata count");
  if (!kvs.ok()) return kvs.error();
  // Bound both counts by what the rest of the file could possibly describe.
  if (*kvs > left() / kMinKvBytes) {
    return At(16,
              "metadata count %" PRIu64 " is impossible: each entry needs at least %" PRIu64
              " bytes and only %" PRIu64 " are left",
              *kvs, kMinKvBytes, left());
  }
  const uint64_t after_kvs = left() - *kvs * kMinKvBytes;
  if (*tensors > after_kvs / kMinTensorInfoBytes) {
    return At(8,
              "tensor count %" PRIu64 " is impossible: each tensor info needs at least %" PRIu64
              " bytes and only %" PRIu64 " are left",
              *tensors, kMinTensorInfoBytes, after_kvs);
  }
  if (*kvs > kMaxMetadataEntries) {
    return At(16, "metadata count %" PRIu64 " exceeds the limit of %" PRIu64, *kvs,
              kMaxMetadataEntries);
  }
  if (*tensors > kMaxTensors) {
    return At(8, "tensor count %" PRIu64 " exceeds the limit of %" PRIu64, *tensors, kMaxTensors);
  }
  n_tensors = *tensors;
  n_kv = *kvs;
  return {};
}

Status FileParser::ReadMetadata(File& f, uint64_t n_kv) {
  f.metadata_.reserve(std::min(n_kv, kReserveCap));
  for (uint64_t i = 0; i < n_kv; ++i) {
    context_ = "metadata entry " + std::to_string(i);
    const uint64_t at = pos_;
    auto key = ReadString("key");
    if (!key.ok()) return key.error();
    context_ = "key " + QuoteForDisplay(*key);
    if (!f.key_index_.emplace(*key, f.metadata_.size()).second) {
      return At(at, "duplicate key");
    }
    auto type = ReadType("value type");
    if (!type.ok()) return type.error();
    const uint64_t value_at = pos_;
    auto value = ReadValue(*type, 0);
    if (!value.ok()) return value.error();
    f.metadata_.emplace_back(std::string(*key), std::move(value).value());
    f.value_offsets_.push_back(value_at);
  }
  return {};
}

Status FileParser::ReadAlignment(File& f) {
  const auto it = f.key_index_.find(kAlignmentKey);
  if (it == f.key_index_.end()) return {};
  context_ = "key " + QuoteForDisplay(kAlignmentKey);
  const Value& v = f.metadata_[it->second].second;
  const uint64_t at = f.value_offsets_[it->second];
  const std::optional<uint64_t> a = v.AsUInt();
  if (!a) {
    return At(at, "expected u32, got %s %s", ValueTypeName(v.type()).c_str(),
              ValueToString(v).c_str());
  }
  if (*a == 0 || (*a & (*a - 1)) != 0 || *a > std::numeric_limits<uint32_t>::max()) {
    return At(at, "alignment %" PRIu64 " is not a power of two that fits u32", *a);
  }
  f.alignment_ = static_cast<size_t>(*a);
  return {};
}

Status FileParser::ReadTensorInfo(File& f, uint64_t index) {
  context_ = "tensor info " + std::to_string(index);
  info_offsets_.push_back(pos_);
  const uint64_t name_at = pos_;
  auto name = ReadString("name");
  if (!name.ok()) return name.error();
  context_ = "tensor " + QuoteForDisplay(*name);
  if (!f.tensor_index_.emplace(*name, f.tensors_.size()).second) {
    return At(name_at, "duplicate tensor name");
  }
  TensorInfo t;
  t.name = std::string(*name);

  const uint64_t dims_at = pos_;
  auto n_dims = ReadU32("n_dims");
  if (!n_dims.ok()) return n_dims.error();
  if (*n_dims < 1 || *n_dims > kMaxDims) {
    return At(dims_at, "n_dims %" PRIu32 " is outside 1..%" PRIu32, *n_dims, kMaxDims);
  }
  // Zero-sized dimensions are accepted, as ggml does: such a tensor has no bytes.
  t.n_elements = 1;
  bool overflow = false;
  for (uint32_t d = 0; d < *n_dims; ++d) {
    auto dim = ReadU64("dimension");
    if (!dim.ok()) return dim.error();
    t.dims.push_back(*dim);
    if (*dim != 0 && t.n_elements > kMaxElements / *dim) overflow = true;
    if (!overflow) t.n_elements *= *dim;
  }
  if (overflow) {
    return At(dims_at, "shape %s has more than 2^63-1 elements", ShapeString(t.dims).c_str());
  }

  const uint64_t type_at = pos_;
  auto type_id = ReadU32("type");
  if (!type_id.ok()) return type_id.error();
  const std::optional<DTypeInfo> info = LookupDType(*type_id);
  if (!info) return At(type_at, "unknown tensor type id %" PRIu32, *type_id);
  t.type = static_cast<DType>(*type_id);
  if (t.dims[0] % info->block_size != 0) {
    return At(type_at, "row length %" PRIu64 " is not a multiple of the %.*s block size %" PRIu32,
              t.dims[0], static_cast<int>(info->name.size()), info->name.data(), info->block_size);
  }
  const uint64_t blocks = t.n_elements / info->block_size;
  if (blocks > std::numeric_limits<size_t>::max() / info->type_size) {
    return At(type_at, "byte size of shape %s overflows", ShapeString(t.dims).c_str());
  }
  t.n_bytes = static_cast<size_t>(blocks * info->type_size);

  const uint64_t offset_at = pos_;
  auto offset = ReadU64("data offset");
  if (!offset.ok()) return offset.error();
  if (*offset % f.alignment_ != 0) {
    return At(offset_at, "data offset %" PRIu64 " is not a multiple of the alignment %zu", *offset,
              f.alignment_);
  }
  t.offset = *offset;  // relative until the data section start is known
  f.tensors_.push_back(std::move(t));
  return {};
}

Status FileParser::CheckTensorData(File& f) {
  const uint64_t header_end = pos_;
  const uint64_t a = f.alignment_;
  f.data_offset_ = (header_end + a - 1) / a * a;  // header_end <= size, so no overflow
  for (size_t i = 0; i < f.tensors_.size(); ++i) {
    TensorInfo& t = f.tensors_[i];
    context_ = "tensor " + QuoteForDisplay(t.name);
    const uint64_t relative = t.offset;
    if (relative > size_) {
      return At(info_offsets_[i], "data offset %" PRIu64 " is past end of file (size %" PRIu64 ")",
                relative, size_);
    }
    const uint64_t start = f.data_offset_ + relative;  // both bounded by the size: no overflow
    if (start > size_ || t.n_bytes > size_ - start) {
      const uint64_t end = t.n_bytes > UINT64_MAX - start ? UINT64_MAX : start + t.n_bytes;
      return At(info_offsets_[i],
                "data [%" PRIu64 ", %" PRIu64 ") extends past end of file (size %" PRIu64 ")",
                start, end, size_);
    }
    t.offset = f.data_offset_ + relative;
    t.data = p_ + t.offset;
  }
  std::vector<size_t> order(f.tensors_.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](size_t x, size_t y) { return f.tensors_[x].offset < f.tensors_[y].offset; });
  const TensorInfo* prev = nullptr;
  for (size_t i : order) {
    const TensorInfo& t = f.tensors_[i];
    if (t.n_bytes == 0) continue;
    if (prev != nullptr && prev->offset + prev->n_bytes > t.offset) {
      context_ = "tensor " + QuoteForDisplay(t.name);
      return At(info_offsets_[i],
                "data [%" PRIu64 ", %" PRIu64 ") overlaps tensor %s at [%" PRIu64 ", %" PRIu64 ")",
                t.offset, t.offset + t.n_bytes, QuoteForDisplay(prev->name).c_str(), prev->offset,
                prev->offset + prev->n_bytes);
    }
    prev = &t;
  }
  return {};
}

Result<File> FileParser::Run() {
  File f;
  f.map_ = map_;
  uint64_t n_tensors = 0;
  uint64_t n_kv = 0;
  AUTAN_TRY(ReadHeader(f, n_tensors, n_kv));
  AUTAN_TRY(ReadMetadata(f, n_kv));
  AUTAN_TRY(ReadAlignment(f));
  f.tensors_.reserve(std::min(n_tensors, kReserveCap));
  for (uint64_t i = 0; i < n_tensors; ++i) AUTAN_TRY(ReadTensorInfo(f, i));
  AUTAN_TRY(CheckTensorData(f));
  return f;
}

Result<File> File::Open(const std::string& path) {
  auto map = MappedFile::Open(path);
  if (!map.ok()) return map.error();
  return Parse(std::move(map).value());
}

Result<File> File::Parse(std::shared_ptr<const MappedFile> bytes) {
  AUTAN_CHECK(bytes != nullptr);
  return FileParser(std::move(bytes)).Run();
}

}  // namespace autan::gguf

namespace autan::gguf {

Result<File> File::Compose(std::string name, std::vector<std::pair<std::string, Value>> metadata,
                           std::vector<TensorInfo> tensors,
                           std::vector<std::shared_ptr<const void>> keep_alive) {
  // The indexes' keys are views: into a mapping of all the names, which
  // copies of the File share, as parsed files share theirs.
  std::string names;
  for (const auto& [key, value] : metadata) names += key;
  for (const TensorInfo& t : tensors) names += t.name;
  File f;
  f.map_ = MappedFile::FromBytes({reinterpret_cast<const uint8_t*>(names.data()), names.size()},
                                 std::move(name));
  const char* at = reinterpret_cast<const char*>(f.map_->data());
  for (size_t i = 0; i < metadata.size(); ++i) {
    const std::string_view key(at, metadata[i].first.size());
    at += key.size();
    if (!f.key_index_.emplace(key, i).second) {
      return Fail("%s: duplicate key %s", f.path().c_str(), QuoteForDisplay(key).c_str());
    }
  }
  for (size_t i = 0; i < tensors.size(); ++i) {
    const TensorInfo& t = tensors[i];
    const std::string_view tensor_name(at, t.name.size());
    at += tensor_name.size();
    if (!f.tensor_index_.emplace(tensor_name, i).second) {
      return Fail("%s: duplicate tensor %s", f.path().c_str(), QuoteForDisplay(t.name).c_str());
    }
    uint64_t n = 1;
    bool overflow = t.dims.empty() || t.dims.size() > kMaxDims;
    for (uint64_t d : t.dims) {
      if (d != 0 && n > kMaxElements / d) overflow = true;
      n *= d;
    }
    const std::optional<uint64_t> row = overflow ? std::nullopt : RowBytes(t.type, t.dims[0]);
    if (!row || n != t.n_elements || (t.dims[0] > 0 && *row * (n / t.dims[0]) != t.n_bytes) ||
        (t.n_bytes > 0 && t.data == nullptr)) {
      return Fail("%s: tensor %s: type, shape and bytes do not agree", f.path().c_str(),
                  QuoteForDisplay(t.name).c_str());
    }
  }
  f.version_ = 3;
  f.metadata_ = std::move(metadata);
  f.value_offsets_.assign(f.metadata_.size(), 0);
  f.tensors_ = std::move(tensors);
  f.keep_alive_ = std::move(keep_alive);
  return f;
}

const Value* File::Find(std::string_view key) const {
  const auto it = key_index_.find(key);
  return it == key_index_.end() ? nullptr : &metadata_[it->second].second;
}

const TensorInfo* File::FindTensor(std::string_view name) const {
  const auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

Error File::KeyError(std::string_view key, const char* expected, const Value& got) const {
  const auto it = key_index_.find(key);
  const uint64_t at = it == key_index_.end() ? 0 : value_offsets_[it->second];
  const std::string type = ValueTypeName(got.type());
  if (got.is_array()) {
    return Fail("%s: offset %" PRIu64 ": key %s: expected %s, got array of %zu %s", path().c_str(),
                at, QuoteForDisplay(key).c_str(), expected, got.size(),
                ValueTypeName(got.elem_type()).c_str());
  }
  const bool number = IsInteger(got.type()) || IsFloat(got.type());
  return Fail("%s: offset %" PRIu64 ": key %s: expected %s, got %s%s%s", path().c_str(), at,
              QuoteForDisplay(key).c_str(), expected, type.c_str(), number ? " " : "",
              number ? ValueToString(got).c_str() : "");
}

Result<const Value*> File::Require(std::string_view key) const {
  const Value* v = Find(key);
  if (v == nullptr)
    return Fail("%s: key %s not found", path().c_str(), QuoteForDisplay(key).c_str());
  return v;
}

Result<uint64_t> File::GetUInt(std::string_view key) const {
  auto v = Require(key);
  if (!v.ok()) return v.error();
  if (auto u = (*v)->AsUInt()) return *u;
  return KeyError(key, "an unsigned integer", **v);
}

Result<int64_t> File::GetInt(std::string_view key) const {
  auto v = Require(key);
  if (!v.ok()) return v.error();
  if (auto i = (*v)->AsInt()) return *i;
  return KeyError(key, "an integer", **v);
}

Result<float> File::GetFloat(std::string_view key) const {
  auto v = Require(key);
  if (!v.ok()) return v.error();
  if (auto d = (*v)->AsDouble()) return static_cast<float>(*d);
  return KeyError(key, "a number", **v);
}

Result<bool> File::GetBool(std::string_view key) const {
  auto v = Require(key);
  if (!v.ok()) return v.error();
  if (auto b = (*v)->AsBool()) return *b;
  return KeyError(key, "bool", **v);
}

Result<std::string_view> File::GetString(std::string_view key) const {
  auto v = Require(key);
  if (!v.ok()) return v.error();
  if ((*v)->type() == ValueType::kString) return std::string_view((*v)->str());
  return KeyError(key, "string", **v);
}

Result<uint64_t> File::GetUIntOr(std::string_view key, uint64_t fallback) const {
  if (Find(key) == nullptr) return fallback;
  return GetUInt(key);
}

Result<float> File::GetFloatOr(std::string_view key, float fallback) const {
  if (Find(key) == nullptr) return fallback;
  return GetFloat(key);
}

std::optional<uint64_t> File::FindUInt(std::string_view key) const {
  const Value* v = Find(key);
  return v == nullptr ? std::nullopt : v->AsUInt();
}

Result<std::span<const std::string>> File::GetStringSpan(std::string_view key) const {
  auto v = Require(key);
  if (!v.ok()) return v.error();
  if ((*v)->is_array() && (*v)->elem_type() == ValueType::kString) return (*v)->strings();
  return KeyError(key, "array of string", **v);
}

Result<std::vector<std::string>> File::GetStringArray(std::string_view key) const {
  auto s = GetStringSpan(key);
  if (!s.ok()) return s.error();
  return std::vector<std::string>(s->begin(), s->end());
}

Result<std::vector<float>> File::GetFloatArray(std::string_view key) const {
  auto v = Require(key);
  if (!v.ok()) return v.error();
  const Value& a = **v;
  const ValueType e = a.elem_type();
  if (!a.is_array() || !(IsInteger(e) || IsFloat(e))) return KeyError(key, "array of f32", a);
  std::vector<float> out(a.size());
  if (e == ValueType::kF32 && !out.empty()) {
    std::memcpy(out.data(), a.packed().data(), a.packed().size());
  } else {
    for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<float>(*a.At(i).AsDouble());
  }
  return out;
}

Result<std::vector<int32_t>> File::GetIntArray(std::string_view key) const {
  auto v = Require(key);
  if (!v.ok()) return v.error();
  const Value& a = **v;
  if (!a.is_array() || !IsInteger(a.elem_type())) return KeyError(key, "array of i32", a);
  std::vector<int32_t> out(a.size());
  if (a.elem_type() == ValueType::kI32) {
    if (!out.empty()) std::memcpy(out.data(), a.packed().data(), a.packed().size());
    return out;
  }
  for (size_t i = 0; i < out.size(); ++i) {
    const std::optional<int64_t> x = a.At(i).AsInt();
    if (!x || *x < std::numeric_limits<int32_t>::min() ||
        *x > std::numeric_limits<int32_t>::max()) {
      return Fail("%s: key %s: element %zu (%s) does not fit i32", path().c_str(),
                  QuoteForDisplay(key).c_str(), i, ValueToString(a.At(i)).c_str());
    }
    out[i] = static_cast<int32_t>(*x);
  }
  return out;
}

}  // namespace autan::gguf
