// The browser side of the web app's security, as pure functions and one small
// class so that each rule is tested on its own: the session cookie, the CSRF
// token and Origin checks, and the sign-in throttle.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace autan::server {

inline constexpr char kSessionCookie[] = "autan_session";
inline constexpr int64_t kSessionTtlSeconds = 30ll * 24 * 3600;

// The value of cookie `name` in a Cookie header ("a=1; b=2"), or nullopt.
std::optional<std::string> CookieValue(std::string_view header, std::string_view name);

// Set-Cookie values that start and end a session.
std::string SessionCookie(std::string_view token, bool secure);
std::string ClearedSessionCookie(bool secure);

// True when the request may act for the session: an absent Origin (same-origin
// GETs and non-browser clients send none) or one whose host[:port] is `host`.
bool OriginAllowed(std::string_view origin, std::string_view host);

// Compares the X-CSRF-Token header with the session's token in constant time.
bool CsrfMatches(std::string_view sent, std::string_view expected);

// Failed sign-ins per key (username + address): after `max_failures` within
// `window_ms` the key is refused until the oldest failure leaves the window.
class LoginThrottle {
 public:
  struct Options {
    int max_failures = 5;
    int64_t window_ms = 15 * 60 * 1000;
  };
  // `now_ms`: milliseconds on any monotonic scale (tests pass their own clock).
  LoginThrottle(Options options, std::function<int64_t()> now_ms);

  // Seconds to wait before trying again, or 0 when a try is allowed now.
  int64_t RetryAfterSeconds(const std::string& key);
  void RecordFailure(const std::string& key);
  void RecordSuccess(const std::string& key);

 private:
  void Prune(std::deque<int64_t>& times, int64_t now) const;

  const Options options_;
  const std::function<int64_t()> now_ms_;
  std::mutex mu_;
  std::map<std::string, std::deque<int64_t>> failures_;
};

}  // namespace autan::server
