#include "server/access_log.h"

#include <cmath>
#include <ctime>

#include <nlohmann/json.hpp>

#include "server/json_util.h"

namespace autan::server {

std::string FormatAccessLine(const AccessRecord& r, std::chrono::system_clock::time_point when) {
  using namespace std::chrono;
  const auto ms = duration_cast<milliseconds>(when.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm utc;
  gmtime_r(&secs, &utc);
  char stamp[40];
  const size_t n = std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(stamp + n, sizeof stamp - n, ".%03dZ", static_cast<int>(ms % 1000));
  nlohmann::ordered_json j;
  j["time"] = stamp;
  j["method"] = r.method;
  j["path"] = r.path;
  if (!r.route.empty()) j["route"] = r.route;
  j["status"] = r.status;
  j["duration_ms"] = std::round(r.seconds * 1e6) / 1e3;
  j["prompt_tokens"] = r.prompt_tokens;
  j["completion_tokens"] = r.completion_tokens;
  j["remote"] = r.remote;
  return DumpJson(j);
}

void AccessLog::Write(const AccessRecord& record) {
  std::string line = FormatAccessLine(record, std::chrono::system_clock::now());
  line += '\n';
  std::lock_guard lock(mu_);
  std::fwrite(line.data(), 1, line.size(), out_);
  std::fflush(out_);
}

}  // namespace autan::server
