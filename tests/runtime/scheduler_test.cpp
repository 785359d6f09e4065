#include "runtime/scheduler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <future>
#include <thread>

#include "runtime/session.h"
#include "test_models.h"

namespace autan {
namespace {

using testing::LoadSynthModel;

struct Outcome {
  std::vector<int32_t> tokens;
  std::vector<float> logprobs;
  CompletionSummary summary;
};

// Submits a request whose callbacks fill an Outcome; the future resolves when done.
std::future<Outcome> Start(Scheduler& s, GenerationRequest r, uint64_t* id = nullptr,
                           Scheduler::Refusal* refusal = nullptr) {
  auto outcome = std::make_shared<Outcome>();
  auto done = std::make_shared<std::promise<Outcome>>();
  std::future<Outcome> f = done->get_future();
  r.on_token = [outcome](const TokenEvent& ev) {
    outcome->tokens.push_back(ev.token);
    outcome->logprobs.push_back(ev.logprob);
    return true;
  };
  r.on_done = [outcome, done](const CompletionSummary& summary) {
    outcome->summary = summary;
    done->set_value(*outcome);
  };
  Scheduler::Submitted sub = s.Submit(std::move(r));
  if (id) *id = sub.id;
  if (refusal) *refusal = sub.refusal;
  EXPECT_TRUE(sub.ok() || refusal) << sub.message;
  return f;
}

GenerationRequest Greedy(std::vector<int32_t> prompt, int32_t max_tokens) {
  GenerationRequest r;
  r.prompt = std::move(prompt);
  r.sampling.temperature = 0.0f;
  r.max_tokens = max_tokens;
  r.stop_at_end_of_generation = false;
  return r;
}

const std::vector<std::vector<int32_t>> kPrompts = {
    {1, 450, 4996, 17354, 1701, 29916},
    {1, 3681, 338, 278, 7483, 310, 3444, 29892},
    {1, 822, 18755, 29898, 29876, 1125, 13, 1678, 736},
    {1, 15043},
    {1, 450, 4996, 17354, 1701, 29916, 432, 17204, 975, 278, 17366, 11203, 29889, 1720, 6303},
    {1, 29871, 29900, 29889, 951, 13563, 316},
};

SchedulerOptions Options(int parallel, int batch = 64) {
  return {.n_parallel = parallel,
          .n_ctx = 128,
          .max_batch_tokens = batch,
          .max_queue = 16,
          .threads = 2};
}

// Batch invariance: a request gives the same tokens alone or among others,
// whatever the chunking of prompts and the mix of decode and prefill.
TEST(Scheduler, ConcurrentGreedyStreamsEqualSoloRuns) {
  auto model = LoadSynthModel({.shape = "tiny", .type = "q8_0", .seed = 3});
  std::vector<std::vector<int32_t>> solo;
  {
    auto s = Scheduler::Create(model, Options(1));
    ASSERT_TRUE(s.ok());
    for (const auto& p : kPrompts) solo.push_back(Start(**s, Greedy(p, 12)).get().tokens);
  }
  for (int batch : {64, 5}) {
    auto s = Scheduler::Create(model, Options(4, batch));
    ASSERT_TRUE(s.ok());
    std::vector<std::future<Outcome>> running;
    for (const auto& p : kPrompts) running.push_back(Start(**s, Greedy(p, 12)));
    for (size_t i = 0; i < running.size(); ++i) {
      Outcome o = running[i].get();
      EXPECT_EQ(o.tokens, solo[i]) << "prompt " << i << " batch " << batch;
      EXPECT_EQ(o.summary.finish, FinishReason::kLength);
      EXPECT_EQ(o.summary.completion_tokens, 12);
      EXPECT_EQ(o.summary.prompt_tokens, static_cast<int32_t>(kPrompts[i].size()));
    }
    (*s)->Drain();
    EXPECT_GT((*s)->Stats().steps, 0);
    EXPECT_EQ((*s)->Stats().active, 0);
  }
}

// The scheduler's greedy tokens and log-probabilities are those of a plain session.
TEST(Scheduler, MatchesASessionAndReportsLogprobs) {
  auto model = LoadSynthModel({.shape = "tiny", .type = "q8_0", .seed = 3});
  auto s = Scheduler::Create(model, Options(2));
  ASSERT_TRUE(s.ok());
  GenerationRequest r = Greedy(kPrompts[0], 5);
  r.logprobs = 3;
  Outcome o = Start(**s, std::move(r)).get();
  ASSERT_EQ(o.tokens.size(), 5u);

  ThreadPool pool(1);
  auto session = Session::Create(model, pool, {.n_ctx = 128});
  ASSERT_TRUE(session.ok());
  std::vector<int32_t> tokens = kPrompts[0];
  Result<std::span<const float>> logits = (*session)->Eval(tokens);
  for (size_t i = 0; i < o.tokens.size(); ++i) {
    ASSERT_TRUE(logits.ok());
    const auto best = std::max_element(logits->begin(), logits->end());
    EXPECT_EQ(o.tokens[i], best - logits->begin());
    double z = 0;
    for (float v : *logits) z += std::exp(static_cast<double>(v) - *best);
    EXPECT_NEAR(o.logprobs[i], -std::log(z), 1e-4);
    const int32_t next[] = {o.tokens[i]};
    logits = (*session)->Eval(next);
  }
}

TEST(Scheduler, CancellationEndsARequestAndFreesItsSlot) {
  auto model = LoadSynthModel({.shape = "tiny", .type = "q8_0", .seed = 3});
  auto s = Scheduler::Create(model, Options(1));
  ASSERT_TRUE(s.ok());
  uint64_t id = 0;
  std::future<Outcome> long_one = Start(**s, Greedy(kPrompts[1], 100000), &id);
  std::future<Outcome> waiting = Start(**s, Greedy(kPrompts[2], 3));
  (*s)->Cancel(id);
  Outcome cancelled = long_one.get();
  EXPECT_EQ(cancelled.summary.finish, FinishReason::kStopped);
  EXPECT_LT(cancelled.summary.completion_tokens, 120);
  Outcome next = waiting.get();  // the slot was given to the waiting request
  EXPECT_EQ(next.tokens.size(), 3u);
}

// A deadline ends a request waiting for a slot without running it, and one
// running at the next step.
TEST(Scheduler, DeadlinesEndQueuedAndRunningRequests) {
  auto model = LoadSynthModel({.shape = "tiny", .type = "q8_0", .seed = 3});
  auto s = Scheduler::Create(model, Options(1));
  ASSERT_TRUE(s.ok());
  const auto now = std::chrono::steady_clock::now();
  // A slow client: each token takes 10 ms, so 400 ms end it well before the
  // context (128 positions) does.
  GenerationRequest running = Greedy(kPrompts[1], 100000);
  running.deadline = now + std::chrono::milliseconds(400);
  auto slow = std::make_shared<Outcome>();
  std::promise<Outcome> slow_done;
  std::future<Outcome> first = slow_done.get_future();
  running.on_token = [slow](const TokenEvent& ev) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    slow->tokens.push_back(ev.token);
    return true;
  };
  running.on_done = [slow, &slow_done](const CompletionSummary& summary) {
    slow->summary = summary;
    slow_done.set_value(*slow);
  };
  ASSERT_TRUE((*s)->Submit(std::move(running)).ok());
  GenerationRequest queued = Greedy(kPrompts[2], 3);
  queued.deadline = now + std::chrono::milliseconds(100);
  std::future<Outcome> second = Start(**s, std::move(queued));

