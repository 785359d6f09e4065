#include "store/password.h"

#include <argon2.h>

#include <array>
#include <vector>

#include "store/secret.h"

namespace autan::store {
namespace {

constexpr uint32_t kSaltBytes = 16;
constexpr uint32_t kTagBytes = 32;

}  // namespace

Status PasswordParams::Validate() const {
  if (iterations < 1 || iterations > 100) {
    return Fail("argon2 iterations must be in [1, 100], not %u", iterations);
  }
  if (parallelism < 1 || parallelism > 64) {
    return Fail("argon2 parallelism must be in [1, 64], not %u", parallelism);
  }
  if (memory_kib < 8 * parallelism || memory_kib > 4u * 1024 * 1024) {
    return Fail("argon2 memory must be in [%u KiB, 4 GiB], not %u KiB", 8 * parallelism,
                memory_kib);
  }
  return {};
}

Result<std::string> HashPasswordWithSalt(std::string_view password, std::string_view salt,
                                         const PasswordParams& params) {
  AUTAN_TRY(params.Validate());
  if (password.size() > kMaxPasswordLength) {
    return Fail("password is longer than %zu bytes", kMaxPasswordLength);
  }
  if (salt.size() < ARGON2_MIN_SALT_LENGTH || salt.size() > 1024) {
    return Fail("argon2 salt must be 8 to 1024 bytes, not %zu", salt.size());
  }
  const size_t encoded_size =
      argon2_encodedlen(params.iterations, params.memory_kib, params.parallelism,
                        static_cast<uint32_t>(salt.size()), kTagBytes, Argon2_id);
  std::string encoded(encoded_size, '\0');
  const int rc = argon2id_hash_encoded(params.iterations, params.memory_kib, params.parallelism,
                                       password.data(), password.size(), salt.data(), salt.size(),
                                       kTagBytes, encoded.data(), encoded.size());
  if (rc != ARGON2_OK) return Fail("argon2id hashing failed: %s", argon2_error_message(rc));
  encoded.resize(std::char_traits<char>::length(encoded.c_str()));  // drop the terminator
  return encoded;
}

Result<std::string> HashPassword(std::string_view password, const PasswordParams& params) {
  std::array<uint8_t, kSaltBytes> salt;
  AUTAN_TRY(RandomBytes(salt));
  return HashPasswordWithSalt(
      password, std::string_view(reinterpret_cast<const char*>(salt.data()), salt.size()), params);
}

bool VerifyPassword(std::string_view encoded, std::string_view password) {
  if (!encoded.starts_with("$argon2id$") || password.size() > kMaxPasswordLength) return false;
  const std::string terminated(encoded);  // libargon2 wants a C string
  return argon2id_verify(terminated.c_str(), password.data(), password.size()) == ARGON2_OK;
}

}  // namespace autan::store
