// Mixture-of-experts feed-forward: the routing and weighting against a
// direct computation, batch invariance of a whole Mixtral model, and clear
// errors for misshapen expert tensors.
#include "model/moe.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <vector>

#include "formats/gguf_writer.h"
#include "forward_util.h"
#include "model/model.h"
#include "model/synth.h"
#include "runtime/kv_cache.h"

namespace autan {
namespace {

Tensor F32Matrix(const std::vector<float>& v, int64_t rows, int64_t cols) {
  Tensor t;
  t.type = DType::kF32;
  t.rows = rows;
  t.cols = cols;
  t.row_bytes = static_cast<size_t>(cols) * sizeof(float);
  t.data = reinterpret_cast<const uint8_t*>(v.data());
  return t;
}

// y = W x for W [rows][cols], in double.
std::vector<double> Apply(const std::vector<float>& w, const std::vector<double>& x, size_t rows) {
  std::vector<double> y(rows, 0.0);
  for (size_t r = 0; r < rows; ++r) {
    for (size_t c = 0; c < x.size(); ++c) y[r] += w[r * x.size() + c] * x[c];
  }
  return y;
}

// The expert's SwiGLU block on x, straight from its definition.
std::vector<double> Expert(const std::vector<float>& gate, const std::vector<float>& up,
                           const std::vector<float>& down, const std::vector<double>& x,
                           size_t ffn) {
  std::vector<double> g = Apply(gate, x, ffn);
  const std::vector<double> u = Apply(up, x, ffn);
  for (size_t i = 0; i < ffn; ++i) g[i] = g[i] / (1.0 + std::exp(-g[i])) * u[i];
  return Apply(down, g, x.size());
}

TEST(Moe, RoutesToTheLargestLogitsWithASoftmaxOverThem) {
  constexpr size_t kDim = 4, kFfn = 3, kExperts = 3;
  // Router rows pick out coordinates of x, so the logits are known: for
  // x = (1, 3, 2, 0.5) they are 1, 3 and 2 (experts 1 then 2 win); for
  // x = (2, 2, 1, 0) a tie between experts 0 and 1 (lower index first).
  const std::vector<float> router = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0};
  std::vector<std::vector<float>> gate(kExperts), up(kExperts), down(kExperts);
  for (size_t e = 0; e < kExperts; ++e) {
    for (size_t i = 0; i < kFfn * kDim; ++i) {
      gate[e].push_back(std::sin(static_cast<float>(e * 31 + i)) * 0.5f);
      up[e].push_back(std::cos(static_cast<float>(e * 17 + i)) * 0.5f);
      down[e].push_back(std::sin(static_cast<float>(e * 7 + i * 3)) * 0.5f);
    }
  }
  MoeWeights w;
  w.router = F32Matrix(router, kExperts, kDim);
  for (size_t e = 0; e < kExperts; ++e) {
    w.gate.push_back(F32Matrix(gate[e], kFfn, kDim));
    w.up.push_back(F32Matrix(up[e], kFfn, kDim));
    w.down.push_back(F32Matrix(down[e], kDim, kFfn));
  }
  w.n_used = 2;
  const std::vector<float> x = {1, 3, 2, 0.5f, 2, 2, 1, 0};
  struct Want {
    size_t first, second;
    double logit_first, logit_second;
  };
  const Want want[2] = {{1, 2, 3.0, 2.0}, {0, 1, 2.0, 2.0}};

  ForwardScratch scratch;
  ThreadPool pool(2);
  std::vector<float> out(2 * kDim);
  MoeFeedForward(w, x.data(), 2, kDim, kFfn, out.data(), scratch, pool);
  for (size_t t = 0; t < 2; ++t) {
    const std::vector<double> xt(x.begin() + t * kDim, x.begin() + (t + 1) * kDim);
    const double w1 = 1.0 / (1.0 + std::exp(want[t].logit_second - want[t].logit_first));
    const std::vector<double> y1 =
        Expert(gate[want[t].first], up[want[t].first], down[want[t].first], xt, kFfn);
    const std::vector<double> y2 =
        Expert(gate[want[t].second], up[want[t].second], down[want[t].second], xt, kFfn);
    for (size_t i = 0; i < kDim; ++i) {
      EXPECT_NEAR(out[t * kDim + i], w1 * y1[i] + (1.0 - w1) * y2[i], 1e-5) << t << "," << i;
    }
  }

  // K = 1: the single best expert with weight 1 (on the tie, expert 0);
  // K = all: every expert.
  w.n_used = 1;
  MoeFeedForward(w, x.data(), 2, kDim, kFfn, out.data(), scratch, pool);
  const std::vector<double> x0(x.begin(), x.begin() + kDim);
  const std::vector<double> x1(x.begin() + kDim, x.end());
  const std::vector<double> best = Expert(gate[1], up[1], down[1], x0, kFfn);
  const std::vector<double> tied = Expert(gate[0], up[0], down[0], x1, kFfn);
  for (size_t i = 0; i < kDim; ++i) {
    EXPECT_NEAR(out[i], best[i], 1e-5);
    EXPECT_NEAR(out[kDim + i], tied[i], 1e-5);
  }
  w.n_used = 3;
  MoeFeedForward(w, x.data(), 1, kDim, kFfn, out.data(), scratch, pool);
  const double z = std::exp(1.0) + std::exp(3.0) + std::exp(2.0);
  std::vector<double> all(kDim, 0.0);
  for (size_t e = 0; e < kExperts; ++e) {
    const std::vector<double> y = Expert(gate[e], up[e], down[e], x0, kFfn);
    for (size_t i = 0; i < kDim; ++i) all[i] += std::exp(static_cast<double>(x0[e])) / z * y[i];
  }
  for (size_t i = 0; i < kDim; ++i) EXPECT_NEAR(out[i], all[i], 1e-5);
}

class MixtralModelTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::filesystem::path(std::filesystem::temp_directory_path() /
                                     ("autan-moe-" + std::to_string(::getpid())));
    std::filesystem::create_directories(*dir_);
    Result<gguf::File> vocab =
        gguf::File::Open(std::string(AUTAN_TESTDATA) + "/vocab/ggml-vocab-llama-spm.gguf");
    ASSERT_TRUE(vocab.ok()) << vocab.error().message;
    ThreadPool pool(2);
    Status s = WriteSynthModel({.arch = "mixtral", .shape = "tiny", .type = "q8_0", .seed = 9},
                               *vocab, Path(), pool);
    ASSERT_TRUE(s.ok()) << s.error().message;
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }
  static std::string Path() { return (*dir_ / "mixtral.gguf").string(); }
  static std::filesystem::path* dir_;
};
std::filesystem::path* MixtralModelTest::dir_ = nullptr;

