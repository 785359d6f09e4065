// HTTP/1.1 over Boost.Beast: a few I/O threads serve every connection
// asynchronously (an idle or streaming connection holds no thread), each
// connection on its own strand, with keep-alive, body and header limits,
// chunked streaming and disconnect detection. Requests go to one handler as
// plain HttpRequests; answers come back through an Exchange.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/result.h"
#include "server/access_log.h"
#include "server/exchange.h"
#include "server/http_types.h"

namespace autan::server {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0: any free port
  int threads = 2;
  size_t max_body = size_t{8} << 20;
  size_t max_header = size_t{64} << 10;
  // Connections open at once; more are answered 503 and closed. 0: the
  // open-file limit (RLIMIT_NOFILE) less 64 (half of it below 128).
  size_t max_connections = 0;
  std::chrono::seconds idle_timeout{120};   // waiting for a request on an open connection
  std::chrono::seconds write_timeout{120};  // a client that stops reading
};

using RequestHandler =
    std::function<void(const HttpRequest& request, const std::shared_ptr<Exchange>& exchange)>;
// The default of HttpServerOptions::max_connections.
size_t DefaultMaxConnections();

// Called once per request when its response is complete or the client left.
using RequestObserver = std::function<void(const AccessRecord& record)>;

class HttpServer {
 public:
  // Binds and listens (fails on a bad address or a port in use).
  static Result<std::unique_ptr<HttpServer>> Create(const HttpServerOptions& options,
                                                    RequestHandler handler,
                                                    RequestObserver observer);
  ~HttpServer();

  uint16_t port() const;
  // Serves on the I/O threads until Stop(). `on_signal` runs on an I/O thread
  // for each SIGINT or SIGTERM.
  void Run(std::function<void(int)> on_signal);
  // Thread-safe. Closes the listening socket; connections already open are
  // served, and closed once their current response is complete.
  void StopAccepting();
  // Thread-safe. Ends Run; what is in flight is dropped.
  void Stop();
  // Requests received whose response is not yet complete.
  int64_t open_responses() const;

  struct Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace autan::server
