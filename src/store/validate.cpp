#include "store/validate.h"

#include <nlohmann/json.hpp>

#include "store/password.h"
#include "store/store.h"

namespace autan::store {

bool IsValidUtf8(std::string_view text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  for (size_t i = 0; i < n;) {
    const unsigned char c = s[i];
    size_t len;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

Status ValidateUsername(std::string_view name) {
  if (name.empty() || name.size() > kMaxUsernameLength) {
    return Fail("user name must be 1 to %zu characters, not %zu", kMaxUsernameLength, name.size());
  }
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) {
      return Fail("user name '%.*s' may only hold letters, digits, '.', '_' and '-'",
                  static_cast<int>(name.size()), name.data());
    }
  }
  return {};
}

Status ValidatePassword(std::string_view password) {
  if (password.size() < kMinPasswordLength) {
    return Fail("password must be at least %zu bytes long", kMinPasswordLength);
  }
  if (password.size() > kMaxPasswordLength) {
    return Fail("password must be at most %zu bytes long", kMaxPasswordLength);
  }
  return {};
}

Status ValidateText(std::string_view field, std::string_view text, size_t max_bytes,
                    bool allow_empty) {
  const int w = static_cast<int>(field.size());
  if (text.empty() && !allow_empty) return Fail("%.*s must not be empty", w, field.data());
  if (text.size() > max_bytes) {
    return Fail("%.*s is %zu bytes, more than the %zu allowed", w, field.data(), text.size(),
                max_bytes);
  }
  if (text.find('\0') != std::string_view::npos) {
    return Fail("%.*s contains a NUL character", w, field.data());
  }
  if (!IsValidUtf8(text)) return Fail("%.*s is not valid UTF-8", w, field.data());
  return {};
}

Status ValidateJsonObject(std::string_view field, std::string_view json) {
  AUTAN_TRY(ValidateText(field, json, kMaxContentLength, false));
  const nlohmann::json parsed = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    return Fail("%.*s is not valid JSON", static_cast<int>(field.size()), field.data());
  }
  if (!parsed.is_object()) {
    return Fail("%.*s must be a JSON object", static_cast<int>(field.size()), field.data());
  }
  return {};
}

}  // namespace autan::store
