#include "core/dtype.h"

#include <array>
#include <cctype>
#include <limits>

namespace autan {
namespace {

struct Entry {
  DType type;
  DTypeInfo info;
};

constexpr std::array kTypes = {
    Entry{DType::kF32, {"f32", 1, 4}},
    Entry{DType::kF16, {"f16", 1, 2}},
    Entry{DType::kQ4_0, {"q4_0", 32, 18}},
    Entry{DType::kQ4_1, {"q4_1", 32, 20}},
    Entry{DType::kQ5_0, {"q5_0", 32, 22}},
    Entry{DType::kQ5_1, {"q5_1", 32, 24}},
    Entry{DType::kQ8_0, {"q8_0", 32, 34}},
    Entry{DType::kQ8_1, {"q8_1", 32, 36}},
    Entry{DType::kQ2_K, {"q2_K", 256, 84}},
    Entry{DType::kQ3_K, {"q3_K", 256, 110}},
    Entry{DType::kQ4_K, {"q4_K", 256, 144}},
    Entry{DType::kQ5_K, {"q5_K", 256, 176}},
    Entry{DType::kQ6_K, {"q6_K", 256, 210}},
    Entry{DType::kQ8_K, {"q8_K", 256, 292}},
    Entry{DType::kIQ2_XXS, {"iq2_xxs", 256, 66}},
    Entry{DType::kIQ2_XS, {"iq2_xs", 256, 74}},
    Entry{DType::kIQ3_XXS, {"iq3_xxs", 256, 98}},
    Entry{DType::kIQ1_S, {"iq1_s", 256, 50}},
    Entry{DType::kIQ4_NL, {"iq4_nl", 32, 18}},
    Entry{DType::kIQ3_S, {"iq3_s", 256, 110}},
    Entry{DType::kIQ2_S, {"iq2_s", 256, 82}},
    Entry{DType::kIQ4_XS, {"iq4_xs", 256, 136}},
    Entry{DType::kI8, {"i8", 1, 1}},
    Entry{DType::kI16, {"i16", 1, 2}},
    Entry{DType::kI32, {"i32", 1, 4}},
    Entry{DType::kI64, {"i64", 1, 8}},
    Entry{DType::kF64, {"f64", 1, 8}},
    Entry{DType::kIQ1_M, {"iq1_m", 256, 56}},
    Entry{DType::kBF16, {"bf16", 1, 2}},
    Entry{DType::kTQ1_0, {"tq1_0", 256, 54}},
    Entry{DType::kTQ2_0, {"tq2_0", 256, 66}},
};

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::optional<DTypeInfo> LookupDType(uint32_t id) {
  for (const Entry& e : kTypes) {
    if (static_cast<uint32_t>(e.type) == id) return e.info;
  }
  return std::nullopt;
}

DTypeInfo Info(DType t) { return *LookupDType(static_cast<uint32_t>(t)); }

std::optional<DType> ParseDType(std::string_view name) {
  for (const Entry& e : kTypes) {
    if (EqualsIgnoreCase(e.info.name, name)) return e.type;
  }
  return std::nullopt;
}

std::optional<size_t> RowBytes(DType t, uint64_t n) {
  const DTypeInfo info = Info(t);
  if (n % info.block_size != 0) return std::nullopt;
  const uint64_t blocks = n / info.block_size;
  if (blocks > std::numeric_limits<size_t>::max() / info.type_size) return std::nullopt;
  return static_cast<size_t>(blocks * info.type_size);
}

}  // namespace autan
