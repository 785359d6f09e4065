// Method and path to handler. A pattern's last segment may be "{name}", which
// takes the rest of the path (model ids may hold slashes).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "server/api_error.h"
#include "server/exchange.h"
#include "server/http_types.h"

namespace autan::server {

using RouteHandler = std::function<void(const HttpRequest& request, const std::string& param,
                                        const std::shared_ptr<Exchange>& exchange)>;

class Router {
 public:
  void Add(std::string method, std::string pattern, RouteHandler handler);

  struct Match {
    const RouteHandler* handler = nullptr;  // null: see error
    std::string pattern;                    // the route's pattern, for logs and metrics
    std::string param;                      // what "{name}" matched
    std::optional<ApiError> error;          // 404 or 405
  };
  Match Find(const std::string& method, const std::string& path) const;

 private:
  struct Route {
    std::string method, pattern;
    RouteHandler handler;
  };
  static bool Matches(const std::string& pattern, const std::string& path, std::string& param);
  std::vector<Route> routes_;
};

}  // namespace autan::server
