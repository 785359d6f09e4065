#include "server/stop_matcher.h"

#include <algorithm>

namespace autan::server {

StopMatcher::Output StopMatcher::Push(std::string_view piece) {
  Output out;
  if (stopped_) return out;
  held_ += piece;
  if (stops_.empty()) {
    out.text.swap(held_);
    return out;
  }
  // The earliest complete stop sequence wins.
  size_t first = std::string::npos;
  for (const std::string& s : stops_) {
    if (s.empty()) continue;
    first = std::min(first, held_.find(s));
  }
  if (first != std::string::npos) {
    out.text = held_.substr(0, first);
    out.stopped = stopped_ = true;
    held_.clear();
    return out;
  }
  // Otherwise keep the longest tail that is a proper prefix of some stop.
  size_t keep = 0;
  for (const std::string& s : stops_) {
    if (s.empty()) continue;
    for (size_t n = std::min(s.size() - 1, held_.size()); n > keep; --n) {
      if (held_.compare(held_.size() - n, n, s, 0, n) == 0) {
        keep = n;
        break;
      }
    }
  }
  out.text = held_.substr(0, held_.size() - keep);
  held_.erase(0, held_.size() - keep);
  return out;
}

std::string StopMatcher::Flush() {
  std::string rest;
  if (!stopped_) rest.swap(held_);
  return rest;
}

}  // namespace autan::server
