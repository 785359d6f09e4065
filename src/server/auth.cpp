#include "server/auth.h"

#include <cctype>
#include <fstream>
#include <sstream>

#include "server/sha256.h"

namespace autan::server {
namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  }
  return true;
}

}  // namespace

Result<ApiKeys> ApiKeys::Parse(std::string_view text, std::string_view source) {
  ApiKeys keys;
  size_t line_no = 0;
  while (!text.empty()) {
    const size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
    ++line_no;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
      line.remove_suffix(1);
    }
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (line.empty() || line.front() == '#') continue;
    std::array<uint8_t, 32> hash;
    bool valid = line.size() >= 64 && (line.size() == 64 || line[64] == ' ' || line[64] == '\t');
    for (size_t i = 0; valid && i < 32; ++i) {
      const int hi = HexDigit(line[2 * i]), lo = HexDigit(line[2 * i + 1]);
      valid = hi >= 0 && lo >= 0;
      hash[i] = static_cast<uint8_t>(hi << 4 | lo);
    }
    if (!valid) {
      return Fail(
          "%.*s:%zu: expected the 64 hex digits of a key's SHA-256 (autan serve "
          "--hash-key KEY prints them)",
          static_cast<int>(source.size()), source.data(), line_no);
    }
    keys.hashes_.push_back(hash);
  }
  if (keys.hashes_.empty()) {
    return Fail("%.*s: no keys", static_cast<int>(source.size()), source.data());
  }
  return keys;
}

Result<ApiKeys> ApiKeys::Load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail("cannot read the keys file %s", path.c_str());
  std::ostringstream text;
  text << in.rdbuf();
  return Parse(text.str(), path);
}

bool ApiKeys::Check(std::string_view authorization) const {
  if (!StartsWithNoCase(authorization, "bearer ")) return false;
  std::string_view key = authorization.substr(7);
  while (!key.empty() && key.front() == ' ') key.remove_prefix(1);
  if (key.empty()) return false;
  const std::array<uint8_t, 32> hash = Sha256(key);
  // Every listed hash is compared in full, so timing reveals neither which
  // key matched nor how many bytes of a guess were right.
  uint8_t any = 0;
  for (const auto& listed : hashes_) {
    uint8_t diff = 0;
    for (size_t i = 0; i < hash.size(); ++i) diff |= static_cast<uint8_t>(hash[i] ^ listed[i]);
    any |= static_cast<uint8_t>(diff == 0);
  }
  return any != 0;
}

std::string KeyFileLine(std::string_view key) { return Sha256Hex(key); }

bool IsLoopbackHost(std::string_view host) {
  if (host == "localhost" || host == "::1" || host == "[::1]") return true;
  if (host.substr(0, 4) != "127.") return false;
  int dots = 0;
  for (char c : host) {
    if (c == '.') {
      ++dots;
    } else if (c < '0' || c > '9') {
      return false;
    }
  }
  return dots == 3;
}

}  // namespace autan::server
