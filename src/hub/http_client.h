// One HTTP(S) request at a time through libcurl, redirects left to the
// caller (which decides where a token may go and which hosts are allowed).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace autan::hub {

struct HttpResponse {
  long status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string redirect_url;                                  // absolute, for a 3xx with a Location

  // The first value of header `name` (lower case), or "".
  std::string Header(std::string_view name) const;
};

struct HttpRequest {
  std::string url;
  bool head = false;
  std::vector<std::string> headers;  // "Name: value"
};

// Called once the status line and headers of the final response are in, then
// with each piece of its body. An error aborts the transfer and is returned
// as is (not retried).
struct HttpHandlers {
  std::function<Status(const HttpResponse&)> on_headers;
  std::function<Status(std::string_view)> on_body;
};

struct HttpOutcome {
  enum class Kind {
    kDone,       // the response arrived whole (any status)
    kTransport,  // the connection failed, stalled or was cut: worth retrying
    kFatal,      // a handler refused the response, or the request cannot work (bad TLS, URL)
  };
  Kind kind = Kind::kDone;
  HttpResponse response;  // as far as it arrived
  std::string error;      // for kTransport and kFatal
};

class HttpClient {
 public:
  struct Options {
    long connect_timeout_s = 30;
    // A connection moving less than 1 KiB/s for this long counts as stalled.
    long stall_timeout_s = 30;
  };
  static Result<std::unique_ptr<HttpClient>> Create(const Options& options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // One request; a 3xx is returned, not followed.
  HttpOutcome Perform(const HttpRequest& request, const HttpHandlers& handlers);

 private:
  struct State;
  explicit HttpClient(void* curl) : curl_(curl) {}
  void* curl_;  // CURL*, reused so that connections are kept alive
};

}  // namespace autan::hub
