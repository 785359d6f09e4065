// One request's way back to its client. Handlers answer through it from any
// thread: every method is thread-safe and returns at once (the work is queued
// on the connection's strand), so engine callbacks may call it directly.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "server/api_error.h"
#include "server/http_types.h"

namespace autan::server {

class Exchange {
 public:
  virtual ~Exchange() = default;

  // A whole response. Only the first Respond or StartStream counts.
  virtual void Respond(HttpResponse response) = 0;
  // A streamed response: the head now (its body is ignored), then Send for
  // each piece and EndStream once.
  virtual void StartStream(HttpResponse head) = 0;
  virtual void Send(std::string data) = 0;
  virtual void EndStream() = 0;

  // Runs once if the client goes away before the response is complete
  // (at once if it already has).
  virtual void OnDisconnect(std::function<void()> fn) = 0;

  // For the access log and metrics: the route pattern that matched
  // ("/v1/models/{id}") and the tokens the request used.
  virtual void SetRoute(std::string route) = 0;
  virtual void SetTokens(int64_t prompt_tokens, int64_t completion_tokens) = 0;
  // The request's energy, reported just before SetTokens (for usage and quotas).
  virtual void SetEnergy(double joules) { (void)joules; }

  // Before a request runs: the most tokens it may use (its prompt and longest
  // completion). An error (429) when the client's budget cannot cover them;
  // SetTokens later reports what it used. Without rate limits, always fine.
  virtual std::optional<ApiError> ReserveTokens(int64_t tokens) {
    (void)tokens;
    return std::nullopt;
  }
};

}  // namespace autan::server
