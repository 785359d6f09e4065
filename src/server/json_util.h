// JSON helpers that never throw: model output may hold invalid UTF-8 (a
// token's partial bytes), which is written as U+FFFD instead.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace autan::server {

inline std::string DumpJson(const nlohmann::ordered_json& j) {
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace autan::server
