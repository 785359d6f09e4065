// Input checks shared by every Store implementation, so each backend accepts
// and refuses the same values with the same messages.
#pragma once

#include <cstddef>
#include <string_view>

#include "core/result.h"

namespace autan::store {

inline constexpr size_t kMaxUsernameLength = 64;
inline constexpr size_t kMaxNameLength = 200;    // assistant names, key labels
inline constexpr size_t kMaxTitleLength = 1000;  // conversation titles
inline constexpr size_t kMaxAuditFieldLength = 500;
inline constexpr size_t kMaxContentLength = 16u << 20;  // one message, instructions

bool IsValidUtf8(std::string_view text);

// 1-64 of [A-Za-z0-9._-]: safe in logs, URLs and the CLI's table.
Status ValidateUsername(std::string_view name);
Status ValidatePassword(std::string_view password);
// Valid UTF-8 of at most `max_bytes` bytes, with no NUL; `field` names it in errors.
Status ValidateText(std::string_view field, std::string_view text, size_t max_bytes,
                    bool allow_empty);
// A JSON object, at most kMaxContentLength bytes.
Status ValidateJsonObject(std::string_view field, std::string_view json);

}  // namespace autan::store
