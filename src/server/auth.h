// API keys: the keys file lists the SHA-256 of each key (hex, one per line,
// as `autan serve --hash-key KEY` prints it), so a leaked file gives no key
// away. Clients send `Authorization: Bearer KEY`.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace autan::server {

// Per-minute budgets; unset: the server's defaults (--rate-limit-rpm/-tpm).
// 0 means no limit.
struct KeyLimits {
  std::optional<int64_t> rpm;  // requests per minute
  std::optional<int64_t> tpm;  // tokens per minute (prompt + completion)
};

struct ApiKey {
  std::array<uint8_t, 32> hash;
  std::string label;
  KeyLimits limits;
};

class ApiKeys {
 public:
  // Lines: a 64-digit hex hash, then optionally white space and words: the
  // words rpm=N and tpm=N set the key's limits, the others form its label.
  // Blank lines and lines starting with '#' are skipped. Errors name the line.
  //   9f86d0...0f00a08  ci pipeline  rpm=60 tpm=100000
  static Result<ApiKeys> Parse(std::string_view text, std::string_view source);
  static Result<ApiKeys> Load(const std::string& path);

  // The index of the listed key that `authorization` ("Bearer KEY") names.
  // Takes the same time whichever key (if any) matches.
  std::optional<size_t> Find(std::string_view authorization) const;
  bool Check(std::string_view authorization) const { return Find(authorization).has_value(); }
  const ApiKey& key(size_t index) const { return keys_[index]; }
  size_t size() const { return keys_.size(); }

 private:
  std::vector<ApiKey> keys_;
};

// The line to put in the keys file for `key`.
std::string KeyFileLine(std::string_view key);

// 127.0.0.0/8, ::1 and "localhost": addresses other machines cannot reach.
bool IsLoopbackHost(std::string_view host);

}  // namespace autan::server
