#include "runtime/embedder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <future>

#include "runtime/scheduler.h"
#include "runtime/session.h"
#include "test_models.h"

namespace autan {
namespace {

using testing::LoadSynthModel;

using Embeddings = Result<std::vector<std::vector<float>>>;

std::future<Embeddings> Embed(Embedder& e, std::vector<std::vector<int32_t>> inputs,
                              uint64_t* id = nullptr) {
  auto done = std::make_shared<std::promise<Embeddings>>();
  std::future<Embeddings> f = done->get_future();
  Embedder::Submitted sub =
      e.Submit({std::move(inputs), [done](Embeddings out) { done->set_value(std::move(out)); }});
  EXPECT_TRUE(sub.ok()) << sub.message;
  if (id) *id = sub.id;
  return f;
}

const std::vector<int32_t> kFox = {1, 450, 4996, 17354, 1701, 29916, 432, 17204, 975, 278};
const std::vector<int32_t> kParis = {1, 3681, 338, 278, 7483, 310, 3444};

// The session's embedding written out: the mean of the final normed hidden
// states (asked for as hidden rows of one forward call), unit length.
std::vector<float> MeanOfHiddenRows(const Model& m, const std::vector<int32_t>& tokens) {
  const size_t dim = static_cast<size_t>(m.config().dim);
  KvCache cache(m.config(), static_cast<int32_t>(tokens.size()),
                static_cast<int32_t>(tokens.size()));
  Batch batch;
  for (size_t i = 0; i < tokens.size(); ++i) {
    batch.Add(tokens[i], static_cast<int32_t>(i), 0, true);
  }
  std::vector<float> hidden(tokens.size() * dim), logits(tokens.size() * m.config().n_vocab);
  ForwardScratch scratch;
  ThreadPool pool(1);
  const KvCacheView view = cache.view();
  // Logits too: asking for them must not change the hidden rows.
  m.Forward(batch, std::span(&view, 1), scratch, pool, logits.data(), hidden.data());
  std::vector<double> mean(dim, 0.0);
  for (size_t r = 0; r < tokens.size(); ++r) {
    for (size_t j = 0; j < dim; ++j) mean[j] += hidden[r * dim + j] / tokens.size();
  }
  double norm = 0.0;
  for (double v : mean) norm += v * v;
  std::vector<float> out(dim);
  for (size_t j = 0; j < dim; ++j) out[j] = static_cast<float>(mean[j] / std::sqrt(norm));
  return out;
}

TEST(Embedder, EqualsTheMeanOfHiddenRowsWhateverTheBatch) {
  auto model = LoadSynthModel({.shape = "tiny", .type = "f32", .seed = 3});
  const std::vector<float> expected = MeanOfHiddenRows(*model, kFox);
  for (int32_t batch : {512, 3}) {
    auto e = Embedder::Create(model, {.n_ctx = 64, .max_batch = batch, .threads = 2});
    ASSERT_TRUE(e.ok()) << e.error().message;
    Embeddings out = Embed(**e, {kFox, kParis, kFox}).get();
    ASSERT_TRUE(out.ok()) << out.error().message;
    ASSERT_EQ(out->size(), 3u);
    ASSERT_EQ((*out)[0].size(), static_cast<size_t>(model->config().dim));
    double norm = 0.0, cos_other = 0.0;
    for (size_t j = 0; j < expected.size(); ++j) {
      EXPECT_NEAR((*out)[0][j], expected[j], 2e-5f) << "batch " << batch << " at " << j;
      norm += (*out)[0][j] * (*out)[0][j];
      cos_other += (*out)[0][j] * (*out)[1][j];
    }
    EXPECT_NEAR(norm, 1.0, 1e-5);
    EXPECT_LT(cos_other, 0.999);      // another input, another direction
    EXPECT_EQ((*out)[0], (*out)[2]);  // input order kept; same input, same vector
  }
}

TEST(Embedder, RefusesBadInputsAndCancels) {
  auto model = LoadSynthModel({.shape = "tiny", .type = "q8_0", .seed = 3});
  auto e = Embedder::Create(model, {.n_ctx = 8, .max_queue = 1, .max_inputs = 4});
  ASSERT_TRUE(e.ok());
  auto refused = [&](std::vector<std::vector<int32_t>> in) {
    Embedder::Submitted s = (*e)->Submit({std::move(in), [](Embeddings) { FAIL(); }});
    return s.refusal;
  };
  EXPECT_EQ(refused({}), Embedder::Refusal::kInvalid);
  EXPECT_EQ(refused({{}}), Embedder::Refusal::kInvalid);
  EXPECT_EQ(refused({{1, 2, 3, 4, 5, 6, 7, 8, 9}}), Embedder::Refusal::kInvalid);  // > n_ctx
  EXPECT_EQ(refused({{1, model->config().n_vocab}}), Embedder::Refusal::kInvalid);
  EXPECT_EQ(refused({{1}, {1}, {1}, {1}, {1}}), Embedder::Refusal::kInvalid);  // > max_inputs

  // Many inputs, cancelled at once: the job ends early and says so.
  std::vector<std::vector<int32_t>> many(4, std::vector<int32_t>{1, 450, 4996, 17354});
  uint64_t id = 0;
  std::future<Embeddings> f = Embed(**e, many, &id);
  (*e)->Cancel(id);
  Embeddings out = f.get();
  if (!out.ok()) {  // unless it was already done
    EXPECT_EQ(out.error().message, "cancelled");
  }

  // A job whose deadline passed (say while it waited) fails without running.
  auto late = std::make_shared<std::promise<Embeddings>>();
  std::future<Embeddings> late_result = late->get_future();
  ASSERT_TRUE((*e)->Submit({.inputs = many,
                            .on_done = [late](Embeddings r) { late->set_value(std::move(r)); },
                            .deadline = std::chrono::steady_clock::now()})
                  .ok());
  Embeddings timed_out = late_result.get();
  ASSERT_FALSE(timed_out.ok());
  EXPECT_EQ(timed_out.error().message, "the request ran past the server's time limit");

  (*e)->Drain();
  EXPECT_EQ((*e)->Submit({{{1}}, [](Embeddings) {}}).refusal, Embedder::Refusal::kShuttingDown);
}

// Embeddings run beside the scheduler: greedy streams decoded meanwhile give
// the tokens they give alone, and the embedding is the one computed alone.
TEST(Embedder, RunsBesideTheSchedulerWithoutChangingEither) {
  auto model = LoadSynthModel({.shape = "tiny", .type = "q8_0", .seed = 3});
  auto generate = [&](Scheduler& s) {
    auto done = std::make_shared<std::promise<std::vector<int32_t>>>();
    auto tokens = std::make_shared<std::vector<int32_t>>();
    GenerationRequest r;
    r.prompt = kParis;
    r.sampling.temperature = 0.0f;
    r.max_tokens = 24;
    r.stop_at_end_of_generation = false;
    r.on_token = [tokens](const TokenEvent& ev) {
      tokens->push_back(ev.token);
      return true;
    };
    r.on_done = [tokens, done](const CompletionSummary&) { done->set_value(*tokens); };
    EXPECT_TRUE(s.Submit(std::move(r)).ok());
    return done->get_future();
  };
  auto scheduler = Scheduler::Create(model, {.n_parallel = 2, .n_ctx = 64, .threads = 2});
  ASSERT_TRUE(scheduler.ok());
  const std::vector<int32_t> alone = generate(**scheduler).get();
  auto e = Embedder::Create(model, {.n_ctx = 64});
  ASSERT_TRUE(e.ok());
  const Embeddings embedding_alone = Embed(**e, {kFox}).get();
  ASSERT_TRUE(embedding_alone.ok());

  std::future<std::vector<int32_t>> stream = generate(**scheduler);
  std::vector<std::vector<int32_t>> inputs(8, kFox);
  Embeddings together = Embed(**e, inputs).get();
  EXPECT_EQ(stream.get(), alone);
  ASSERT_TRUE(together.ok());
  for (const auto& v : *together) EXPECT_EQ(v, (*embedding_alone)[0]);
}

}  // namespace
}  // namespace autan
