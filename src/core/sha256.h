// SHA-256 (FIPS 180-4) through OpenSSL's libcrypto, which uses the CPU's SHA
// instructions where there are some: API keys and session tokens hash in one
// call, a multi-gigabyte download as it arrives.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace autan {

std::array<uint8_t, 32> Sha256(std::string_view data);
// Lower-case hex of the digest, as `sha256sum` prints it.
std::string Sha256Hex(std::string_view data);

// The digest of data given in pieces.
class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;

  void Reset();  // forget what was hashed
  void Update(std::string_view data);
  // The digest of everything since the last Reset; then starts over.
  std::array<uint8_t, 32> Finish();
  std::string FinishHex();

 private:
  struct Context;
  std::unique_ptr<Context> ctx_;
};

}  // namespace autan
