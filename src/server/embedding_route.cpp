// POST /v1/embeddings: inputs tokenized here, embedded by the Embedder on its
// own thread (beside the scheduler, so streams keep decoding), and answered
// from its callback in OpenAI's shape.
#include "server/api_service.h"
#include "server/json_util.h"

namespace autan::server {

void ApiService::Embeddings(const HttpRequest& req, const ExchangePtr& ex) {
  Json body;
  if (std::optional<ApiError> e = ParseJsonBody(req.body, body)) return SendErrorTo(ex, *e);
  EmbeddingRequest request;
  const ModelConfig& c = model_->config();
  if (std::optional<ApiError> e = ParseEmbeddingRequest(body, c.n_vocab, c.dim, request)) {
    return SendErrorTo(ex, *e);
  }
  if (std::optional<ApiError> e = CheckModel(request.model)) return SendErrorTo(ex, *e);
  EmbeddingJob job;
  if (options_.request_timeout.count() > 0) {
    job.deadline = std::chrono::steady_clock::now() + options_.request_timeout;
  }
  if (request.ids_given) {
    job.inputs = std::move(request.ids);
  } else {
    for (const std::string& text : request.texts) {
      job.inputs.push_back(
          model_->tokenizer().Encode(text, {.add_special = true, .parse_special = false}));
    }
  }
  int64_t tokens = 0;
  for (const auto& in : job.inputs) tokens += std::ssize(in);
  if (std::optional<ApiError> e = ex->ReserveTokens(tokens)) return SendErrorTo(ex, *e);
  job.on_done = [this, ex, meta = NewMeta("embd-"), base64 = request.base64,
                 tokens](Result<std::vector<std::vector<float>>> out) {
    if (!out.ok()) return SendErrorTo(ex, Unavailable(out.error().message));
    metrics_.AddTokens(tokens, 0);
    ex->SetTokens(tokens, 0);
    SendJsonTo(ex, EmbeddingListObject(meta, *out, base64, tokens));
  };
  Embedder::Submitted sub = embedder_.Submit(std::move(job));
  switch (sub.refusal) {
    case Embedder::Refusal::kNone: {
      const uint64_t id = sub.id;
      ex->OnDisconnect([this, id] { embedder_.Cancel(id); });
      return;
    }
    case Embedder::Refusal::kQueueFull:
      return SendErrorTo(ex,
                         TooManyRequests("the server is busy: " + sub.message + "; retry shortly"));
    case Embedder::Refusal::kShuttingDown:
      return SendErrorTo(ex, Unavailable(sub.message));
    case Embedder::Refusal::kInvalid:
      return SendErrorTo(ex, BadRequest(sub.message, "input"));
  }
}

}  // namespace autan::server
