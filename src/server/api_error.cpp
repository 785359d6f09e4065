#include "server/api_error.h"

#include <nlohmann/json.hpp>

#include "server/json_util.h"

namespace autan::server {

ApiError BadRequest(std::string message, std::string param) {
  return {.status = 400, .message = std::move(message), .param = std::move(param)};
}

ApiError NotFound(std::string message, std::string code) {
  return {.status = 404, .message = std::move(message), .code = std::move(code)};
}

ApiError MethodNotAllowed(const std::string& allowed) {
  // The allowed methods travel in `param` until ErrorResponse writes Allow.
  return {.status = 405,
          .message = "method not allowed; this route accepts " + allowed,
          .param = allowed,
          .code = "method_not_allowed"};
}

ApiError Unauthorized(std::string message) {
  return {.status = 401, .message = std::move(message), .code = "invalid_api_key"};
}

ApiError PayloadTooLarge(size_t limit) {
  return {.status = 413,
          .message = "the request body is larger than the server accepts (" +
                     std::to_string(limit) + " bytes)",
          .code = "request_too_large"};
}

ApiError TooManyRequests(std::string message) {
  return {.status = 429,
          .message = std::move(message),
          .type = "rate_limit_error",
          .code = "rate_limit_exceeded",
          .retry_after_seconds = 1};
}

ApiError Unavailable(std::string message) {
  return {.status = 503,
          .message = std::move(message),
          .type = "server_error",
          .code = "unavailable",
          .retry_after_seconds = 5};
}

ApiError Internal(std::string message) {
  return {.status = 500, .message = std::move(message), .type = "server_error"};
}

HttpResponse ErrorResponse(const ApiError& e) {
  nlohmann::ordered_json body;
  body["error"]["message"] = e.message;
  body["error"]["type"] = e.type;
  const bool allow_header = e.status == 405;
  body["error"]["param"] =
      e.param.empty() || allow_header ? nlohmann::ordered_json() : nlohmann::ordered_json(e.param);
  body["error"]["code"] =
      e.code.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(e.code);
  HttpResponse r;
  r.status = e.status;
  r.body = DumpJson(body);
  if (allow_header) r.headers.emplace_back("Allow", e.param);
  if (e.status == 401) r.headers.emplace_back("WWW-Authenticate", "Bearer");
  if (e.retry_after_seconds > 0) {
    r.headers.emplace_back("Retry-After", std::to_string(e.retry_after_seconds));
  }
  return r;
}

}  // namespace autan::server
