#include "store/secret.h"

#include <sys/random.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace autan::store {

Status RandomBytes(std::span<uint8_t> out) {
  size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = getrandom(out.data() + done, out.size() - done, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Fail("cannot read random bytes from the kernel: %s", std::strerror(errno));
    }
    done += static_cast<size_t>(n);
  }
  return {};
}

std::string HexEncode(std::span<const uint8_t> bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(bytes.size() * 2);
  for (uint8_t b : bytes) {
    hex += kHex[b >> 4];
    hex += kHex[b & 15];
  }
  return hex;
}

Result<std::string> RandomHex(size_t bytes) {
  std::vector<uint8_t> raw(bytes);
  AUTAN_TRY(RandomBytes(raw));
  return HexEncode(raw);
}

Result<std::string> NewId() { return RandomHex(16); }

bool IsId(std::string_view text) {
  if (text.size() != 32) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace autan::store
