// POST /v1/fim/completions (Mistral's fill-in-the-middle): the prompt and
// suffix become Mistral's FIM prompt, then the call runs as a chat completion
// does and answers in the same shape, whole or streamed.
#include "server/api_service.h"
#include "server/fim_prompt.h"
#include "server/mistral_schema.h"

namespace autan::server {

void ApiService::FimCompletions(const HttpRequest& req, const ExchangePtr& ex) {
  Json body;
  if (std::optional<ApiError> e = ParseJsonBody(req.body, body)) return SendErrorTo(ex, *e);
  FimRequest fim;
  if (std::optional<ApiError> e = ParseFimRequest(body, model_->config().n_vocab, fim)) {
    return SendErrorTo(ex, *e);
  }
  if (std::optional<ApiError> e = CheckModel(fim.gen.model)) return SendErrorTo(ex, *e);
  Result<std::vector<int32_t>> prompt = BuildFimPrompt(model_->tokenizer(), fim.prompt, fim.suffix);
  if (!prompt.ok()) return SendErrorTo(ex, BadRequest(prompt.error().message, "model"));
  CallPlan plan;
  plan.params = &fim.gen;
  plan.chat = true;
  plan.prompt_param = "prompt";
  plan.min_tokens = fim.min_tokens;
  plan.prompts.push_back(std::move(prompt).value());
  RunCall(std::move(plan), ex);
}

}  // namespace autan::server
