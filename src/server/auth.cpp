#include "server/auth.h"

#include <algorithm>
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

// "rpm=N" / "tpm=N": sets the limit and returns true; other words: false.
Result<bool> ParseLimit(std::string_view word, KeyLimits& limits) {
  const size_t eq = word.find('=');
  if (eq == std::string_view::npos) return false;
  const std::string_view name = word.substr(0, eq), value = word.substr(eq + 1);
  std::optional<int64_t>* field = name == "rpm"   ? &limits.rpm
                                  : name == "tpm" ? &limits.tpm
                                                  : nullptr;
  if (field == nullptr) return false;
  int64_t n = 0;
  bool valid = !value.empty() && value.size() <= 15;    // at most about 10^15: no overflow
  for (size_t i = 0; valid && i < value.size(); ++i) {  // nothing read past the first non-digit
    valid = value[i] >= '0' && value[i] <= '9';
    n = n * 10 + (value[i] - '0');
  }
  if (!valid) {
    return Fail("'%.*s': %.*s must be a whole number of %s per minute (0: no limit)",
                static_cast<int>(word.size()), word.data(), static_cast<int>(name.size()),
                name.data(), name == "rpm" ? "requests" : "tokens");
  }
  *field = n;
  return true;
}

// The label and limits after a key's hash.
Status ParseKeyWords(std::string_view rest, ApiKey& key) {
  while (!rest.empty()) {
    const size_t start = rest.find_first_not_of(" \t");
    if (start == std::string_view::npos) break;
    rest.remove_prefix(start);
    const size_t end = std::min(rest.find_first_of(" \t"), rest.size());
    const std::string_view word = rest.substr(0, end);
    rest.remove_prefix(end);
    Result<bool> limit = ParseLimit(word, key.limits);
    if (!limit.ok()) return limit.error();
    if (*limit) continue;
    if (!key.label.empty()) key.label += ' ';
    key.label += word;
  }
  return {};
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
    ApiKey key;
    bool valid = line.size() >= 64 && (line.size() == 64 || line[64] == ' ' || line[64] == '\t');
    for (size_t i = 0; valid && i < 32; ++i) {
      const int hi = HexDigit(line[2 * i]), lo = HexDigit(line[2 * i + 1]);
      valid = hi >= 0 && lo >= 0;
      key.hash[i] = static_cast<uint8_t>(hi << 4 | lo);
    }
    if (!valid) {
      return Fail(
          "%.*s:%zu: expected the 64 hex digits of a key's SHA-256 (autan serve "
          "--hash-key KEY prints them)",
          static_cast<int>(source.size()), source.data(), line_no);
    }
    if (Status words = ParseKeyWords(line.substr(64), key); !words.ok()) {
      return Fail("%.*s:%zu: %s", static_cast<int>(source.size()), source.data(), line_no,
                  words.error().message.c_str());
    }
    keys.keys_.push_back(std::move(key));
  }
  if (keys.keys_.empty()) {
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

std::optional<size_t> ApiKeys::Find(std::string_view authorization) const {
  if (!StartsWithNoCase(authorization, "bearer ")) return std::nullopt;
  std::string_view key = authorization.substr(7);
  while (!key.empty() && key.front() == ' ') key.remove_prefix(1);
  if (key.empty()) return std::nullopt;
  const std::array<uint8_t, 32> hash = Sha256(key);
  // Every listed hash is compared in full and the index is picked without
  // branching, so timing reveals neither which key matched nor how many bytes
  // of a guess were right.
  uint8_t any = 0;
  size_t found = 0;
  for (size_t k = 0; k < keys_.size(); ++k) {
    uint8_t diff = 0;
    for (size_t i = 0; i < hash.size(); ++i) {
      diff |= static_cast<uint8_t>(hash[i] ^ keys_[k].hash[i]);
    }
    const uint8_t match = static_cast<uint8_t>(diff == 0);
    any |= match;
    found |= k & (size_t{0} - match);
  }
  if (any == 0) return std::nullopt;
  return found;
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
