// Password hashing with Argon2id (RFC 9106) through libargon2. Hashes are
// stored in the PHC string format ("$argon2id$v=19$m=...,t=...,p=...$salt$hash"),
// which carries its own parameters, so changing them later still verifies old
// hashes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace autan::store {

struct PasswordParams {
  uint32_t iterations = 3;          // t
  uint32_t memory_kib = 64 * 1024;  // m: 64 MiB
  uint32_t parallelism = 1;         // p (lanes; hashed on one thread)

  // Argon2's own limits (m >= 8 p KiB) and ours (m <= 4 GiB, t <= 100).
  Status Validate() const;
};

// Passwords longer than this are refused: hashing cost grows with length.
inline constexpr size_t kMaxPasswordLength = 4096;

// With a fresh random 16-byte salt and a 32-byte tag.
Result<std::string> HashPassword(std::string_view password, const PasswordParams& params);
// With the given salt (at least 8 bytes): for reproducing reference hashes.
Result<std::string> HashPasswordWithSalt(std::string_view password, std::string_view salt,
                                         const PasswordParams& params);
// False for a wrong password and for anything that is not an Argon2id hash.
bool VerifyPassword(std::string_view encoded, std::string_view password);

}  // namespace autan::store
