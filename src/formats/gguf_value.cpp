#include "formats/gguf_value.h"

#include <bit>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <limits>

#include "core/check.h"

namespace autan::gguf {

static_assert(std::endian::native == std::endian::little,
              "GGUF values are little-endian; a big-endian host needs byte swaps");

std::string ValueTypeName(ValueType t) {
  switch (t) {
    case ValueType::kU8:
      return "u8";
    case ValueType::kI8:
      return "i8";
    case ValueType::kU16:
      return "u16";
    case ValueType::kI16:
      return "i16";
    case ValueType::kU32:
      return "u32";
    case ValueType::kI32:
      return "i32";
    case ValueType::kF32:
      return "f32";
    case ValueType::kBool:
      return "bool";
    case ValueType::kString:
      return "string";
    case ValueType::kArray:
      return "array";
    case ValueType::kU64:
      return "u64";
    case ValueType::kI64:
      return "i64";
    case ValueType::kF64:
      return "f64";
  }
  return "type#" + std::to_string(static_cast<uint32_t>(t));
}

size_t ScalarSize(ValueType t) {
  switch (t) {
    case ValueType::kU8:
    case ValueType::kI8:
    case ValueType::kBool:
      return 1;
    case ValueType::kU16:
    case ValueType::kI16:
      return 2;
    case ValueType::kU32:
    case ValueType::kI32:
    case ValueType::kF32:
      return 4;
    case ValueType::kU64:
    case ValueType::kI64:
    case ValueType::kF64:
      return 8;
    case ValueType::kString:
    case ValueType::kArray:
      return 0;
  }
  return 0;
}

bool IsInteger(ValueType t) {
  switch (t) {
    case ValueType::kU8:
    case ValueType::kI8:
    case ValueType::kU16:
    case ValueType::kI16:
    case ValueType::kU32:
    case ValueType::kI32:
    case ValueType::kU64:
    case ValueType::kI64:
      return true;
    default:
      return false;
  }
}

bool IsFloat(ValueType t) { return t == ValueType::kF32 || t == ValueType::kF64; }

namespace {

bool IsSigned(ValueType t) {
  return t == ValueType::kI8 || t == ValueType::kI16 || t == ValueType::kI32 ||
         t == ValueType::kI64;
}

// Sign-extends the low `bytes` bytes of `bits`.
int64_t SignExtend(uint64_t bits, size_t bytes) {
  const unsigned shift = static_cast<unsigned>(64 - 8 * bytes);
  return static_cast<int64_t>(bits << shift) >> shift;
}

template <typename T>
Value FromBits(ValueType t, T v) {
  uint8_t le[8] = {};
  std::memcpy(le, &v, sizeof(T));
  return Value::Scalar(t, le);
}

}  // namespace

Value Value::U8(uint8_t v) { return FromBits(ValueType::kU8, v); }
Value Value::I8(int8_t v) { return FromBits(ValueType::kI8, v); }
Value Value::U16(uint16_t v) { return FromBits(ValueType::kU16, v); }
Value Value::I16(int16_t v) { return FromBits(ValueType::kI16, v); }
Value Value::U32(uint32_t v) { return FromBits(ValueType::kU32, v); }
Value Value::I32(int32_t v) { return FromBits(ValueType::kI32, v); }
Value Value::U64(uint64_t v) { return FromBits(ValueType::kU64, v); }
Value Value::I64(int64_t v) { return FromBits(ValueType::kI64, v); }
Value Value::F32(float v) { return FromBits(ValueType::kF32, v); }
Value Value::F64(double v) { return FromBits(ValueType::kF64, v); }
Value Value::Bool(bool v) { return FromBits(ValueType::kBool, static_cast<uint8_t>(v ? 1 : 0)); }

Value Value::String(std::string v) {
  Value out;
  out.type_ = ValueType::kString;
  out.str_ = std::move(v);
  return out;
}

Value Value::Scalar(ValueType t, const uint8_t* le_bytes) {
  const size_t n = ScalarSize(t);
  AUTAN_CHECK(n > 0);
  Value out;
  out.type_ = t;
  std::memcpy(&out.bits_, le_bytes, n);
  return out;
}

Value Value::StringArray(std::vector<std::string> items) {
  Value out;
  out.type_ = ValueType::kArray;
  out.elem_type_ = ValueType::kString;
  out.strings_ = std::move(items);
  return out;
}

Value Value::F32Array(std::span<const float> items) {
  const auto* p = reinterpret_cast<const uint8_t*>(items.data());
  return PackedArray(ValueType::kF32, std::vector<uint8_t>(p, p + items.size_bytes()));
}

Value Value::I32Array(std::span<const int32_t> items) {
  const auto* p = reinterpret_cast<const uint8_t*>(items.data());
  return PackedArray(ValueType::kI32, std::vector<uint8_t>(p, p + items.size_bytes()));
}

Value Value::PackedArray(ValueType elem, std::vector<uint8_t> le_bytes) {
  const size_t n = ScalarSize(elem);
  AUTAN_CHECK(n > 0 && le_bytes.size() % n == 0);
  Value out;
  out.type_ = ValueType::kArray;
  out.elem_type_ = elem;
  out.packed_ = std::move(le_bytes);
  return out;
}

Value Value::NestedArray(std::vector<Value> arrays) {
  for (const Value& a : arrays) AUTAN_CHECK(a.is_array());
  Value out;
  out.type_ = ValueType::kArray;
  out.elem_type_ = ValueType::kArray;
  out.arrays_ = std::move(arrays);
  return out;
}

Value Value::ArrayOf(ValueType elem, std::span<const Value> items) {
  for (const Value& v : items) AUTAN_CHECK(v.type() == elem);
  if (elem == ValueType::kArray) return NestedArray({items.begin(), items.end()});
  if (elem == ValueType::kString) {
    std::vector<std::string> strings;
    strings.reserve(items.size());
    for (const Value& v : items) strings.push_back(v.str());
    return StringArray(std::move(strings));
  }
  const size_t n = ScalarSize(elem);
  std::vector<uint8_t> bytes(items.size() * n);
  for (size_t i = 0; i < items.size(); ++i) std::memcpy(&bytes[i * n], &items[i].bits_, n);
  return PackedArray(elem, std::move(bytes));
}

std::optional<uint64_t> Value::AsUInt() const {
  if (!IsInteger(type_)) return std::nullopt;
  if (IsSigned(type_)) {
    const int64_t v = SignExtend(bits_, ScalarSize(type_));
    if (v < 0) return std::nullopt;
    return static_cast<uint64_t>(v);
  }
  return bits_;
}

std::optional<int64_t> Value::AsInt() const {
  if (!IsInteger(type_)) return std::nullopt;
  if (IsSigned(type_)) return SignExtend(bits_, ScalarSize(type_));
  if (bits_ > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
  return static_cast<int64_t>(bits_);
}

std::optional<double> Value::AsDouble() const {
  if (type_ == ValueType::kF32) {
    float f;
    const uint32_t b = static_cast<uint32_t>(bits_);
    std::memcpy(&f, &b, sizeof(f));
    return f;
  }
  if (type_ == ValueType::kF64) return std::bit_cast<double>(bits_);
  if (!IsInteger(type_)) return std::nullopt;
  if (IsSigned(type_)) return static_cast<double>(SignExtend(bits_, ScalarSize(type_)));
  return static_cast<double>(bits_);
}

std::optional<bool> Value::AsBool() const {
  if (type_ != ValueType::kBool) return std::nullopt;
  return bits_ != 0;
}

size_t Value::size() const {
  if (!is_array()) return 0;
  if (elem_type_ == ValueType::kString) return strings_.size();
  if (elem_type_ == ValueType::kArray) return arrays_.size();
  return packed_.size() / ScalarSize(elem_type_);
}

Value Value::At(size_t i) const {
  AUTAN_CHECK(is_array() && i < size());
  if (elem_type_ == ValueType::kString) return String(strings_[i]);
  if (elem_type_ == ValueType::kArray) return arrays_[i];
  return Scalar(elem_type_, &packed_[i * ScalarSize(elem_type_)]);
}

std::string QuoteForDisplay(std::string_view s, size_t max_len) {
  std::string out = "\"";
  const size_t n = s.size() < max_len ? s.size() : max_len;
  for (size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);  // UTF-8 passes through for readable vocabularies
    }
  }
  out += '"';
  if (n < s.size()) out += "...";
  return out;
}

