// KV cache types: Q8_0 keeps logits close to F16 at about half the memory,
// and stays deterministic across batch sizes and thread counts.
#include "runtime/kv_cache.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>

#include "model/synth.h"
#include "runtime/session.h"

namespace autan {
namespace {

TEST(KvCache, ParsesTypeNames) {
  EXPECT_EQ(*ParseKvType("f16"), KvType::kF16);
  EXPECT_EQ(*ParseKvType("q8_0"), KvType::kQ8_0);
  Result<KvType> bad = ParseKvType("q4_0");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("'q4_0'"), std::string::npos);
  EXPECT_STREQ(KvTypeName(KvType::kQ8_0), "q8_0");
}

TEST(KvCache, RefusesQ8_0ForHeadsNotMadeOfWholeBlocks) {
  ModelConfig c{.n_vocab = 10,
                .dim = 320,
                .n_layers = 1,
                .n_heads = 4,
                .n_kv_heads = 4,
                .head_dim = 80,
                .ffn_dim = 8,
                .rope_dims = 80};
  EXPECT_TRUE(KvCache::Supports(c, KvType::kF16).ok());
  Status s = KvCache::Supports(c, KvType::kQ8_0);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("multiple of 32"), std::string::npos);
  c.head_dim = 96;
  EXPECT_TRUE(KvCache::Supports(c, KvType::kQ8_0).ok());
}

class KvTypeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    path_ = new std::filesystem::path(std::filesystem::temp_directory_path() /
                                      ("autan-kvtype-" + std::to_string(::getpid()) + ".gguf"));
    Result<gguf::File> vocab =
        gguf::File::Open(std::string(AUTAN_TESTDATA) + "/vocab/ggml-vocab-llama-spm.gguf");
    ASSERT_TRUE(vocab.ok()) << vocab.error().message;
    ThreadPool pool(2);
    Status s =
        WriteSynthModel({.shape = "tiny", .type = "f16", .seed = 5}, *vocab, path_->string(), pool);
    ASSERT_TRUE(s.ok()) << s.error().message;
  }
  static void TearDownTestSuite() {
    std::filesystem::remove(*path_);
    delete path_;
  }

  static std::vector<float> Logits(KvType type, int threads, int batch, size_t* kv_bytes) {
    Result<std::shared_ptr<const Model>> model = Model::Load(path_->string());
    EXPECT_TRUE(model.ok());
    ThreadPool pool(threads);
    auto session =
        Session::Create(*model, pool, {.n_ctx = 64, .max_batch = batch, .kv_type = type});
    EXPECT_TRUE(session.ok());
    if (kv_bytes) *kv_bytes = (*session)->kv_bytes();
    std::vector<int32_t> tokens;
    for (int i = 0; i < 40; ++i) tokens.push_back(1 + (i * 7919) % 31000);
    Result<std::vector<float>> logits = (*session)->EvalAll(tokens);
    EXPECT_TRUE(logits.ok());
    return *logits;
  }

  static std::filesystem::path* path_;
};
std::filesystem::path* KvTypeTest::path_ = nullptr;

TEST_F(KvTypeTest, Q8_0LogitsCloseToF16AtHalfTheMemory) {
  size_t f16_bytes = 0, q8_bytes = 0;
  const std::vector<float> f16 = Logits(KvType::kF16, 2, 512, &f16_bytes);
  const std::vector<float> q8 = Logits(KvType::kQ8_0, 2, 512, &q8_bytes);
  // 34 bytes per 32 values instead of 64.
  EXPECT_EQ(q8_bytes * 64, f16_bytes * 34);
  ASSERT_EQ(f16.size(), q8.size());
  double sum_sq = 0, diff_sq = 0, max_diff = 0;
  for (size_t i = 0; i < f16.size(); ++i) {
    sum_sq += static_cast<double>(f16[i]) * f16[i];
    const double d = static_cast<double>(q8[i]) - f16[i];
    diff_sq += d * d;
    max_diff = std::max(max_diff, std::fabs(d));
  }
  const double rms = std::sqrt(sum_sq / f16.size());
  const double rms_diff = std::sqrt(diff_sq / f16.size());
  EXPECT_GT(rms_diff, 0.0);  // the cache really is quantized
  // Q8_0 rounds each value by up to 1/254 of its block's largest; through the
  // random-weight layers that grows to about 1% of the logits' spread (a
  // misplaced block or scale gives differences as large as the logits).
  EXPECT_LT(rms_diff, 0.03 * rms) << "rms " << rms << " max diff " << max_diff;
  EXPECT_LT(max_diff, 0.15 * rms);
}

TEST_F(KvTypeTest, Q8_0LogitsIdenticalForEveryBatchSizeAndThreadCount) {
  const std::vector<float> base = Logits(KvType::kQ8_0, 1, 512, nullptr);
  for (auto [threads, batch] : {std::pair{2, 1}, {3, 5}, {2, 16}}) {
    const std::vector<float> other = Logits(KvType::kQ8_0, threads, batch, nullptr);
    ASSERT_EQ(base.size(), other.size());
    EXPECT_EQ(0, std::memcmp(base.data(), other.data(), base.size() * sizeof(float)))
        << "threads " << threads << " batch " << batch;
  }
}

}  // namespace
}  // namespace autan
