#include "server/url.h"

namespace autan::server {
namespace {

int HexDigit(char c) {
  return c >= '0' && c <= '9'   ? c - '0'
         : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                : -1;
}

// Appends `s` decoded; '+' means a space in query strings only.
void Decode(std::string_view s, bool plus_is_space, std::string& out) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexDigit(s[i + 1]) >= 0 && HexDigit(s[i + 2]) >= 0) {
      out += static_cast<char>(HexDigit(s[i + 1]) * 16 + HexDigit(s[i + 2]));
      i += 2;
    } else if (plus_is_space && s[i] == '+') {
      out += ' ';
    } else {
      out += s[i];
    }
  }
}

}  // namespace

std::string PercentDecode(std::string_view s) {
  std::string out;
  Decode(s, false, out);
  return out;
}

void SplitTarget(std::string_view target, std::string& path, std::string& query) {
  const size_t q = target.find('?');
  path = PercentDecode(target.substr(0, q));
  query = q == std::string_view::npos ? std::string() : std::string(target.substr(q + 1));
}

std::optional<std::string> QueryValue(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const size_t eq = pair.find('=');
    if (pair.substr(0, eq) != name) continue;
    std::string out;
    if (eq != std::string_view::npos) Decode(pair.substr(eq + 1), true, out);
    return out;
  }
  return std::nullopt;
}

}  // namespace autan::server
