#include "server/generation.h"

namespace autan::server {
namespace {

std::string FinishName(FinishReason r, bool stop_matched) {
  if (stop_matched) return "stop";
  switch (r) {
    case FinishReason::kLength:
    case FinishReason::kContextFull:
    case FinishReason::kTimedOut:
      return "length";
    case FinishReason::kEndOfGeneration:
    case FinishReason::kStopped:
      return "stop";
  }
  return "stop";
}

}  // namespace

GenerationCall::GenerationCall(Scheduler& scheduler, const Tokenizer& tokenizer, Metrics& metrics,
                               CallCallbacks callbacks, bool streaming, Clock::time_point arrival)
    : scheduler_(scheduler),
      tokenizer_(tokenizer),
      metrics_(metrics),
      callbacks_(std::move(callbacks)),
      streaming_(streaming),
      arrival_(arrival) {}

std::optional<ApiError> GenerationCall::Start(const std::shared_ptr<GenerationCall>& call,
                                              CallSpec spec) {
  GenerationCall& self = *call;
  self.logprobs_ = spec.logprobs;
  self.deadline_ = spec.deadline;
  const size_t total = spec.prompts.size() * static_cast<size_t>(spec.n);
  for (size_t i = 0; i < total; ++i) {
    self.choices_.push_back(std::make_unique<Choice>(spec.stop));
    self.choices_.back()->index = static_cast<int32_t>(i);
    if (spec.tools) {
      ToolCallParser::Options options = *spec.tools;
      options.id_seed += static_cast<uint64_t>(i) << 32;
      self.choices_.back()->tools.emplace(std::move(options));
    }
  }
  if (spec.tools) {
    self.tool_marker_token_ = spec.tool_marker_token;
    self.tool_marker_ = spec.tools->marker;
  }
  for (const auto& p : spec.prompts) self.prompt_tokens_ += static_cast<int64_t>(p.size());
  for (size_t i = 0; i < total; ++i) {
    Choice& c = *self.choices_[i];
    GenerationRequest r;
    r.prompt = spec.prompts[i / static_cast<size_t>(spec.n)];
    c.prompt_tokens = static_cast<int32_t>(r.prompt.size());
    r.sampling = spec.sampling;
    r.sampling.seed = spec.sampling.seed + i;
    r.max_tokens = spec.max_tokens;
    r.logprobs = spec.logprobs;
    r.deadline = spec.deadline;
    if (spec.make_processor) r.processor = spec.make_processor();
    r.on_token = [call, &c](const TokenEvent& ev) { return call->OnToken(c, ev); };
    r.on_done = [call, &c](const CompletionSummary& s) { call->OnDone(c, s); };
    Scheduler::Submitted sub = self.scheduler_.Submit(std::move(r));
    std::lock_guard lock(self.mu_);
    if (!sub.ok()) {
      self.aborted_ = true;
      for (uint64_t id : self.ids_) self.scheduler_.Cancel(id);
      switch (sub.refusal) {
        case Scheduler::Refusal::kQueueFull:
          return TooManyRequests("the server is busy: " + sub.message + "; retry shortly");
        case Scheduler::Refusal::kShuttingDown:
          return Unavailable(sub.message);
        default:
          return BadRequest(sub.message, "messages");
      }
    }
    self.ids_.push_back(sub.id);
    if (self.cancelled_) self.scheduler_.Cancel(sub.id);
  }
  std::lock_guard lock(self.mu_);
  self.open_ = true;
  if (self.callbacks_.on_open) self.callbacks_.on_open();
  if (self.callbacks_.on_delta) {
    for (const ChoiceDelta& d : self.held_) self.callbacks_.on_delta(d);
  }
  self.held_.clear();
  // Everything may have finished before the last submission returned.
  if (self.done_ == self.choices_.size()) self.Complete();
  return std::nullopt;
}

void GenerationCall::Cancel() {
  std::lock_guard lock(mu_);
  cancelled_ = true;
  for (uint64_t id : ids_) scheduler_.Cancel(id);
}

bool GenerationCall::OnToken(Choice& c, const TokenEvent& ev) {
  const Clock::time_point now = Clock::now();
  if (!c.any_token) {
    metrics_.ObserveTimeToFirstToken(std::chrono::duration<double>(now - arrival_).count());
  } else {
    metrics_.ObserveInterToken(std::chrono::duration<double>(now - c.last_token).count());
  }
  c.any_token = true;
  c.last_token = now;
  if (logprobs_ >= 0) {
    TokenLogprob lp{tokenizer_.TokenPiece(ev.token), ev.logprob, {}};
    for (const auto& [id, p] : ev.top_logprobs) lp.top.emplace_back(tokenizer_.TokenPiece(id), p);
    c.pending_logprobs.push_back(std::move(lp));
  }
  const bool marker = c.tools && ev.token == tool_marker_token_;
  StopMatcher::Output out = c.stop.Push(marker ? tool_marker_ : ev.text);
  if (!out.text.empty()) Emit(c, std::move(out.text), {});
  if (!out.stopped && now >= deadline_) {
    c.timed_out = true;  // the scheduler frees its slot and KV cache at once
    return false;
  }
  return !out.stopped;
}

void GenerationCall::OnDone(Choice& c, const CompletionSummary& s) {
  std::string rest;
  if (!c.stop.stopped()) {
    StopMatcher::Output out = c.stop.Push(s.text_tail);
    rest = std::move(out.text);
    rest += c.stop.Flush();
  }
  c.completion_tokens = s.completion_tokens;
  c.finish = c.timed_out ? "length" : FinishName(s.finish, c.stop.stopped());
  metrics_.AddTokens(0, s.completion_tokens);
  Emit(c, std::move(rest), c.finish);
  std::lock_guard lock(mu_);
  if (++done_ == choices_.size() && open_ && !aborted_) Complete();
}

void GenerationCall::Complete() {
  std::vector<ChoiceOutput> out;
  Usage usage{prompt_tokens_, 0};
  for (auto& ch : choices_) {
    usage.completion_tokens += ch->completion_tokens;
    out.push_back({ch->index, std::move(ch->text), std::move(ch->logprobs), ch->finish,
                   ch->tools ? ch->tools->calls() : std::vector<ToolCall>{}});
  }
  metrics_.AddTokens(prompt_tokens_, 0);
  if (callbacks_.on_complete) callbacks_.on_complete(std::move(out), usage);
}

void GenerationCall::Emit(Choice& c, std::string text, std::string finish) {
  std::vector<ToolCallDelta> calls;
  if (c.tools) {
    ToolCallParser::Output parsed = c.tools->Push(text);
    if (!finish.empty()) {
      parsed.content += c.tools->Finish().content;
      if (!c.tools->calls().empty() && c.finish == "stop") c.finish = finish = "tool_calls";
    }
    text = std::move(parsed.content);
    calls = std::move(parsed.calls);
    // Text held back (a call not yet decided) has nothing to send yet.
    if (text.empty() && calls.empty() && finish.empty() && c.pending_logprobs.empty()) return;
  }
  if (!streaming_) {
    c.text += text;
    for (TokenLogprob& lp : c.pending_logprobs) c.logprobs.push_back(std::move(lp));
    c.pending_logprobs.clear();
    return;
  }
  ChoiceDelta d{c.index, std::move(text), std::move(c.pending_logprobs), std::move(finish),
                std::move(calls)};
  c.pending_logprobs.clear();
  std::lock_guard lock(mu_);
  if (aborted_) return;
  if (!open_) {
    held_.push_back(std::move(d));
  } else if (callbacks_.on_delta) {
    callbacks_.on_delta(d);
  }
}

}  // namespace autan::server
