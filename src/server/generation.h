// One API call's generation: its choices (prompts times n) submitted to the
// scheduler, their tokens turned into text with stop sequences applied, and
// the results handed back as stream deltas and, at the end, whole choices.
// The callbacks run on the engine thread and must not block.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "runtime/scheduler.h"
#include "server/api_error.h"
#include "server/api_types.h"
#include "server/metrics.h"
#include "server/stop_matcher.h"
#include "server/tool_calls.h"

namespace autan::server {

struct CallSpec {
  std::vector<std::vector<int32_t>> prompts;  // choice i uses prompts[i / n]
  int32_t n = 1;
  SamplingParams sampling;  // choice i draws with seed + i
  int32_t max_tokens = 256;
  std::vector<std::string> stop;
  int32_t logprobs = -1;
  // Makes each choice's logits processor (constrained decoding); may be empty.
  std::function<std::unique_ptr<LogitsProcessor>()> make_processor;
  // Tool calls to look for in each choice's output (choice i's ids drawn
  // from id_seed + i << 32); none when empty.
  std::optional<ToolCallParser::Options> tools;
  // The control token that opens calls: it decodes to no text, so it stands
  // for tools->marker.
  int32_t tool_marker_token = -1;
  // Choices still generating then are ended with finish_reason "length"
  // (clients take it as a cut-off answer, and none retries it).
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  EnergyPricing pricing;  // the usage's carbon and cost
};

struct CallCallbacks {
  // Once every choice is submitted, before any delta (the stream's head).
  std::function<void()> on_open;
  // Text as it settles, per choice; the last delta of a choice carries its
  // finish_reason. Not called when `streaming` is off.
  std::function<void(const ChoiceDelta&)> on_delta;
  // Once every choice is done, in index order.
  std::function<void(std::vector<ChoiceOutput>, Usage)> on_complete;
};

class GenerationCall {
 public:
  using Clock = std::chrono::steady_clock;
  GenerationCall(Scheduler& scheduler, const Tokenizer& tokenizer, Metrics& metrics,
                 CallCallbacks callbacks, bool streaming, Clock::time_point arrival);

  // Submits every choice. A refusal cancels what was already submitted and is
  // returned (429, 400 or 503); no callback runs after that.
  static std::optional<ApiError> Start(const std::shared_ptr<GenerationCall>& call, CallSpec spec);
  // Ends every choice at the next engine step (the client went away).
  void Cancel();

 private:
  struct Choice {
    explicit Choice(std::vector<std::string> stops) : stop(std::move(stops)) {}
    int32_t index = 0;
    StopMatcher stop;
    std::string text;  // kept for the final response
    std::vector<TokenLogprob> logprobs, pending_logprobs;
    int32_t completion_tokens = 0;
    int32_t prompt_tokens = 0;
    std::string finish;
    Clock::time_point last_token;
    bool any_token = false;
    std::optional<ToolCallParser> tools;
    bool timed_out = false;
    double energy_joules = 0.0;
    bool measured = false;  // its energy came from RAPL
  };

  bool OnToken(Choice& c, const TokenEvent& ev);
  void OnDone(Choice& c, const CompletionSummary& summary);
  void Emit(Choice& c, std::string text, std::string finish);  // engine thread
  void Complete();  // with mu_ held, once every choice is done

  Scheduler& scheduler_;
  const Tokenizer& tokenizer_;
  Metrics& metrics_;
  CallCallbacks callbacks_;
  const bool streaming_;
  const Clock::time_point arrival_;
  Clock::time_point deadline_ = Clock::time_point::max();
  int32_t logprobs_ = -1;
  int32_t tool_marker_token_ = -1;
  std::string tool_marker_;
  std::vector<std::unique_ptr<Choice>> choices_;

  std::mutex mu_;
  std::vector<uint64_t> ids_;  // submitted so far
  bool open_ = false;          // every choice submitted: deltas flow
  bool aborted_ = false;       // a submission was refused: stay silent
  bool cancelled_ = false;
  std::vector<ChoiceDelta> held_;  // deltas that came before the call opened
  size_t done_ = 0;
  int64_t prompt_tokens_ = 0;
  EnergyPricing pricing_;
};

}  // namespace autan::server
