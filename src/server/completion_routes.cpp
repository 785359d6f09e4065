// POST /v1/chat/completions and /v1/completions: from the parsed request to
// a GenerationCall whose callbacks write the response or the event stream.
#include <random>

#include "server/api_service.h"
#include "server/generation.h"
#include "server/json_util.h"
#include "server/min_tokens.h"
#include "server/sse.h"

namespace autan::server {
namespace {

// How a call's results are written back.
struct ResponseShape {
  std::shared_ptr<Exchange> ex;
  ResponseMeta meta;
  bool chat = false;
  bool with_logprobs = false;
  bool usage_chunk = false;  // stream_options.include_usage
  int32_t n = 1;
  size_t n_choices = 1;
  std::vector<std::string> echo;  // per prompt, when echo is asked for
};

// SSE: the head and each choice's role (and echo) first, then the deltas,
// the usage chunk when asked for, and [DONE].
CallCallbacks StreamCallbacks(ResponseShape shape) {
  auto s = std::make_shared<const ResponseShape>(std::move(shape));
  CallCallbacks cb;
  cb.on_open = [s] {
    HttpResponse head;
    head.content_type = "text/event-stream";
    head.headers.emplace_back("Cache-Control", "no-cache");
    s->ex->StartStream(std::move(head));
    for (size_t i = 0; i < s->n_choices; ++i) {
      const int32_t index = static_cast<int32_t>(i);
      if (s->chat) s->ex->Send(SseEvent(DumpJson(ChatRoleChunk(s->meta, index, s->usage_chunk))));
      if (!s->echo.empty()) {
        ChoiceDelta d{index, s->echo[i / static_cast<size_t>(s->n)], {}, {}};
        s->ex->Send(
            SseEvent(DumpJson(TextDeltaChunk(s->meta, d, s->with_logprobs, s->usage_chunk))));
      }
    }
  };
  cb.on_delta = [s](const ChoiceDelta& d) {
    if (!s->chat) {
      s->ex->Send(SseEvent(DumpJson(TextDeltaChunk(s->meta, d, s->with_logprobs, s->usage_chunk))));
      return;
    }
    for (const Json& chunk : ChatDeltaChunks(s->meta, d, s->with_logprobs, s->usage_chunk)) {
      s->ex->Send(SseEvent(DumpJson(chunk)));
    }
  };
  cb.on_complete = [s](std::vector<ChoiceOutput>, Usage usage) {
    if (s->usage_chunk) {
      const char* object = s->chat ? "chat.completion.chunk" : "text_completion";
      s->ex->Send(SseEvent(DumpJson(UsageChunk(s->meta, object, usage))));
    }
    s->ex->Send(SseDone());
    s->ex->SetEnergy(usage.energy_joules);
    s->ex->SetTokens(usage.prompt_tokens, usage.completion_tokens);
    s->ex->EndStream();
  };
  return cb;
}

// One JSON response once every choice is done.
CallCallbacks WholeCallbacks(ResponseShape shape) {
  auto s = std::make_shared<const ResponseShape>(std::move(shape));
  CallCallbacks cb;
  cb.on_complete = [s](std::vector<ChoiceOutput> choices, Usage usage) {
    if (!s->echo.empty()) {
      for (ChoiceOutput& c : choices)
        c.text = s->echo[static_cast<size_t>(c.index / s->n)] + c.text;
    }
    s->ex->SetEnergy(usage.energy_joules);
    s->ex->SetTokens(usage.prompt_tokens, usage.completion_tokens);
    SendJsonTo(s->ex, s->chat ? ChatCompletionObject(s->meta, choices, s->with_logprobs, usage)
                              : TextCompletionObject(s->meta, choices, s->with_logprobs, usage));
  };
  return cb;
}

}  // namespace

void ApiService::ChatCompletions(const HttpRequest& req, const ExchangePtr& ex) {
  Json body;
  if (std::optional<ApiError> e = ParseJsonBody(req.body, body)) return SendErrorTo(ex, *e);
  ChatRequest chat;
  if (std::optional<ApiError> e = ParseChatRequest(body, model_->config().n_vocab, chat)) {
    return SendErrorTo(ex, *e);
  }
  if (std::optional<ApiError> e = CheckModel(chat.gen.model)) return SendErrorTo(ex, *e);
  CallPlan plan;
  // tool_choice "none": the model is not told about the tools at all.
  const bool use_tools = !chat.tools.is_null() && chat.tool_choice != "none";
  const bool forced = use_tools && chat.tool_choice != "auto" && !chat.tool_choice.empty();
  const ToolSyntax& syntax = prompter_.tool_syntax();
  if (forced) {
    if (std::optional<ApiError> e = PlanForcedToolCall(chat, plan)) return SendErrorTo(ex, *e);
  }
  const bool parse_calls = use_tools && syntax.dialect != ToolDialect::kNone;
  // Parsed with special tokens, a forced call's marker becomes the
  // vocabulary's control token when it has one, and plain text otherwise.
  Result<std::vector<int32_t>> prompt =
      prompter_.Encode(chat.messages, use_tools ? chat.tools : Json(), chat.continue_final,
                       parse_calls && forced ? std::string_view(syntax.marker) : "");
  if (!prompt.ok()) {
    return SendErrorTo(
        ex, BadRequest("the chat template cannot render these messages: " + prompt.error().message,
                       "messages"));
  }
  if (parse_calls) {
    plan.tools =
        ToolCallParser::Options{syntax.dialect, syntax.marker, forced,
                                uint64_t{std::random_device{}()} << 32 | std::random_device{}()};
  }
  plan.params = &chat.gen;
  plan.chat = true;
  plan.prompts.push_back(std::move(prompt).value());
  RunCall(std::move(plan), ex);
}

// tool_choice "any", "required" or a function: the output is constrained to
// calls in the model's format.
std::optional<ApiError> ApiService::PlanForcedToolCall(const ChatRequest& chat,
                                                       CallPlan& plan) const {
  const ToolSyntax& syntax = prompter_.tool_syntax();
  if (syntax.dialect == ToolDialect::kNone) {
    return BadRequest("'tool_choice' \"" + chat.tool_choice +
                          "\" needs a model that can call tools, and this one cannot: its "
                          "vocabulary has no [TOOL_CALLS] token and its chat template (" +
                          prompter_.description() +
                          ") has no tool-call format; start the server with a --chat-template "
                          "that has one",
                      "tool_choice");
  }
  if (chat.gen.format != ResponseFormat::kText) {
    return BadRequest(
        "'response_format' cannot be combined with a forced tool call ('tool_choice' \"" +
            chat.tool_choice + "\")",
        "response_format");
  }
  const Json schema = ForcedToolCallSchema(syntax.dialect, chat.tools, chat.tool_choice_name,
                                           chat.parallel_tool_calls);
  // Models write calls compactly ({"name": "f", "arguments": {"a": 1}});
  // short whitespace runs keep a weak model from drifting into blank space.
  constraint::GrammarOptions options;
  options.max_whitespace_run = 2;
  return formats_.SchemaFactory(schema, "tools", options, plan.tool_processor);
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
  spec.pricing = options_.pricing;
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
  if (plan.tool_processor) {
    spec.make_processor = std::move(plan.tool_processor);
  } else if (std::optional<ApiError> e = formats_.Factory(g, spec.make_processor)) {
    return SendErrorTo(ex, *e);
  }
  spec.tools = std::move(plan.tools);
  spec.tool_marker_token = prompter_.tool_syntax().marker_token;
  if (plan.min_tokens > 0) {
    spec.make_processor =
        MinTokensFactory(model_->tokenizer(), plan.min_tokens, std::move(spec.make_processor));
  }
  if (options_.request_timeout.count() > 0) spec.deadline = arrival + options_.request_timeout;
  // The most this call may use: its prompts and every choice's longest completion.
  int64_t budget = 0;
  for (const auto& p : plan.prompts) {
    const int64_t longest = std::min<int64_t>(spec.max_tokens, n_ctx - std::ssize(p));
    budget += std::ssize(p) + static_cast<int64_t>(g.n) * longest;
  }
  if (std::optional<ApiError> e = ex->ReserveTokens(budget)) return SendErrorTo(ex, *e);
  spec.prompts = std::move(plan.prompts);

  ResponseShape shape{ex,
                      NewMeta(plan.chat ? "chatcmpl-" : "cmpl-"),
                      plan.chat,
                      g.logprobs >= 0,
                      g.include_usage,
                      g.n,
                      spec.prompts.size() * static_cast<size_t>(g.n),
                      std::move(plan.echo)};
  CallCallbacks cb =
      g.stream ? StreamCallbacks(std::move(shape)) : WholeCallbacks(std::move(shape));
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
