#include "runtime/session.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>

#include "model/synth.h"
#include "runtime/generate.h"

namespace autan {
namespace {

// A tiny random-weight model written once for the whole suite.
class SessionTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::filesystem::path(std::filesystem::temp_directory_path() /
                                     ("autan-session-" + std::to_string(::getpid())));
    std::filesystem::create_directories(*dir_);
    Result<gguf::File> vocab =
        gguf::File::Open(std::string(AUTAN_TESTDATA) + "/vocab/ggml-vocab-llama-spm.gguf");
    ASSERT_TRUE(vocab.ok()) << vocab.error().message;
    ThreadPool pool(2);
    for (int window : {0, 5}) {
      SynthOptions o{.shape = "tiny", .type = "q8_0", .seed = 3, .sliding_window = window};
      const std::string path = Path(window);
      Status s = WriteSynthModel(o, *vocab, path, pool);
      ASSERT_TRUE(s.ok()) << s.error().message;
    }
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }
  static std::string Path(int window) {
    return (*dir_ / ("tiny-w" + std::to_string(window) + ".gguf")).string();
  }
  static std::shared_ptr<const Model> Load(int window) {
    Result<std::shared_ptr<const Model>> m = Model::Load(Path(window));
    EXPECT_TRUE(m.ok()) << m.error().message;
    return m.ok() ? *m : nullptr;
  }
  static std::vector<float> AllLogits(std::shared_ptr<const Model> model, int threads, int batch,
                                      std::span<const int32_t> tokens) {
    ThreadPool pool(threads);
    auto session = Session::Create(model, pool, {.n_ctx = 64, .max_batch = batch});
    EXPECT_TRUE(session.ok());
    Result<std::vector<float>> logits = (*session)->EvalAll(tokens);
    EXPECT_TRUE(logits.ok()) << logits.error().message;
    return *logits;
  }

  static std::filesystem::path* dir_;
  const std::vector<int32_t> tokens_ = {1,   450, 4996,  17354, 1701,  29916, 432,  17204,
                                        975, 278, 17366, 11203, 29889, 1720,  6303, 1597};
};
std::filesystem::path* SessionTest::dir_ = nullptr;

// Determinism: batch size and thread count never change a bit of the result.
TEST_F(SessionTest, LogitsIdenticalForEveryBatchSizeAndThreadCount) {
  for (int window : {0, 5}) {
    auto model = Load(window);
    const std::vector<float> base = AllLogits(model, 1, 512, tokens_);
    for (auto [threads, batch] : {std::pair{2, 1}, {3, 4}, {2, 7}, {1, 16}}) {
      const std::vector<float> other = AllLogits(model, threads, batch, tokens_);
      ASSERT_EQ(base.size(), other.size());
      EXPECT_EQ(0, std::memcmp(base.data(), other.data(), base.size() * sizeof(float)))
          << "window " << window << " threads " << threads << " batch " << batch;
    }
  }
}

// Incremental evaluation (prompt, then one token at a time) equals one pass.
TEST_F(SessionTest, IncrementalDecodeMatchesOnePass) {
  auto model = Load(5);
  const size_t n_vocab = static_cast<size_t>(model->config().n_vocab);
  const std::vector<float> all = AllLogits(model, 2, 512, tokens_);
  ThreadPool pool(2);
  auto session = Session::Create(model, pool, {.n_ctx = 64, .max_batch = 3});
  ASSERT_TRUE(session.ok());
  auto first = (*session)->Eval(std::span(tokens_).first(6));
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(0, std::memcmp(first->data(), &all[5 * n_vocab], n_vocab * sizeof(float)));
  for (size_t i = 6; i < tokens_.size(); ++i) {
    auto step = (*session)->Eval(std::span(tokens_).subspan(i, 1));
    ASSERT_TRUE(step.ok());
    EXPECT_EQ(0, std::memcmp(step->data(), &all[i * n_vocab], n_vocab * sizeof(float))) << i;
  }
}

// Logits from an index on are the same rows as those of a full evaluation,
// whatever the batch boundaries; earlier rows are not returned.
TEST_F(SessionTest, LogitsFromAnIndexAreTheTailOfAllLogits) {
  auto model = Load(0);
  const size_t n_vocab = static_cast<size_t>(model->config().n_vocab);
  const std::vector<float> all = AllLogits(model, 2, 512, tokens_);
  for (int batch : {3, 5, 16}) {
    ThreadPool pool(2);
    auto session = Session::Create(model, pool, {.n_ctx = 64, .max_batch = batch});
    ASSERT_TRUE(session.ok());
    Result<std::vector<float>> tail = (*session)->EvalAll(tokens_, 7);
    ASSERT_TRUE(tail.ok()) << tail.error().message;
    ASSERT_EQ(tail->size(), (tokens_.size() - 7) * n_vocab);
    EXPECT_EQ(0, std::memcmp(tail->data(), &all[7 * n_vocab], tail->size() * sizeof(float)))
        << "batch " << batch;
  }
  ThreadPool pool(1);
  auto session = Session::Create(model, pool, {.n_ctx = 64});
  EXPECT_FALSE((*session)->EvalAll(tokens_, tokens_.size()).ok());
}