  Outcome waited = second.get();
  EXPECT_EQ(waited.summary.finish, FinishReason::kTimedOut);
  EXPECT_TRUE(waited.tokens.empty());
  EXPECT_GE(std::chrono::steady_clock::now(), now + std::chrono::milliseconds(100));
  // The running request was not disturbed by the queued one's end.
  EXPECT_NE(first.wait_for(std::chrono::seconds(0)), std::future_status::ready);

  Outcome ran = first.get();
  EXPECT_EQ(ran.summary.finish, FinishReason::kTimedOut);
  EXPECT_GT(ran.summary.completion_tokens, 0);
  EXPECT_EQ(ran.tokens.size(), static_cast<size_t>(ran.summary.completion_tokens));
  EXPECT_GE(std::chrono::steady_clock::now(), now + std::chrono::milliseconds(400));
  // The slot is free again: a new request runs to its end.
  EXPECT_EQ(Start(**s, Greedy(kPrompts[3], 4)).get().tokens.size(), 4u);
}

TEST(Scheduler, StopsAtContextEndAndRefusesBadRequests) {
  auto model = LoadSynthModel({.shape = "tiny", .type = "q8_0", .seed = 3});
  auto s = Scheduler::Create(model, Options(2));
  ASSERT_TRUE(s.ok());
  Outcome full = Start(**s, Greedy(kPrompts[0], 1000)).get();
  EXPECT_EQ(full.summary.finish, FinishReason::kContextFull);
  // 128 positions evaluated, plus the last token sampled from the final one.
  EXPECT_EQ(full.tokens.size() + kPrompts[0].size(), 129u);

  auto refused = [&](GenerationRequest r) {
    Scheduler::Refusal why = Scheduler::Refusal::kNone;
    Start(**s, std::move(r), nullptr, &why);
    return why;
  };
  EXPECT_EQ(refused(Greedy({}, 4)), Scheduler::Refusal::kInvalid);
  EXPECT_EQ(refused(Greedy({1, 32000}, 4)), Scheduler::Refusal::kInvalid);
  EXPECT_EQ(refused(Greedy(std::vector<int32_t>(128, 5), 4)), Scheduler::Refusal::kInvalid);
  EXPECT_EQ(refused(Greedy(kPrompts[0], 0)), Scheduler::Refusal::kInvalid);
  GenerationRequest bad_temp = Greedy(kPrompts[0], 4);
  bad_temp.sampling.temperature = -1.0f;
  EXPECT_EQ(refused(std::move(bad_temp)), Scheduler::Refusal::kInvalid);
}

TEST(Scheduler, BoundedQueueRefusesWhenFull) {
  auto model = LoadSynthModel({.shape = "tiny", .type = "q8_0", .seed = 3});
  SchedulerOptions o = Options(1);
  o.max_queue = 2;
  auto s = Scheduler::Create(model, o);
  ASSERT_TRUE(s.ok());
  std::vector<uint64_t> ids(3);
  std::vector<std::future<Outcome>> accepted;
  for (int i = 0; i < 3; ++i) accepted.push_back(Start(**s, Greedy(kPrompts[0], 100000), &ids[i]));
  Scheduler::Refusal why = Scheduler::Refusal::kNone;
  Start(**s, Greedy(kPrompts[0], 4), nullptr, &why);
  EXPECT_EQ(why, Scheduler::Refusal::kQueueFull);
  for (uint64_t id : ids) (*s)->Cancel(id);
  for (auto& f : accepted) EXPECT_EQ(f.get().summary.finish, FinishReason::kStopped);
  (*s)->Drain();
  Start(**s, Greedy(kPrompts[0], 4), nullptr, &why);
  EXPECT_EQ(why, Scheduler::Refusal::kShuttingDown);
}

}  // namespace
}  // namespace autan
