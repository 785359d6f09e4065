// SHA-256 (FIPS 180-4), for hashing API keys and session tokens.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace autan {

std::array<uint8_t, 32> Sha256(std::string_view data);
// Lower-case hex of the digest, as `sha256sum` prints it.
std::string Sha256Hex(std::string_view data);

}  // namespace autan
