// The API: routes, authentication and the handlers. Handlers parse and
// validate a request, hand its generation to the scheduler and return; the
// answer goes back through the Exchange from the engine's callbacks. Nothing
// here blocks, and nothing throws: every error becomes ErrorResponse().
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "model/model.h"
#include "runtime/embedder.h"
#include "runtime/scheduler.h"
#include "server/api_types.h"
#include "server/app_service.h"
#include "server/auth.h"
#include "server/chat_prompt.h"
#include "server/exchange.h"
#include "server/metrics.h"
#include "server/openai_schema.h"
#include "server/rate_limit.h"
#include "server/response_format.h"
#include "server/router.h"

namespace autan::server {

// Answers through `ex`: JSON with a status, or an error in OpenAI's shape.
void SendJsonTo(const std::shared_ptr<Exchange>& ex, const nlohmann::ordered_json& body,
                int status = 200);
void SendErrorTo(const std::shared_ptr<Exchange>& ex, const ApiError& e);

struct ServiceOptions {
  std::string model_id;         // what /v1/models lists and requests name
  std::string chat_template;    // "" (the model's), a built-in format name or a file
  std::optional<ApiKeys> keys;  // none: no authentication
  // Per key (per client address without keys), unless the keys file sets its own.
  RateLimits rate_limits;
  // A generation still running this long after its request arrived is ended
  // with finish_reason "length"; 0: no limit.
  std::chrono::seconds request_timeout{0};
  EnergyPricing pricing;  // carbon and cost in each usage
};

class ApiService {
 public:
  static Result<std::unique_ptr<ApiService>> Create(std::shared_ptr<const Model> model,
                                                    Scheduler& scheduler, Embedder& embedder,
                                                    ServiceOptions options);

  // Answers one request (the HTTP server's handler).
  void Handle(const HttpRequest& request, const std::shared_ptr<Exchange>& exchange);

  // Serves /api and the web app through `app` (owned by the caller, which
  // keeps it alive while this serves); personal keys then open /v1 as well.
  void AttachApp(AppService* app) { app_ = app; }

  // From now on generation routes answer 503 and /health reports draining.
  void BeginDrain() { draining_ = true; }
  Metrics& metrics() { return metrics_; }
  const ChatPrompter& prompter() const { return prompter_; }

 private:
  ApiService(std::shared_ptr<const Model> model, Scheduler& scheduler, Embedder& embedder,
             ServiceOptions options, ChatPrompter prompter);
  void AddRoutes();

  using ExchangePtr = std::shared_ptr<Exchange>;
  // After authentication: the matched route, or its error.
  // Runs a matched route under the rate limits of `key` (a keys-file line) or
  // the defaults, counted against `client`.
  // Whose usage a request adds to (personal keys: the user and the key;
  // keys-file keys: the key); none when `key` is empty.
  struct Accounting {
    std::string user_id;
    std::string key;
  };
  void Dispatch(const HttpRequest& request, const Router::Match& m, const ExchangePtr& ex,
                std::optional<size_t> key, const std::string& client,
                const Accounting& accounting = {});
  void Home(const ExchangePtr& ex);
  void Health(const ExchangePtr& ex);
  void Version(const ExchangePtr& ex);
  void Models(const ExchangePtr& ex);
  void ModelById(const std::string& id, const ExchangePtr& ex);
  void Prometheus(const ExchangePtr& ex);
  void Tokenize(const HttpRequest& req, const ExchangePtr& ex);
  void Detokenize(const HttpRequest& req, const ExchangePtr& ex);
  void ChatCompletions(const HttpRequest& req, const ExchangePtr& ex);
  void Completions(const HttpRequest& req, const ExchangePtr& ex);
  void FimCompletions(const HttpRequest& req, const ExchangePtr& ex);
  void Embeddings(const HttpRequest& req, const ExchangePtr& ex);

  // Shared by both completion routes once the prompts are tokens.
  struct CallPlan {
    const GenerationParams* params = nullptr;
    std::vector<std::vector<int32_t>> prompts;
    std::vector<std::string> echo;  // text to put before each prompt's choices
    bool chat = false;
    const char* prompt_param = "messages";
    std::optional<ToolCallParser::Options> tools;  // tool calls to parse
    ProcessorFactory tool_processor;               // a forced call's constraint
    int32_t min_tokens = 0;  // end of generation held back until this many tokens
  };
  void RunCall(CallPlan plan, const ExchangePtr& ex);
  std::optional<ApiError> PlanForcedToolCall(const ChatRequest& chat, CallPlan& plan) const;

  std::optional<ApiError> CheckModel(const std::string& requested) const;
  RateLimits LimitsFor(std::optional<size_t> key) const;
  ResponseMeta NewMeta(const char* prefix);

  std::shared_ptr<const Model> model_;
  Scheduler& scheduler_;
  Embedder& embedder_;
  ServiceOptions options_;
  ChatPrompter prompter_;
  ResponseFormats formats_;
  Router router_;
  Metrics metrics_;
  RateLimiter limiter_;
  std::atomic<bool> draining_{false};
  AppService* app_ = nullptr;
  const int64_t started_;  // Unix seconds, the models' "created"
  const uint64_t id_base_;
  std::atomic<uint64_t> next_id_{0};
};

}  // namespace autan::server
