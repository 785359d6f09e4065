// The scheduler's energy attribution: each step's joules, as a meter gives
// them, split over the requests in the step by their work.
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "runtime/scheduler.h"
#include "test_models.h"

namespace autan {
namespace {

using testing::LoadSynthModel;

// Step k (from 0) costs 0.1 x (k + 1) J, from the given source.
class FakeMeter : public EnergyMeter {
 public:
  explicit FakeMeter(EnergySource source, std::shared_future<void> gate = {})
      : source_(source), gate_(std::move(gate)) {}
  void Begin() override {
    if (steps_++ == 0 && gate_.valid()) gate_.wait();  // holds the first step
  }
  StepEnergy End(double bytes_read) override {
    bytes_ = bytes_read;
    const double j = 0.1 * steps_;
    total_ += j;
    return {j, source_};
  }
  double total() const { return total_; }
  int steps() const { return steps_; }
  double last_bytes() const { return bytes_; }

 private:
  EnergySource source_;
  std::shared_future<void> gate_;
  int steps_ = 0;
  double total_ = 0.0, bytes_ = 0.0;
};

std::future<CompletionSummary> Submit(Scheduler& s, std::vector<int32_t> prompt,
                                      int32_t max_tokens) {
  GenerationRequest r;
  r.prompt = std::move(prompt);
  r.sampling.temperature = 0.0f;
  r.max_tokens = max_tokens;
  r.stop_at_end_of_generation = false;
  auto done = std::make_shared<std::promise<CompletionSummary>>();
  auto f = done->get_future();
  r.on_token = [](const TokenEvent&) { return true; };
  r.on_done = [done](const CompletionSummary& summary) { done->set_value(summary); };
  EXPECT_TRUE(s.Submit(std::move(r)).ok());
  return f;
}

std::vector<int32_t> Prompt(int n) {
  std::vector<int32_t> p = {1};
  for (int i = 1; i < n; ++i) p.push_back(100 + 7 * i);
  return p;
}

SchedulerOptions Options(int parallel, int batch, std::shared_ptr<EnergyMeter> meter) {
  return {.n_parallel = parallel,
          .n_ctx = 128,
          .max_batch_tokens = batch,
          .max_queue = 16,
          .threads = 2,
          .energy_meter = std::move(meter)};
}

TEST(SchedulerEnergy, SharesOfABatchSumToTheMeasuredTotal) {
  auto model = LoadSynthModel({.shape = "tiny", .type = "q8_0", .seed = 3});
  auto meter = std::make_shared<FakeMeter>(EnergySource::kRapl);
  auto s = Scheduler::Create(model, Options(4, 5, meter));  // chunked prompts among decodes
  ASSERT_TRUE(s.ok());
  std::vector<std::future<CompletionSummary>> running;
  for (int n : {3, 9, 14, 2, 20, 6}) running.push_back(Submit(**s, Prompt(n), 6));
  double sum = 0.0;
  for (auto& f : running) {
    CompletionSummary summary = f.get();
    EXPECT_GT(summary.energy_joules, 0.0);
    EXPECT_EQ(summary.energy_source, EnergySource::kRapl);
    sum += summary.energy_joules;
  }
  ASSERT_GT(meter->steps(), 6);
  EXPECT_NEAR(sum, meter->total(), meter->total() * 0.01);
  EXPECT_NEAR((*s)->Stats().energy_joules, meter->total(), 1e-9);
}

TEST(SchedulerEnergy, OneStepSplitsByFlopsOfEachPrompt) {
  auto model = LoadSynthModel({.shape = "tiny", .type = "q8_0", .seed = 3});
  // A first request holds the engine in its step while two more queue up,
  // so both are admitted together and prefilled in the second step (0.2 J).
  std::promise<void> open;
  auto meter = std::make_shared<FakeMeter>(EnergySource::kRapl, open.get_future().share());
  auto s = Scheduler::Create(model, Options(3, 64, meter));
  ASSERT_TRUE(s.ok());
  auto first = Submit(**s, Prompt(2), 1);
  while ((*s)->Stats().active == 0) std::this_thread::yield();
  auto short_f = Submit(**s, Prompt(3), 1);
  auto long_f = Submit(**s, Prompt(15), 1);
  open.set_value();
  EXPECT_NEAR(first.get().energy_joules, 0.1, 1e-12);
  const CompletionSummary a = short_f.get(), b = long_f.get();
  ASSERT_EQ(meter->steps(), 2);
  // Hand-computed FLOPs per token (2 x weights) and per attended position.
  const ModelConfig& c = model->config();
  const double per_token =
      2.0 *
      (c.n_layers * (2.0 * c.dim * c.q_dim() + 2.0 * c.dim * c.kv_dim() + 3.0 * c.dim * c.ffn_dim) +
       static_cast<double>(c.n_vocab) * c.dim);
  const double per_position = 4.0 * c.n_layers * c.q_dim();
  const double short_work = 3 * per_token + (1 + 2 + 3) * per_position;
  const double long_work = 15 * per_token + (15 * 16 / 2) * per_position;
  EXPECT_NEAR(a.energy_joules, 0.2 * short_work / (short_work + long_work), 1e-12);
  EXPECT_NEAR(b.energy_joules, 0.2 * long_work / (short_work + long_work), 1e-12);
  // The estimate's bytes: every tensor once, and each sequence's KV rows.
  double weights = 0.0;
  for (const auto& t : model->file().tensors()) weights += t.n_bytes;
  const double kv_row = 2.0 * c.n_layers * c.kv_dim() * 2.0;  // f16 K and V
  EXPECT_NEAR(meter->last_bytes(), weights + (3 + 15) * kv_row, 1e-6);
}

TEST(SchedulerEnergy, EstimatedStepsLabelTheRequestAndNoMeterMeansZero) {
  auto model = LoadSynthModel({.shape = "tiny", .type = "q8_0", .seed = 3});
  {
    auto s = Scheduler::Create(
        model, Options(1, 64, std::make_shared<FakeMeter>(EnergySource::kEstimate)));
    ASSERT_TRUE(s.ok());
    CompletionSummary e = Submit(**s, Prompt(4), 3).get();
    EXPECT_EQ(e.energy_source, EnergySource::kEstimate);
    EXPECT_NEAR(e.energy_joules, 0.1 + 0.2 + 0.3, 1e-12);  // alone in its three steps
  }
  auto s = Scheduler::Create(model, Options(1, 64, nullptr));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(Submit(**s, Prompt(4), 3).get().energy_joules, 0.0);
}

}  // namespace
}  // namespace autan