// Logits of every position: the prompt in one forward call, or one token per
// call. Each token's experts run over different batches either way.
TEST_F(MixtralModelTest, ABatchComputesEachTokenAsAlone) {
  Result<std::shared_ptr<const Model>> m = Model::Load(Path());
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ((*m)->config().n_expert, 8);
  EXPECT_EQ((*m)->config().n_expert_used, 2);
  const std::vector<int32_t> tokens = {1, 450, 4996, 17354, 1701, 29916, 432, 17204};
  const std::vector<float> together = testing::AllLogits(**m, tokens, false);
  const std::vector<float> alone = testing::AllLogits(**m, tokens, true);
  ASSERT_EQ(together.size(), alone.size());
  EXPECT_EQ(0, std::memcmp(together.data(), alone.data(), together.size() * sizeof(float)));
}

// The same experts as one tensor each (llama.cpp's first Mixtral layout,
// and how Mistral and Hugging Face checkpoints store them) compute the same.
TEST_F(MixtralModelTest, OneTensorPerExpertEqualsStacked) {
  Result<gguf::File> base = gguf::File::Open(Path());
  ASSERT_TRUE(base.ok());
  gguf::Writer w;
  w.CopyMetadata(*base);
  for (const gguf::TensorInfo& t : base->tensors()) {
    const size_t at = t.name.find("_exps.weight");
    if (at == std::string::npos) {
      w.AddTensorBytes(t.name, t.type, t.dims, t.bytes());
      continue;
    }
    const size_t each = t.n_bytes / t.dims[2];
    for (uint64_t e = 0; e < t.dims[2]; ++e) {
      w.AddTensorBytes(t.name.substr(0, at) + "." + std::to_string(e) + ".weight", t.type,
                       {t.dims[0], t.dims[1]}, t.bytes().subspan(e * each, each));
    }
  }
  const std::string split = (*dir_ / "split.gguf").string();
  ASSERT_TRUE(w.Write(split).ok());
  Result<std::shared_ptr<const Model>> a = Model::Load(Path());
  Result<std::shared_ptr<const Model>> b = Model::Load(split);
  ASSERT_TRUE(a.ok() && b.ok()) << (b.ok() ? "" : b.error().message);
  const std::vector<int32_t> tokens = {1, 450, 4996, 17354, 1701, 29916};
  const std::vector<float> la = testing::AllLogits(**a, tokens, false);
  const std::vector<float> lb = testing::AllLogits(**b, tokens, false);
  EXPECT_EQ(0, std::memcmp(la.data(), lb.data(), la.size() * sizeof(float)));
}

TEST_F(MixtralModelTest, RefusesMisshapenExpertsAndCounts) {
  Result<gguf::File> base = gguf::File::Open(Path());
  ASSERT_TRUE(base.ok());
  auto variant = [&](const std::string& name, auto edit_metadata, auto edit_dims) {
    gguf::Writer w;
    w.CopyMetadata(*base);
    edit_metadata(w);
    for (const gguf::TensorInfo& t : base->tensors()) {
      std::vector<uint64_t> dims = t.dims;
      edit_dims(t.name, dims);
      w.AddTensorBytes(t.name, t.type, dims, t.bytes());
    }
    const std::string path = (*dir_ / name).string();
    EXPECT_TRUE(w.Write(path).ok());
    Result<std::shared_ptr<const Model>> m = Model::Load(path);
    return m.ok() ? std::string("loaded") : m.error().message;
  };
  auto same_dims = [](const std::string&, std::vector<uint64_t>&) {};
  auto same_meta = [](gguf::Writer&) {};
  // 8 experts of 512 rows read as 4 experts of 1024: the shape names it.
  const std::string swapped =
      variant("swapped.gguf", same_meta, [](const std::string& name, std::vector<uint64_t>& dims) {
        if (name == "blk.1.ffn_up_exps.weight") dims = {dims[0], dims[1] * 2, dims[2] / 2};
      });
  EXPECT_NE(swapped.find("tensor 'blk.1.ffn_up_exps.weight' has shape [256, 1024, 4], expected "
                         "[256, 512, 8]"),
            std::string::npos)
      << swapped;
  const std::string too_many = variant(
      "used.gguf", [](gguf::Writer& w) { w.SetU32("llama.expert_used_count", 9); }, same_dims);
  EXPECT_NE(too_many.find("expert_used_count 9 must be between 1 and expert_count 8"),
            std::string::npos)
      << too_many;
}

}  // namespace
}  // namespace autan
