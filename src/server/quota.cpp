#include "server/quota.h"

#include <chrono>
#include <cstdio>

namespace autan::server {

std::string UtcTime(int64_t ms) {
  using namespace std::chrono;
  const sys_seconds t = floor<seconds>(sys_time<milliseconds>(milliseconds(ms)));
  const year_month_day ymd{floor<days>(t)};
  const hh_mm_ss<seconds> hms{t - floor<days>(t)};
  char text[32];
  std::snprintf(text, sizeof(text), "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return text;
}

std::optional<ApiError> QuotaError(const store::QuotaState& s, const std::string& who) {
  if (!s.Exceeded()) return std::nullopt;
  const int64_t tokens = s.today.prompt_tokens + s.today.completion_tokens;
  char used[160];
  if (s.quota->tokens_per_day && tokens >= *s.quota->tokens_per_day) {
    std::snprintf(used, sizeof(used), "%lld of %lld tokens", static_cast<long long>(tokens),
                  static_cast<long long>(*s.quota->tokens_per_day));
  } else {
    std::snprintf(used, sizeof(used), "%.1f of %.1f joules", s.today.energy_joules,
                  *s.quota->joules_per_day);
  }
  ApiError e;
  e.status = 429;
  e.type = "insufficient_quota";
  e.code = "daily_quota_exceeded";
  e.message = "daily quota exceeded for " + who + ": " + used + " used today (UTC); it resets at " +
              UtcTime(s.resets_at_ms);
  const int64_t wait_ms = std::max<int64_t>(s.resets_at_ms - s.now_ms, 0);
  e.retry_after_seconds = static_cast<int>(std::max<int64_t>(1, (wait_ms + 999) / 1000));
  return e;
}

void AccountedExchange::SetTokens(int64_t prompt_tokens, int64_t completion_tokens) {
  inner_->SetTokens(prompt_tokens, completion_tokens);
  if (recorded_.exchange(true)) return;
  record_(store::UsageDelta{prompt_tokens, completion_tokens, joules_.load()});
}

}  // namespace autan::server
