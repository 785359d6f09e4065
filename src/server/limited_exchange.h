// An Exchange under a client's rate limits: it puts OpenAI's x-ratelimit-*
// headers on the response, reserves tokens from the client's budget and, once
// the request reports what it used (or is dropped unanswered), gives back
// what it reserved beyond that.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "server/exchange.h"
#include "server/rate_limit.h"

namespace autan::server {

class LimitedExchange final : public Exchange {
 public:
  LimitedExchange(std::shared_ptr<Exchange> inner, RateLimiter& limiter, std::string client,
                  RateLimits limits)
      : inner_(std::move(inner)), limiter_(limiter), client_(std::move(client)), limits_(limits) {}
  ~LimitedExchange() override;

  // Takes one request from the budget: a 429 when there is none left.
  std::optional<ApiError> Admit();

  void Respond(HttpResponse response) override;
  void StartStream(HttpResponse head) override;
  void Send(std::string data) override { inner_->Send(std::move(data)); }
  void EndStream() override { inner_->EndStream(); }
  void OnDisconnect(std::function<void()> fn) override { inner_->OnDisconnect(std::move(fn)); }
  void SetRoute(std::string route) override { inner_->SetRoute(std::move(route)); }
  void SetTokens(int64_t prompt_tokens, int64_t completion_tokens) override;
  void SetEnergy(double joules) override { inner_->SetEnergy(joules); }
  std::optional<ApiError> ReserveTokens(int64_t tokens) override;

 private:
  void AddHeaders(HttpResponse& r);
  ApiError Refused(const RateLimiter::Verdict& v) const;

  std::shared_ptr<Exchange> inner_;
  RateLimiter& limiter_;
  const std::string client_;
  const RateLimits limits_;
  std::atomic<int64_t> reserved_{0};  // not yet settled
};

}  // namespace autan::server
