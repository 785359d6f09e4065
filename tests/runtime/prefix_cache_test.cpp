// Paged KV with prefix caching: a request that reuses cached blocks gives
// bit for bit the tokens and log-probabilities it gives with the cache off
// (itself checked against a plain session and the NumPy reference), while
// the cache reports exactly how many prompt tokens it served.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <thread>

#include "core/rng.h"
#include "runtime/scheduler.h"
#include "test_models.h"

namespace autan {
namespace {

using testing::LoadSynthModel;

struct Outcome {
  std::vector<int32_t> tokens;
  std::vector<float> logprobs;
};

std::future<Outcome> Start(Scheduler& s, const std::vector<int32_t>& prompt, int32_t max_tokens) {
  GenerationRequest r;
  r.prompt = prompt;
  r.sampling.temperature = 0.0f;
  r.max_tokens = max_tokens;
  r.stop_at_end_of_generation = false;
  r.logprobs = 0;
  auto outcome = std::make_shared<Outcome>();
  auto done = std::make_shared<std::promise<Outcome>>();
  std::future<Outcome> f = done->get_future();
  r.on_token = [outcome](const TokenEvent& ev) {
    outcome->tokens.push_back(ev.token);
    outcome->logprobs.push_back(ev.logprob);
    return true;
  };
  r.on_done = [outcome, done](const CompletionSummary&) { done->set_value(*outcome); };
  Scheduler::Submitted sub = s.Submit(std::move(r));
  EXPECT_TRUE(sub.ok()) << sub.message;
  return f;
}

// Stats settle just after the last on_done.
SchedulerStats Idle(Scheduler& s) {
  for (;;) {
    SchedulerStats st = s.Stats();
    if (st.active == 0 && st.queued == 0) return st;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

std::vector<int32_t> RandomTokens(size_t n, uint64_t seed) {
  Rng rng(seed);
  std::vector<int32_t> t(n);
  for (int32_t& x : t) x = 3 + static_cast<int32_t>(rng.Next() % 31000);
  return t;
}

std::vector<int32_t> Concat(std::vector<int32_t> a, const std::vector<int32_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

SchedulerOptions Options(int parallel, int batch, int block_size, bool cache) {
  return {.n_parallel = parallel,
          .n_ctx = 160,
          .max_batch_tokens = batch,
          .max_queue = 16,
          .threads = 2,
          .kv_block_size = block_size,
          .prefix_cache = cache};
}

// Each prompt run alone with the cache off: the oracle.
std::vector<Outcome> Uncached(std::shared_ptr<const Model> model,
                              const std::vector<std::vector<int32_t>>& prompts, int batch,
                              int max_tokens) {
  auto s = Scheduler::Create(model, Options(1, batch, 16, false));
  EXPECT_TRUE(s.ok());
  std::vector<Outcome> out;
  for (const auto& p : prompts) out.push_back(Start(**s, p, max_tokens).get());
  EXPECT_EQ(Idle(**s).kv.hit_tokens, 0);
  return out;
}

void ExpectSame(const Outcome& got, const Outcome& want, const std::string& what) {
  EXPECT_EQ(got.tokens, want.tokens) << what;
  ASSERT_EQ(got.logprobs.size(), want.logprobs.size()) << what;
  for (size_t i = 0; i < got.logprobs.size(); ++i) {
    EXPECT_EQ(got.logprobs[i], want.logprobs[i]) << what << " token " << i;
  }
}

TEST(PrefixCache, SharedSystemPromptIsComputedOnce) {
  auto model = LoadSynthModel({.shape = "tiny", .type = "q8_0", .seed = 5});
  const std::vector<int32_t> system = RandomTokens(40, 1);
  const std::vector<std::vector<int32_t>> prompts = {
      Concat(system, RandomTokens(9, 2)), Concat(system, RandomTokens(3, 3)),
      Concat(system, RandomTokens(17, 4)), Concat(system, {})};
  const std::vector<Outcome> want = Uncached(model, prompts, 64, 10);

  for (int batch : {64, 7}) {
    auto s = Scheduler::Create(model, Options(3, batch, 4, true));
    ASSERT_TRUE(s.ok());
    ExpectSame(Start(**s, prompts[0], 10).get(), want[0], "first");
    EXPECT_EQ(Idle(**s).kv.hit_tokens, 0);
    // The next two run together on the cached 40 tokens (10 blocks of 4).
    std::future<Outcome> b = Start(**s, prompts[1], 10);
    std::future<Outcome> c = Start(**s, prompts[2], 10);
    ExpectSame(b.get(), want[1], "second, batch " + std::to_string(batch));
    ExpectSame(c.get(), want[2], "third, batch " + std::to_string(batch));
    EXPECT_EQ(Idle(**s).kv.hit_tokens, 80);
    // The bare system prompt: its last token is evaluated again for logits.
    ExpectSame(Start(**s, prompts[3], 10).get(), want[3], "system only");
    const SchedulerStats st = Idle(**s);
    EXPECT_EQ(st.kv.hit_tokens, 80 + 36);
    EXPECT_EQ(st.kv.lookup_tokens, 49 + 43 + 57 + 40);
    EXPECT_EQ(st.kv.in_use, 0);  // every finished request gave its blocks back
    EXPECT_GT(st.kv.cached, 10);
  }
}

// A repeated prompt reuses its generated tokens' blocks too, and a chat
// that grows turn by turn reuses everything before the new turn.
TEST(PrefixCache, GrowingConversationReusesEarlierTurns) {
  auto model = LoadSynthModel({.shape = "tiny", .type = "q8_0", .seed = 5});
  std::vector<int32_t> history = RandomTokens(21, 7);
  auto cached = Scheduler::Create(model, Options(2, 64, 8, true));
  auto fresh = Scheduler::Create(model, Options(1, 64, 8, false));
  ASSERT_TRUE(cached.ok() && fresh.ok());
  int64_t expected_hits = 0;
  for (int turn = 0; turn < 4; ++turn) {
    const Outcome want = Start(**fresh, history, 6).get();
    const Outcome got = Start(**cached, history, 6).get();
    ExpectSame(got, want, "turn " + std::to_string(turn));
    if (turn > 0) {
      // Everything evaluated last turn, in whole blocks, short of the last prompt token.
      const int64_t evaluated_before = static_cast<int64_t>(history.size()) - 6 - 3 + 6 - 1;
      expected_hits += std::min<int64_t>(evaluated_before, history.size() - 1) / 8 * 8;
    }
    EXPECT_EQ(Idle(**cached).kv.hit_tokens, expected_hits) << "turn " << turn;
    history = Concat(Concat(history, got.tokens), RandomTokens(3, 100 + turn));
  }
  EXPECT_GT(expected_hits, 0);
}

// With a sliding window the ring wraps: writes into a cached block copy it
// first, so later requests still find the original intact and the rows of
// the block not yet overwritten stay visible (blocks of 4 > 3 tokens a step).
TEST(PrefixCache, SlidingWindowRingWrapsOverCachedBlocks) {
  auto model = LoadSynthModel({.shape = "tiny", .type = "f16", .seed = 6, .sliding_window = 8});
  const std::vector<int32_t> shared = RandomTokens(30, 11);
  const std::vector<std::vector<int32_t>> prompts = {Concat(shared, RandomTokens(5, 12)),
                                                     Concat(shared, RandomTokens(2, 13)), shared};
  // Ring of 8 + 3 - 1 = 10 slots: two whole blocks of 4 published on the
  // first lap, then a partial one.
  const std::vector<Outcome> want = Uncached(model, prompts, 3, 20);
  auto s = Scheduler::Create(model, Options(2, 3, 4, true));
  ASSERT_TRUE(s.ok());
  for (size_t i = 0; i < prompts.size(); ++i) {
    ExpectSame(Start(**s, prompts[i], 20).get(), want[i], "prompt " + std::to_string(i));
  }
  const SchedulerStats st = Idle(**s);
  EXPECT_EQ(st.kv.hit_tokens, 8 * 2);
  EXPECT_EQ(st.kv.in_use, 0);
}

// More distinct prompts than the pool can keep: the oldest cached blocks are
// evicted and nothing wrong is ever reused.
TEST(PrefixCache, EvictionKeepsResultsExact) {
  auto model = LoadSynthModel({.shape = "tiny", .type = "q8_0", .seed = 5});
  std::vector<std::vector<int32_t>> prompts;
  for (int i = 0; i < 6; ++i) prompts.push_back(RandomTokens(70, 200 + i));
  prompts.push_back(prompts[5]);  // still cached: the most recent
  prompts.push_back(prompts[0]);  // evicted long ago
  const std::vector<Outcome> want = Uncached(model, prompts, 64, 8);
  auto s = Scheduler::Create(model, Options(1, 64, 16, true));
  ASSERT_TRUE(s.ok());
  std::vector<int64_t> hits;
  for (size_t i = 0; i < prompts.size(); ++i) {
    ExpectSame(Start(**s, prompts[i], 8).get(), want[i], "prompt " + std::to_string(i));
    hits.push_back(Idle(**s).kv.hit_tokens);
  }
  // One sequence of 160 positions: 10 blocks + 1 spare; each prompt fills 4
  // full blocks (64 of 70 + 8 positions), so older prompts are pushed out.
  EXPECT_EQ(hits[5], 0);
  EXPECT_EQ(hits[6] - hits[5], 64);
  EXPECT_EQ(hits[7] - hits[6], 0);
}

TEST(KvBlockPool, ReferenceCountsPublishLookupAndLruEviction) {
  auto model = LoadSynthModel({.shape = "tiny", .type = "q8_0", .seed = 5});
  KvBlockPool pool(model->config(), 3, 2, KvType::kF16);
  const std::vector<int32_t> t1 = {5, 6}, t2 = {7, 8};
  const uint64_t h1 = KvBlockPool::ChainHash(0, t1);
  const uint64_t h2 = KvBlockPool::ChainHash(h1, t2);
  EXPECT_NE(h1, KvBlockPool::ChainHash(0, t2));
  EXPECT_NE(h2, KvBlockPool::ChainHash(0, t2));  // the chain, not just the tokens

  const int32_t a = pool.Allocate(), b = pool.Allocate();
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  EXPECT_FALSE(pool.ReadOnly(a));
  pool.Publish(a, h1, 0, t1);
  pool.Publish(b, h2, h1, t2);
  EXPECT_TRUE(pool.ReadOnly(a));
  EXPECT_EQ(pool.Lookup(h1, 0, t2), -1);  // same hash, other tokens
  EXPECT_EQ(pool.Lookup(h2, 0, t2), -1);  // other parent
  EXPECT_EQ(pool.Lookup(h1, 0, t1), a);
  pool.Release(a);
  pool.Release(a);
  pool.Release(b);
  EXPECT_EQ(pool.Stats().in_use, 0);
  EXPECT_EQ(pool.Stats().cached, 2);

  // The never-used block goes first, then cached ones, oldest released first.
  const int32_t c = pool.Allocate();
  EXPECT_NE(c, a);
  EXPECT_NE(c, b);
  EXPECT_EQ(pool.Allocate(), a);
  EXPECT_EQ(pool.Lookup(h1, 0, t1), -1);  // evicted
  EXPECT_EQ(pool.Stats().cached, 1);
  EXPECT_EQ(pool.Allocate(), b);
  EXPECT_EQ(pool.Allocate(), -1);
  EXPECT_EQ(pool.Stats().in_use, 3);
}

// Copy-on-write keeps every row: the writer gets a private block holding the
// rows it does not overwrite, and the cached original stays as it was.
TEST(PagedSequence, WritingASharedBlockCopiesItFirst) {
  auto model = LoadSynthModel({.shape = "tiny", .type = "q8_0", .seed = 5});
  const ModelConfig& c = model->config();
  KvBlockPool pool(c, 8, 4, KvType::kF16);
  const size_t row = kernels::KvRowBytes(KvType::kF16, static_cast<size_t>(c.kv_dim()));
  auto byte_at = [&](const KvCacheView& v, int32_t layer, int32_t slot) -> uint8_t& {
    return v.k[(static_cast<size_t>(layer) * v.layer_rows + v.Row(slot)) * row];
  };
  const std::vector<int32_t> tokens = {10, 11, 12, 13, 14, 15, 16, 17, 18};
  PagedSequence a(pool, 10);  // a ring of 10 slots: blocks of 4, 4 and 2
  ASSERT_TRUE(a.PrepareWrite(0, 9));
  for (int32_t l = 0; l < c.n_layers; ++l) {
    for (int32_t s = 0; s < 9; ++s) byte_at(a.view(), l, s) = static_cast<uint8_t>(16 * l + s);
  }
  a.PublishFull(tokens, 9);
  EXPECT_EQ(pool.Stats().cached, 2);

  PagedSequence b(pool, 10);
  EXPECT_EQ(b.AttachPrefix(tokens), 8);
  EXPECT_EQ(b.view().Row(5), a.view().Row(5));  // shared, not copied
  ASSERT_TRUE(b.PrepareWrite(10, 11));          // position 10 wraps onto slot 0
  EXPECT_NE(b.view().Row(0), a.view().Row(0));
  EXPECT_EQ(b.view().Row(5), a.view().Row(5));
  for (int32_t l = 0; l < c.n_layers; ++l) {
    byte_at(b.view(), l, 0) = 0xEE;
    for (int32_t s = 1; s < 4; ++s) EXPECT_EQ(byte_at(b.view(), l, s), 16 * l + s) << l << s;
    for (int32_t s = 0; s < 9; ++s) EXPECT_EQ(byte_at(a.view(), l, s), 16 * l + s) << l << s;
  }
  // Only the published blocks a and b share are counted once.
  EXPECT_EQ(pool.Stats().in_use, 3 + 1);
  a.Clear();
  b.Clear();
  EXPECT_EQ(pool.Stats().in_use, 0);
  EXPECT_EQ(pool.Stats().cached, 2);
}

}  // namespace
}  // namespace autan
