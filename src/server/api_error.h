// Every error the HTTP API returns, in one value type. ErrorResponse() is the
// one place that turns it into OpenAI's error shape:
//   {"error": {"message": ..., "type": ..., "param": ..., "code": ...}}
#pragma once

#include <string>

#include "server/http_types.h"

namespace autan::server {

struct ApiError {
  int status = 400;
  std::string message;
  std::string type = "invalid_request_error";
  std::string param;            // the request field at fault ("" when none)
  std::string code;             // a machine-readable code ("" when none)
  int retry_after_seconds = 0;  // > 0: a Retry-After header (429, 503)
};

// 400 naming the field at fault.
ApiError BadRequest(std::string message, std::string param = {});
ApiError NotFound(std::string message, std::string code = {});
ApiError MethodNotAllowed(const std::string& allowed);
ApiError Unauthorized(std::string message);
ApiError PayloadTooLarge(size_t limit);
ApiError TooManyRequests(std::string message);
ApiError Unavailable(std::string message);
ApiError Internal(std::string message);

// The response for an error: its status, OpenAI's JSON body and, where the
// status calls for one, Allow, WWW-Authenticate or Retry-After.
HttpResponse ErrorResponse(const ApiError& error);

}  // namespace autan::server
