#include "server/limited_exchange.h"

#include <algorithm>
#include <cmath>

namespace autan::server {

LimitedExchange::~LimitedExchange() {
  // Answered without running (an error) or dropped: nothing was used.
  if (const int64_t r = reserved_.exchange(0); r != 0) {
    limiter_.Settle(client_, limits_, r, 0, RateLimiter::Clock::now());
  }
}

ApiError LimitedExchange::Refused(const RateLimiter::Verdict& v) const {
  ApiError e = TooManyRequests(v.message);
  e.retry_after_seconds =
      static_cast<int>(std::min(86400.0, std::max(1.0, std::ceil(v.retry_after))));
  return e;
}

std::optional<ApiError> LimitedExchange::Admit() {
  const RateLimiter::Verdict v = limiter_.AdmitRequest(client_, limits_, RateLimiter::Clock::now());
  if (v.ok) return std::nullopt;
  return Refused(v);
}

std::optional<ApiError> LimitedExchange::ReserveTokens(int64_t tokens) {
  const RateLimiter::Verdict v =
      limiter_.ReserveTokens(client_, limits_, tokens, RateLimiter::Clock::now());
  if (!v.ok) return Refused(v);
  if (limits_.tpm > 0) reserved_.fetch_add(tokens);
  return std::nullopt;
}

void LimitedExchange::SetTokens(int64_t prompt_tokens, int64_t completion_tokens) {
  const int64_t r = reserved_.exchange(0);
  if (limits_.tpm > 0) {
    limiter_.Settle(client_, limits_, r, prompt_tokens + completion_tokens,
                    RateLimiter::Clock::now());
  }
  inner_->SetTokens(prompt_tokens, completion_tokens);
}

void LimitedExchange::AddHeaders(HttpResponse& r) {
  for (auto& h : limiter_.Headers(client_, limits_, RateLimiter::Clock::now())) {
    r.headers.push_back(std::move(h));
  }
}

void LimitedExchange::Respond(HttpResponse response) {
  AddHeaders(response);
  inner_->Respond(std::move(response));
}

void LimitedExchange::StartStream(HttpResponse head) {
  AddHeaders(head);
  inner_->StartStream(std::move(head));
}

}  // namespace autan::server