// The sliding window really limits attention: a token outside every window
// position of the last query cannot change its logits, one inside does.
TEST_F(SessionTest, SlidingWindowHidesOldTokens) {
  auto model = Load(5);
  std::vector<int32_t> changed_old = tokens_;
  changed_old[3] = 1000;
  // Through the layers a position sees at most n_layers * (W - 1) positions back.
  const int32_t reach = model->config().n_layers * (5 - 1);
  const size_t last = tokens_.size() - 1;
  ASSERT_GT(static_cast<int32_t>(last) - 3, reach);
  const size_t n_vocab = static_cast<size_t>(model->config().n_vocab);
  const std::vector<float> a = AllLogits(model, 2, 512, tokens_);
  const std::vector<float> b = AllLogits(model, 2, 512, changed_old);
  EXPECT_EQ(0, std::memcmp(&a[last * n_vocab], &b[last * n_vocab], n_vocab * sizeof(float)));
  std::vector<int32_t> changed_recent = tokens_;
  changed_recent[last - 2] = 1000;
  const std::vector<float> c = AllLogits(model, 2, 512, changed_recent);
  EXPECT_NE(0, std::memcmp(&a[last * n_vocab], &c[last * n_vocab], n_vocab * sizeof(float)));
}

TEST_F(SessionTest, WindowedCacheStaysBoundedBeyondTheWindow) {
  auto windowed = Load(5);
  auto full = Load(0);
  ThreadPool pool(1);
  auto a = Session::Create(windowed, pool, {.n_ctx = 4096, .max_batch = 8});
  auto b = Session::Create(full, pool, {.n_ctx = 4096, .max_batch = 8});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ((*a)->kv_bytes() * 4096, (*b)->kv_bytes() * (5 + 8 - 1));
  // Generate far past the window: every step still succeeds.
  for (int i = 0; i < 100; ++i) {
    const int32_t t[] = {static_cast<int32_t>(100 + i)};
    ASSERT_TRUE((*a)->Eval(t).ok());
  }
  EXPECT_EQ((*a)->n_past(), 100);
}

TEST_F(SessionTest, RejectsBadTokensAndContextOverflow) {
  auto model = Load(0);
  ThreadPool pool(1);
  auto session = Session::Create(model, pool, {.n_ctx = 8, .max_batch = 4});
  ASSERT_TRUE(session.ok());
  const int32_t bad[] = {1, 32000};
  auto r = (*session)->Eval(bad);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("outside the vocabulary"), std::string::npos);
  EXPECT_EQ((*session)->n_past(), 0);
  const std::vector<int32_t> nine(9, 5);
  auto overflow = (*session)->Eval(nine);
  ASSERT_FALSE(overflow.ok());
  EXPECT_NE(overflow.error().message.find("context size 8"), std::string::npos);
  EXPECT_FALSE(Session::Create(model, pool, {.n_ctx = 0}).ok());
}

TEST_F(SessionTest, RewindReusesThePrefix) {
  auto model = Load(0);
  const size_t n_vocab = static_cast<size_t>(model->config().n_vocab);
  ThreadPool pool(2);
  auto session = Session::Create(model, pool, {.n_ctx = 64});
  ASSERT_TRUE(session.ok());
  ASSERT_TRUE((*session)->Eval(tokens_).ok());
  ASSERT_TRUE((*session)->Rewind(4));
  auto again = (*session)->Eval(std::span(tokens_).subspan(4, 3));
  ASSERT_TRUE(again.ok());
  const std::vector<float> all = AllLogits(model, 1, 512, tokens_);
  EXPECT_EQ(0, std::memcmp(again->data(), &all[6 * n_vocab], n_vocab * sizeof(float)));
  EXPECT_FALSE((*session)->Rewind(100));
}

TEST_F(SessionTest, GenerateIsReproducibleWithASeed) {
  auto model = Load(0);
  auto run = [&](uint64_t seed, int threads) {
    ThreadPool pool(threads);
    auto session = Session::Create(model, pool, {.n_ctx = 64});
    auto sampler = Sampler::Create({.temperature = 1.0f, .seed = seed}, model->config().n_vocab);
    std::vector<int32_t> out;
    auto stats = Generate(**session, *sampler, tokens_,
                          {.max_tokens = 12, .stop_at_end_of_generation = false}, [&](int32_t t) {
                            out.push_back(t);
                            return true;
                          });
    EXPECT_TRUE(stats.ok());
    EXPECT_EQ(stats->generated_tokens, 12);
    EXPECT_EQ(stats->finish, FinishReason::kLength);
    return out;
  };
  EXPECT_EQ(run(9, 1), run(9, 3));
  EXPECT_NE(run(9, 2), run(10, 2));
}

}  // namespace
}  // namespace autan
