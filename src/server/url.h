// The parts of a request target the server decodes itself (Beast hands over
// the raw target): the path, percent-decoded, and query-string values.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace autan::server {

// %XX becomes the byte XX; a '%' not followed by two hex digits stays as is.
std::string PercentDecode(std::string_view s);

// Splits "/path?query" at the first '?': the decoded path and the raw query.
void SplitTarget(std::string_view target, std::string& path, std::string& query);

// The value of `name` in a query string ("a=1&q=x+y"): '+' is a space and %XX
// a byte. "" for a name without '='; nullopt when the name is absent.
std::optional<std::string> QueryValue(std::string_view query, std::string_view name);

}  // namespace autan::server
