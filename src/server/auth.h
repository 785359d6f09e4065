// API keys: the keys file lists the SHA-256 of each key (hex, one per line,
// as `autan serve --hash-key KEY` prints it), so a leaked file gives no key
// away. Clients send `Authorization: Bearer KEY`.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace autan::server {

class ApiKeys {
 public:
  // Lines: a 64-digit hex hash, then optionally white space and a label;
  // blank lines and lines starting with '#' are skipped. Errors name the line.
  static Result<ApiKeys> Parse(std::string_view text, std::string_view source);
  static Result<ApiKeys> Load(const std::string& path);

  // True when `authorization` is "Bearer KEY" for a listed key. Takes the
  // same time whichever key (if any) matches.
  bool Check(std::string_view authorization) const;
  size_t size() const { return hashes_.size(); }

 private:
  std::vector<std::array<uint8_t, 32>> hashes_;
};

// The line to put in the keys file for `key`.
std::string KeyFileLine(std::string_view key);

// 127.0.0.0/8, ::1 and "localhost": addresses other machines cannot reach.
bool IsLoopbackHost(std::string_view host);

}  // namespace autan::server
