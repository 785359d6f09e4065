// Daily quotas (tokens and/or joules per UTC day, per user and per API key):
// the 429 for a subject over its quota, and the Exchange that reports what
// each /v1 request used once it has used it.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "server/api_error.h"
#include "server/exchange.h"
#include "store/store.h"

namespace autan::server {

// None while under quota; else a 429 in OpenAI's shape (type
// "insufficient_quota") naming `who`, the cap reached, what was used and when
// it resets, with Retry-After until then.
std::optional<ApiError> QuotaError(const store::QuotaState& state, const std::string& who);

// "2025-01-02T00:00:00Z"
std::string UtcTime(int64_t ms);

// Forwards everything to `inner`; hands the tokens and joules a request used
// to `record` once it reports them (SetEnergy, then SetTokens).
class AccountedExchange final : public Exchange {
 public:
  using Record = std::function<void(const store::UsageDelta&)>;
  AccountedExchange(std::shared_ptr<Exchange> inner, Record record)
      : inner_(std::move(inner)), record_(std::move(record)) {}

  void Respond(HttpResponse response) override { inner_->Respond(std::move(response)); }
  void StartStream(HttpResponse head) override { inner_->StartStream(std::move(head)); }
  void Send(std::string data) override { inner_->Send(std::move(data)); }
  void EndStream() override { inner_->EndStream(); }
  void OnDisconnect(std::function<void()> fn) override { inner_->OnDisconnect(std::move(fn)); }
  void SetRoute(std::string route) override { inner_->SetRoute(std::move(route)); }
  std::optional<ApiError> ReserveTokens(int64_t tokens) override {
    return inner_->ReserveTokens(tokens);
  }
  void SetEnergy(double joules) override {
    joules_.store(joules);
    inner_->SetEnergy(joules);
  }
  void SetTokens(int64_t prompt_tokens, int64_t completion_tokens) override;

 private:
  std::shared_ptr<Exchange> inner_;
  Record record_;
  std::atomic<double> joules_{0.0};
  std::atomic<bool> recorded_{false};
};

}  // namespace autan::server
