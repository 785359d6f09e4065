// GGUF metadata values. Arrays of fixed-size scalars stay packed as their
// little-endian file bytes and string arrays as a vector of strings, so a
// 150k-token vocabulary costs about its size in the file, not a Value per token.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace autan::gguf {

// Type tags as numbered in the GGUF specification.
enum class ValueType : uint32_t {
  kU8 = 0,
  kI8 = 1,
  kU16 = 2,
  kI16 = 3,
  kU32 = 4,
  kI32 = 5,
  kF32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kU64 = 10,
  kI64 = 11,
  kF64 = 12,
};

inline constexpr uint32_t kValueTypeCount = 13;

// "u32", "string", "array", ... or "type#N" for an unknown tag.
std::string ValueTypeName(ValueType t);
// Bytes of one scalar in the file; 0 for string and array.
size_t ScalarSize(ValueType t);
bool IsInteger(ValueType t);
bool IsFloat(ValueType t);

class Value {
 public:
  Value() = default;  // u8 0

  static Value U8(uint8_t v);
  static Value I8(int8_t v);
  static Value U16(uint16_t v);
  static Value I16(int16_t v);
  static Value U32(uint32_t v);
  static Value I32(int32_t v);
  static Value U64(uint64_t v);
  static Value I64(int64_t v);
  static Value F32(float v);
  static Value F64(double v);
  static Value Bool(bool v);
  static Value String(std::string v);
  // A scalar of type `t` decoded from its ScalarSize(t) little-endian bytes.
  static Value Scalar(ValueType t, const uint8_t* le_bytes);

  static Value StringArray(std::vector<std::string> items);
  static Value F32Array(std::span<const float> items);
  static Value I32Array(std::span<const int32_t> items);
  // Scalars of type `elem` packed as little-endian bytes (size a multiple of ScalarSize).
  static Value PackedArray(ValueType elem, std::vector<uint8_t> le_bytes);
  // Arrays of arrays; each inner array may have its own element type.
  static Value NestedArray(std::vector<Value> arrays);
  // An array of `elem` built from Values of exactly that type (any type but array:
  // use NestedArray).
  static Value ArrayOf(ValueType elem, std::span<const Value> items);

  ValueType type() const { return type_; }
  bool is_array() const { return type_ == ValueType::kArray; }

  // Scalar access; nullopt when the type does not fit the request.
  std::optional<uint64_t> AsUInt() const;          // any integer type holding a value >= 0
  std::optional<int64_t> AsInt() const;            // any integer type whose value fits int64
  std::optional<double> AsDouble() const;          // floats and integers
  std::optional<bool> AsBool() const;              // bool only
  const std::string& str() const { return str_; }  // string only, else empty
  // Scalar: its little-endian bytes as in the file, zero-extended to 64 bits.
  uint64_t raw_bits() const { return bits_; }

  // Array access (is_array() only).
  ValueType elem_type() const { return elem_type_; }
  size_t size() const;
  // Element i as a Value (strings and nested arrays are copied).
  Value At(size_t i) const;
  std::span<const uint8_t> packed() const { return packed_; }  // scalar elements
  std::span<const std::string> strings() const { return strings_; }
  std::span<const Value> arrays() const { return arrays_; }

  bool operator==(const Value& other) const = default;

 private:
  ValueType type_ = ValueType::kU8;
  ValueType elem_type_ = ValueType::kU8;
  uint64_t bits_ = 0;  // scalar: its little-endian bytes, zero-extended
  std::string str_;
  std::vector<uint8_t> packed_;
  std::vector<std::string> strings_;
  std::vector<Value> arrays_;
};

// Human-readable form for `autan info`: strings quoted and escaped, arrays
// cut after `max_array_items` with the total count.
std::string ValueToString(const Value& v, size_t max_array_items = 8);
// `s` quoted with control and non-ASCII bytes escaped, cut after `max_len` bytes;
// safe to print names read from untrusted files.
std::string QuoteForDisplay(std::string_view s, size_t max_len = 80);

// Appends the GGUF encoding of `v` without its own type tag (arrays: element
// type, count, elements).
void AppendPayload(const Value& v, std::string& out);

}  // namespace autan::gguf
