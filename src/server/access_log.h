// The access log: one JSON object per line on stderr (or any FILE*), with
// what operators need (time, method, path, status, duration, tokens) and
// never a prompt or a completion.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>

namespace autan::server {

struct AccessRecord {
  std::string method;
  std::string path;
  std::string route;  // the pattern that matched, or "" when none did
  std::string remote;
  int status = 0;  // 499: the client went away before the response was complete
  double seconds = 0.0;
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
};

std::string FormatAccessLine(const AccessRecord& record,
                             std::chrono::system_clock::time_point when);

class AccessLog {
 public:
  explicit AccessLog(std::FILE* out) : out_(out) {}
  void Write(const AccessRecord& record);

 private:
  std::mutex mu_;
  std::FILE* out_;
};

}  // namespace autan::server
