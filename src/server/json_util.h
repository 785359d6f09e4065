// JSON helpers that never throw: model output may hold invalid UTF-8 (a
// token's partial bytes), which is written as U+FFFD instead.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace autan::server {

inline std::string DumpJson(const nlohmann::ordered_json& j) {
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

// `text` as a client receives it inside our JSON: invalid UTF-8 replaced by
// U+FFFD exactly as DumpJson does, so what is stored matches what was sent.
inline std::string AsSentInJson(const std::string& text) {
  return nlohmann::json::parse(DumpJson(text)).get<std::string>();
}

}  // namespace autan::server