namespace {

std::string ScalarToString(const Value& v) {
  char buf[64];
  switch (v.type()) {
    case ValueType::kBool:
      return *v.AsBool() ? "true" : "false";
    case ValueType::kF32:
    case ValueType::kF64:
      std::snprintf(buf, sizeof(buf), "%.9g", *v.AsDouble());
      return buf;
    case ValueType::kI8:
    case ValueType::kI16:
    case ValueType::kI32:
    case ValueType::kI64:
      std::snprintf(buf, sizeof(buf), "%" PRId64, *v.AsInt());
      return buf;
    case ValueType::kString:
      return QuoteForDisplay(v.str());
    default:
      std::snprintf(buf, sizeof(buf), "%" PRIu64, *v.AsUInt());
      return buf;
  }
}

}  // namespace

std::string ValueToString(const Value& v, size_t max_array_items) {
  if (!v.is_array()) return ScalarToString(v);
  const size_t n = v.size();
  std::string out = "[";
  for (size_t i = 0; i < n && i < max_array_items; ++i) {
    if (i > 0) out += ", ";
    if (v.elem_type() == ValueType::kArray) {
      out += ValueToString(v.arrays()[i], max_array_items);
    } else if (v.elem_type() == ValueType::kString) {
      out += QuoteForDisplay(v.strings()[i]);
    } else {
      out += ScalarToString(v.At(i));
    }
  }
  if (n > max_array_items) out += ", ...";
  out += "]";
  if (n > max_array_items) out += " (" + std::to_string(n) + " items)";
  return out;
}

namespace {

void AppendU32(uint32_t v, std::string& out) { out.append(reinterpret_cast<const char*>(&v), 4); }
void AppendU64(uint64_t v, std::string& out) { out.append(reinterpret_cast<const char*>(&v), 8); }
void AppendString(std::string_view s, std::string& out) {
  AppendU64(s.size(), out);
  out.append(s);
}

}  // namespace

void AppendPayload(const Value& v, std::string& out) {
  if (v.type() == ValueType::kString) {
    AppendString(v.str(), out);
  } else if (!v.is_array()) {
    const uint64_t bits = v.raw_bits();
    out.append(reinterpret_cast<const char*>(&bits), ScalarSize(v.type()));
  } else {
    AppendU32(static_cast<uint32_t>(v.elem_type()), out);
    AppendU64(v.size(), out);
    if (v.elem_type() == ValueType::kString) {
      for (const std::string& s : v.strings()) AppendString(s, out);
    } else if (v.elem_type() == ValueType::kArray) {
      for (const Value& a : v.arrays()) AppendPayload(a, out);
    } else {
      out.append(reinterpret_cast<const char*>(v.packed().data()), v.packed().size());
    }
  }
}

}  // namespace autan::gguf
