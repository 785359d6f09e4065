#include "server/router.h"

namespace autan::server {

void Router::Add(std::string method, std::string pattern, RouteHandler handler) {
  routes_.push_back({std::move(method), std::move(pattern), std::move(handler)});
}

bool Router::Matches(const std::string& pattern, const std::string& path, std::string& param) {
  const size_t brace = pattern.find('{');
  if (brace == std::string::npos) return pattern == path;
  if (path.size() <= brace || path.compare(0, brace, pattern, 0, brace) != 0) return false;
  param = path.substr(brace);
  return true;
}

Router::Match Router::Find(const std::string& method, const std::string& path) const {
  Match m;
  std::string allowed;
  for (const Route& r : routes_) {
    std::string param;
    if (!Matches(r.pattern, path, param)) continue;
    m.pattern = r.pattern;
    if (r.method == method) {
      m.handler = &r.handler;
      m.param = std::move(param);
      return m;
    }
    allowed += (allowed.empty() ? "" : ", ") + r.method;
  }
  if (!allowed.empty()) {
    m.error = MethodNotAllowed(allowed);
  } else {
    m.error = NotFound("no route " + method + " " + path, "unknown_url");
  }
  return m;
}

}  // namespace autan::server
