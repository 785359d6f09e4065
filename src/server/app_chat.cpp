// The web app's chat: a question is committed, then answered over SSE while
// the growing answer is written to the store in batches (each write is an
// fsync'd commit: once per 16 pieces or 250 ms, not per token), so a crash or
// a closed tab leaves the answer's prefix, marked incomplete.
#include <random>

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include "server/app_json.h"
#include "server/app_requests.h"
#include "server/app_service.h"
#include "server/generation.h"
#include "server/json_util.h"
#include "server/schema_fields.h"
#include "server/sse.h"
#include "server/static_files.h"
#include "store/validate.h"

namespace autan::server {
namespace {

using Json = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;
constexpr int kPiecesPerWrite = 16;
constexpr auto kWriteInterval = std::chrono::milliseconds(250);

int64_t Ms(Clock::duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

// One answer being generated: streams each piece at once and hands the text
// to the store in batches on its own strand, so writes keep their order.
class AnswerStream : public std::enable_shared_from_this<AnswerStream> {
 public:
  using Strand = boost::asio::strand<boost::asio::thread_pool::executor_type>;
  AnswerStream(store::Store& store, Strand strand, std::shared_ptr<Exchange> ex,
               std::string user_id, std::string message_id)
      : store_(store),
        strand_(std::move(strand)),
        ex_(std::move(ex)),
        user_id_(std::move(user_id)),
        message_id_(std::move(message_id)),
        started_(Clock::now()),
        last_write_(started_) {}

  // Engine thread.
  void OnPiece(const std::string& piece) {
    if (piece.empty()) return;
    // A token may end inside a UTF-8 character; the store only takes valid
    // text, and must hold what the client was sent.
    const std::string text = store::IsValidUtf8(piece) ? piece : AsSentInJson(piece);
    ex_->Send(SseEvent(DumpJson({{"type", "delta"}, {"text", text}})));
    std::lock_guard lock(mu_);
    if (!first_piece_) first_piece_ = Clock::now();
    pending_ += text;
    ++pending_pieces_;
    const bool due =
        pending_pieces_ >= kPiecesPerWrite || Clock::now() - last_write_ >= kWriteInterval;
    if (due && !write_queued_) {
      write_queued_ = true;
      boost::asio::post(strand_, [self = shared_from_this()] { self->Write(); });
    }
  }

  // Engine thread, once.
  void OnComplete(const Usage& usage) {
    const Clock::time_point ended = Clock::now();
    boost::asio::post(strand_,
                      [self = shared_from_this(), usage, ended] { self->Finish(usage, ended); });
  }

  // The client went away (I/O thread).
  void OnDisconnect() { cancelled_ = true; }

  // Generation never started: the message ends empty and incomplete.
  void Abandon() {
    Result<bool> done =
        store_.FinishMessage(user_id_, message_id_, store::MessageStatus::kIncomplete, {});
    if (!done.ok()) std::fprintf(stderr, "autan: store: %s\n", done.error().message.c_str());
  }

 private:
  void Write() {
    std::string text;
    {
      std::lock_guard lock(mu_);
      text.swap(pending_);
      pending_pieces_ = 0;
      write_queued_ = false;
      last_write_ = Clock::now();
    }
    if (text.empty()) return;
    Result<bool> ok = store_.AppendMessageContent(user_id_, message_id_, text);
    if (!ok.ok()) std::fprintf(stderr, "autan: store: %s\n", ok.error().message.c_str());
  }

  void Finish(const Usage& usage, Clock::time_point ended) {
    const int64_t prompt_tokens = usage.prompt_tokens, completion_tokens = usage.completion_tokens;
    Write();
    store::MessageStats stats;
    stats.tokens = completion_tokens;
    stats.energy_joules = usage.energy_joules;
    stats.duration_ms = Ms(ended - started_);
    {
      std::lock_guard lock(mu_);
      if (first_piece_) stats.time_to_first_token_ms = Ms(*first_piece_ - started_);
    }
    const store::MessageStatus status =
        cancelled_ ? store::MessageStatus::kIncomplete : store::MessageStatus::kComplete;
    Result<bool> done = store_.FinishMessage(user_id_, message_id_, status, stats);
    Status added =
        store_.AddUsage(user_id_, {prompt_tokens, completion_tokens, usage.energy_joules});
    if (!added.ok()) std::fprintf(stderr, "autan: usage: %s\n", added.error().message.c_str());
    Result<std::optional<store::Message>> message = store_.GetMessage(user_id_, message_id_);
    if (!done.ok() || !message.ok() || !message->has_value()) {
      ex_->Send(SseEvent(DumpJson(
          {{"type", "error"}, {"error", {{"message", "the answer could not be saved"}}}})));
    } else {
      ex_->Send(SseEvent(DumpJson({{"type", "done"}, {"message", MessageJson(**message)}})));
    }
    ex_->SetTokens(prompt_tokens, completion_tokens);
    ex_->EndStream();
  }

  store::Store& store_;
  Strand strand_;
  std::shared_ptr<Exchange> ex_;
  const std::string user_id_, message_id_;
  const Clock::time_point started_;
  std::atomic<bool> cancelled_{false};

  std::mutex mu_;
  std::string pending_;
  int pending_pieces_ = 0;
  bool write_queued_ = false;
  Clock::time_point last_write_;
  std::optional<Clock::time_point> first_piece_;
};

}  // namespace

void AppService::PostMessage(Call& c) {
  if (OverQuota(c)) return;
  Json body;
  if (!Body(c, body)) return;
  FieldReader f(body);
  std::string content;
  if (!f.Find("content")) f.Fail("'content' is required", "content");
  f.String("content", content);
  if (f.error) return Error(c, *f.error);
  if (content.empty()) return Error(c, BadRequest("'content' is empty", "content"));
  Result<std::optional<store::Conversation>> conv =
      store_.GetConversation(c.user_id(), c.params[0]);
  if (!conv.ok()) return StoreFailed(c, conv.error());
  if (!conv->has_value()) return Error(c, NotFound("no such conversation", "not_found"));
  // Committed (fsync'd) before any token is generated.
  Result<std::optional<store::Message>> question =
      store_.AppendMessage(c.user_id(), c.params[0], {store::MessageRole::kUser, content});
  if (!question.ok()) return Rejected(c, question.error(), "content");
  if (!question->has_value()) return Error(c, NotFound("no such conversation", "not_found"));
  Answer(c, **conv, **question, body);
}

void AppService::Regenerate(Call& c) {
  if (OverQuota(c)) return;
  Json body;
  if (!Body(c, body)) return;
  Result<std::optional<store::Conversation>> conv =
      store_.GetConversation(c.user_id(), c.params[0]);
  if (!conv.ok()) return StoreFailed(c, conv.error());
  if (!conv->has_value()) return Error(c, NotFound("no such conversation", "not_found"));
  Result<std::optional<std::vector<store::Message>>> messages =
      store_.ListMessages(c.user_id(), c.params[0]);
  if (!messages.ok()) return StoreFailed(c, messages.error());
  if (!messages->has_value()) return Error(c, NotFound("no such conversation", "not_found"));
  const std::vector<store::Message>& list = **messages;
  // The last answer goes (a question left unanswered is simply answered).
  size_t keep = list.size();
  while (keep > 0 && list[keep - 1].role == store::MessageRole::kAssistant) --keep;
  if (keep == 0 || list[keep - 1].role != store::MessageRole::kUser) {
    return Error(c, BadRequest("the conversation has no question to answer again"));
  }
  if (keep < list.size()) {
    if (list.back().status == store::MessageStatus::kStreaming) {
      return Error(c, ApiError{409, "the answer is still being generated", "invalid_request_error",
                               "", "conflict"});
    }
    Result<std::optional<int64_t>> gone =
        store_.DeleteMessagesAfter(c.user_id(), c.params[0], list[keep - 1].seq);
    if (!gone.ok()) return StoreFailed(c, gone.error());
  }
  Answer(c, **conv, std::nullopt, body);
}

void AppService::EditMessage(Call& c) {
  if (OverQuota(c)) return;
  Json body;
  if (!Body(c, body)) return;
  FieldReader f(body);
  std::string content;
  if (!f.Find("content")) f.Fail("'content' is required", "content");
  f.String("content", content);
  if (f.error) return Error(c, *f.error);
  if (content.empty()) return Error(c, BadRequest("'content' is empty", "content"));
  Result<std::optional<store::Conversation>> conv =
      store_.GetConversation(c.user_id(), c.params[0]);
  if (!conv.ok()) return StoreFailed(c, conv.error());
  if (!conv->has_value()) return Error(c, NotFound("no such conversation", "not_found"));
  Result<std::optional<store::Message>> message = store_.GetMessage(c.user_id(), c.params[1]);
  if (!message.ok()) return StoreFailed(c, message.error());
  if (!message->has_value() || (*message)->conversation_id != c.params[0]) {
    return Error(c, NotFound("no such message", "not_found"));
  }
  if ((*message)->role != store::MessageRole::kUser) {
    return Error(c, BadRequest("only the user's own messages can be edited", "message_id"));
  }
  Result<bool> set = store_.SetMessageContent(c.user_id(), c.params[1], content);
  if (!set.ok()) return Rejected(c, set.error(), "content");
  Result<std::optional<int64_t>> gone =
      store_.DeleteMessagesAfter(c.user_id(), c.params[0], (*message)->seq);
  if (!gone.ok()) return StoreFailed(c, gone.error());
  Result<std::optional<store::Message>> edited = store_.GetMessage(c.user_id(), c.params[1]);
  if (!edited.ok() || !edited->has_value()) {
    return Error(c, NotFound("no such message", "not_found"));
  }
  Answer(c, **conv, **edited, body);
}

void AppService::Answer(Call& c, const store::Conversation& conv,
                        std::optional<store::Message> question, const Json& body) {
  ChatParams params;
  Json system;
  if (conv.assistant_id) {
    Result<std::optional<store::Assistant>> a =
        store_.GetAssistant(c.user_id(), *conv.assistant_id);
    if (!a.ok()) return StoreFailed(c, a.error());
    if (a->has_value()) {
      if (!(*a)->instructions.empty()) {
        system = {{"role", "system"}, {"content", (*a)->instructions}};
      }
      // Stored parameters were checked when saved; a bad one is ignored.
      (void)ReadChatParams(Json::parse((*a)->parameters, nullptr, false), "assistant", params);
    }
  }
  if (std::optional<ApiError> e =
          ReadChatParams(body.value("parameters", Json()), "parameters", params)) {
    return Error(c, *e);
  }
  Result<std::optional<std::vector<store::Message>>> history =
      store_.ListMessages(c.user_id(), conv.id);
  if (!history.ok()) return StoreFailed(c, history.error());
  if (!history->has_value()) return Error(c, NotFound("no such conversation", "not_found"));

  // The newest messages that fit the context, leaving room to answer.
  const int32_t n_ctx = scheduler_.options().n_ctx;
  const int32_t reserve = std::min(params.max_tokens.value_or(256), n_ctx / 2);
  std::vector<int32_t> prompt;
  for (size_t first = 0; first < (*history)->size(); ++first) {
    Json messages = Json::array();
    if (!system.is_null()) messages.push_back(system);
    for (size_t i = first; i < (*history)->size(); ++i) {
      const store::Message& m = (**history)[i];
      if (m.role == store::MessageRole::kTool) continue;
      messages.push_back({{"role", store::MessageRoleName(m.role)}, {"content", m.content}});
    }
    // Templates expect the conversation to start with the user.
    while (messages.size() > 1 && messages[system.is_null() ? 0 : 1]["role"] == "assistant") {
      messages.erase(system.is_null() ? 0 : 1);
    }
    Result<std::vector<int32_t>> ids = prompter_.Encode(messages, Json(), false);
    if (!ids.ok()) {
      return Error(c, BadRequest("the chat template cannot render this conversation: " +
                                 ids.error().message));
    }
    prompt = std::move(ids).value();
    if (static_cast<int32_t>(prompt.size()) + reserve <= n_ctx) break;
    prompt.clear();
  }
  if (prompt.empty()) {
    return Error(c, BadRequest("the question is too long for this server's context of " +
                                   std::to_string(n_ctx) + " tokens",
                               "content"));
  }

  Result<std::optional<store::Message>> answer = store_.AppendMessage(
      c.user_id(), conv.id, {store::MessageRole::kAssistant, "", store::MessageStatus::kStreaming});
  if (!answer.ok()) return StoreFailed(c, answer.error());
  if (!answer->has_value()) return Error(c, NotFound("no such conversation", "not_found"));

  auto stream = std::make_shared<AnswerStream>(
      store_, boost::asio::make_strand(pool_.get_executor()), c.ex, c.user_id(), (*answer)->id);
  CallSpec spec;
  spec.prompts.push_back(std::move(prompt));
  spec.sampling.temperature = params.temperature.value_or(0.7f);
  if (params.top_p) spec.sampling.top_p = *params.top_p;
  spec.sampling.seed = uint64_t{std::random_device{}()} << 32 | std::random_device{}();
  const int32_t room = n_ctx - static_cast<int32_t>(spec.prompts[0].size());
  spec.max_tokens = std::min(params.max_tokens.value_or(room), room);
  spec.pricing = options_.pricing;

  CallCallbacks cb;
  const Json opening_user =
      question ? Json{{"type", "user"}, {"message", MessageJson(*question)}} : Json();
  const Json opening_answer = {{"type", "assistant"}, {"message", MessageJson(**answer)}};
  cb.on_open = [ex = c.ex, opening_user, opening_answer] {
    HttpResponse head;
    head.content_type = "text/event-stream";
    head.headers.emplace_back("Cache-Control", "no-cache");
    head.headers.emplace_back("X-Accel-Buffering", "no");  // proxies must not hold events back
    ex->StartStream(std::move(head));
    if (!opening_user.is_null()) ex->Send(SseEvent(DumpJson(opening_user)));
    ex->Send(SseEvent(DumpJson(opening_answer)));
  };
  cb.on_delta = [stream](const ChoiceDelta& d) { stream->OnPiece(d.text); };
  cb.on_complete = [stream](std::vector<ChoiceOutput>, Usage usage) { stream->OnComplete(usage); };
  auto call = std::make_shared<GenerationCall>(scheduler_, model_->tokenizer(), metrics_,
                                               std::move(cb), true, GenerationCall::Clock::now());
  std::weak_ptr<GenerationCall> weak = call;
  c.ex->OnDisconnect([weak, stream] {
    stream->OnDisconnect();
    if (auto g = weak.lock()) g->Cancel();
  });
  if (std::optional<ApiError> e = GenerationCall::Start(call, std::move(spec))) {
    stream->Abandon();
    return Error(c, *e);
  }
}

}  // namespace autan::server
