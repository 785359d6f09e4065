#include "server/app_security.h"

#include <cctype>

namespace autan::server {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool EqualNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::optional<std::string> CookieValue(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    const size_t end = header.find(';');
    std::string_view pair = Trim(header.substr(0, end));
    header = end == std::string_view::npos ? std::string_view() : header.substr(end + 1);
    const size_t eq = pair.find('=');
    if (eq == std::string_view::npos || Trim(pair.substr(0, eq)) != name) continue;
    std::string_view value = Trim(pair.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    return std::string(value);
  }
  return std::nullopt;
}

std::string SessionCookie(std::string_view token, bool secure) {
  std::string c =
      std::string(kSessionCookie) + "=" + std::string(token) +
      "; HttpOnly; SameSite=Strict; Path=/; Max-Age=" + std::to_string(kSessionTtlSeconds);
  if (secure) c += "; Secure";
  return c;
}

std::string ClearedSessionCookie(bool secure) {
  std::string c = std::string(kSessionCookie) + "=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0";
  if (secure) c += "; Secure";
  return c;
}

bool OriginAllowed(std::string_view origin, std::string_view host) {
  if (origin.empty()) return true;
  // A sandboxed frame or a privacy-sensitive redirect sends "null": never ours.
  size_t scheme_end = origin.find("://");
  if (scheme_end == std::string_view::npos) return false;
  const std::string_view scheme = origin.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") return false;
  const std::string_view origin_host = origin.substr(scheme_end + 3);
  if (origin_host.empty() || origin_host.find('/') != std::string_view::npos) return false;
  return EqualNoCase(origin_host, Trim(host));
}

bool CsrfMatches(std::string_view sent, std::string_view expected) {
  if (expected.empty() || sent.size() != expected.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < sent.size(); ++i) {
    diff |= static_cast<unsigned char>(sent[i] ^ expected[i]);
  }
  return diff == 0;
}

LoginThrottle::LoginThrottle(Options options, std::function<int64_t()> now_ms)
    : options_(options), now_ms_(std::move(now_ms)) {}

void LoginThrottle::Prune(std::deque<int64_t>& times, int64_t now) const {
  while (!times.empty() && times.front() <= now - options_.window_ms) times.pop_front();
}

int64_t LoginThrottle::RetryAfterSeconds(const std::string& key) {
  const int64_t now = now_ms_();
  std::lock_guard lock(mu_);
  auto it = failures_.find(key);
  if (it == failures_.end()) return 0;
  Prune(it->second, now);
  if (it->second.empty()) {
    failures_.erase(it);
    return 0;
  }
  if (static_cast<int>(it->second.size()) < options_.max_failures) return 0;
  const int64_t wait_ms = it->second.front() + options_.window_ms - now;
  return (wait_ms + 999) / 1000;
}

void LoginThrottle::RecordFailure(const std::string& key) {
  const int64_t now = now_ms_();
  std::lock_guard lock(mu_);
  std::deque<int64_t>& times = failures_[key];
  Prune(times, now);
  times.push_back(now);
  // Bounded: only the last max_failures matter for the decision.
  while (static_cast<int>(times.size()) > options_.max_failures) times.pop_front();
  // Keys of addresses that stopped trying would otherwise pile up.
  if (failures_.size() > 100000) {
    for (auto i = failures_.begin(); i != failures_.end();) {
      Prune(i->second, now);
      i = i->second.empty() ? failures_.erase(i) : std::next(i);
    }
  }
}

void LoginThrottle::RecordSuccess(const std::string& key) {
  std::lock_guard lock(mu_);
  failures_.erase(key);
}

}  // namespace autan::server
