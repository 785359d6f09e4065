// POST /v1/chat/completions and /v1/completions: from the parsed request to
// a GenerationCall whose callbacks write the response or the event stream.
#include <random>

#include "server/api_service.h"
#include "server/generation.h"
#include "server/json_util.h"
#include "server/sse.h"

namespace autan::server {

void ApiService::ChatCompletions(const HttpRequest& req, const ExchangePtr& ex) {
  Json body;
  if (std::optional<ApiError> e = ParseJsonBody(req.body, body)) return SendErrorTo(ex, *e);
  ChatRequest chat;
  if (std::optional<ApiError> e = ParseChatRequest(body, model_->config().n_vocab, chat)) {
    return SendErrorTo(ex, *e);
  }
  if (std::optional<ApiError> e = CheckModel(chat.gen.model)) return SendErrorTo(ex, *e);
  Result<std::string> prompt = prompter_.Render(chat.messages, chat.tools, chat.continue_final);
  if (!prompt.ok()) {
    return SendErrorTo(
        ex, BadRequest("the chat template cannot render these messages: " + prompt.error().message,
                       "messages"));
  }
  CallPlan plan;
  plan.params = &chat.gen;
  plan.chat = true;
  plan.prompts.push_back(
      model_->tokenizer().Encode(*prompt, {.add_special = false, .parse_special = true}));
  RunCall(std::move(plan), ex);
}

void ApiService::Completions(const HttpRequest& req, const ExchangePtr& ex) {
  Json body;
  if (std::optional<ApiError> e = ParseJsonBody(req.body, body)) return SendErrorTo(ex, *e);
  CompletionRequest completion;
  if (std::optional<ApiError> e =
          ParseCompletionRequest(body, model_->config().n_vocab, completion)) {
    return SendErrorTo(ex, *e);
  }
  if (std::optional<ApiError> e = CheckModel(completion.gen.model)) return SendErrorTo(ex, *e);
  const Tokenizer& tok = model_->tokenizer();
  CallPlan plan;
  plan.params = &completion.gen;
  plan.prompt_param = "prompt";
  if (completion.ids_given) {
    plan.prompts = std::move(completion.ids);
    if (completion.echo) {
      for (const auto& ids : plan.prompts) plan.echo.push_back(tok.Decode(ids));
    }
  } else {
    for (const std::string& text : completion.texts) {
      plan.prompts.push_back(tok.Encode(text, {.add_special = true, .parse_special = true}));
      if (completion.echo) plan.echo.push_back(text);
    }
  }
  RunCall(std::move(plan), ex);
}

void ApiService::RunCall(CallPlan plan, const ExchangePtr& ex) {
  const GenerationParams& g = *plan.params;
  const auto arrival = GenerationCall::Clock::now();
  CallSpec spec;
  spec.n = g.n;
  spec.sampling = g.sampling;
  spec.sampling.seed =
      g.seed ? *g.seed : (uint64_t{std::random_device{}()} << 32 | std::random_device{}());
  const int32_t n_ctx = scheduler_.options().n_ctx;
  spec.max_tokens = g.max_tokens ? std::min(*g.max_tokens, n_ctx) : n_ctx;
  spec.stop = g.stop;
  spec.logprobs = g.logprobs;
  for (const auto& p : plan.prompts) {
    if (p.empty()) return SendErrorTo(ex, BadRequest("the prompt is empty", plan.prompt_param));
    if (static_cast<int64_t>(p.size()) >= n_ctx) {
      return SendErrorTo(
          ex, BadRequest("the prompt has " + std::to_string(p.size()) +
                             " tokens; this server's context holds " + std::to_string(n_ctx) +
                             " per sequence, generated tokens included",
                         plan.prompt_param));
    }
  }
  if (std::optional<ApiError> e = formats_.Factory(g, spec.make_processor)) {
    return SendErrorTo(ex, *e);
  }
  spec.prompts = std::move(plan.prompts);

  const ResponseMeta meta = NewMeta(plan.chat ? "chatcmpl-" : "cmpl-");
  const bool chat = plan.chat, with_logprobs = g.logprobs >= 0, usage_chunk = g.include_usage;
  const int32_t n = g.n;
  const size_t n_choices = spec.prompts.size() * static_cast<size_t>(n);
  std::vector<std::string> echo = std::move(plan.echo);
  CallCallbacks cb;
  if (g.stream) {
    cb.on_open = [ex, meta, chat, n_choices, n, echo, with_logprobs, usage_chunk] {
      HttpResponse head;
      head.content_type = "text/event-stream";
      head.headers.emplace_back("Cache-Control", "no-cache");
      ex->StartStream(std::move(head));
      for (size_t i = 0; i < n_choices; ++i) {
        const int32_t index = static_cast<int32_t>(i);
        if (chat) ex->Send(SseEvent(DumpJson(ChatRoleChunk(meta, index, usage_chunk))));
        if (!echo.empty()) {
          ChoiceDelta d{index, echo[i / static_cast<size_t>(n)], {}, {}};
          ex->Send(SseEvent(DumpJson(TextDeltaChunk(meta, d, with_logprobs, usage_chunk))));
        }
      }
    };
    cb.on_delta = [ex, meta, chat, with_logprobs, usage_chunk](const ChoiceDelta& d) {
      const Json chunk = chat ? ChatDeltaChunk(meta, d, with_logprobs, usage_chunk)
                              : TextDeltaChunk(meta, d, with_logprobs, usage_chunk);
      ex->Send(SseEvent(DumpJson(chunk)));
    };
    cb.on_complete = [ex, meta, chat, usage_chunk](std::vector<ChoiceOutput>, Usage usage) {
      if (usage_chunk) {
        ex->Send(SseEvent(
            DumpJson(UsageChunk(meta, chat ? "chat.completion.chunk" : "text_completion", usage))));
      }
      ex->Send(SseDone());
      ex->SetTokens(usage.prompt_tokens, usage.completion_tokens);
      ex->EndStream();
    };
  } else {
    cb.on_complete = [ex, meta, chat, with_logprobs, n, echo](std::vector<ChoiceOutput> choices,
                                                              Usage usage) {
      if (!echo.empty()) {
        for (ChoiceOutput& c : choices) {
          c.text = echo[static_cast<size_t>(c.index / n)] + c.text;
        }
      }
      ex->SetTokens(usage.prompt_tokens, usage.completion_tokens);
      SendJsonTo(ex, chat ? ChatCompletionObject(meta, choices, with_logprobs, usage)
                          : TextCompletionObject(meta, choices, with_logprobs, usage));
    };
  }
  auto call = std::make_shared<GenerationCall>(scheduler_, model_->tokenizer(), metrics_,
                                               std::move(cb), g.stream, arrival);
  std::weak_ptr<GenerationCall> weak = call;
  ex->OnDisconnect([weak] {
    if (auto c = weak.lock()) c->Cancel();
  });
  if (std::optional<ApiError> e = GenerationCall::Start(call, std::move(spec))) {
    if (e->status == 400) e->param = plan.prompt_param;
    SendErrorTo(ex, *e);
  }
}

}  // namespace autan::server
