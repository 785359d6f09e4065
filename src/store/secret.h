// Random ids and secrets from the kernel's CSPRNG (getrandom), never from a
// seeded generator: ids must not be guessable from one another.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "core/result.h"

namespace autan::store {

Status RandomBytes(std::span<uint8_t> out);
// `bytes` random bytes as lower-case hex (2 * bytes characters).
Result<std::string> RandomHex(size_t bytes);
// A row id: 128 random bits, 32 hex characters.
Result<std::string> NewId();
// True for what NewId makes; anything else cannot name a row, so lookups
// answer "not found" without asking the database.
bool IsId(std::string_view text);

std::string HexEncode(std::span<const uint8_t> bytes);

}  // namespace autan::store
