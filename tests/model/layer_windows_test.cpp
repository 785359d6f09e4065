// Per-layer attention windows (llama.attention.sliding_window as an array,
// cycled over the layers): equal to the uniform cases they reduce to, and
// different from both when the layers differ.
#include <gtest/gtest.h>
#include <unistd.h>

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

class LayerWindowsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::filesystem::path(std::filesystem::temp_directory_path() /
                                     ("autan-windows-" + std::to_string(::getpid())));
    std::filesystem::create_directories(*dir_);
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }

  // The same weights (same seed) with the given windows.
  static std::shared_ptr<const Model> Make(const std::string& name, int32_t window,
                                           std::vector<int32_t> layer_windows) {
    Result<gguf::File> vocab =
        gguf::File::Open(std::string(AUTAN_TESTDATA) + "/vocab/ggml-vocab-llama-spm.gguf");
    EXPECT_TRUE(vocab.ok());
    ThreadPool pool(2);
    const std::string path = (*dir_ / (name + ".gguf")).string();
    Status s = WriteSynthModel({.shape = "tiny",
                                .type = "f16",
                                .seed = 4,
                                .sliding_window = window,
                                .layer_windows = std::move(layer_windows)},
                               *vocab, path, pool);
    EXPECT_TRUE(s.ok()) << s.error().message;
    Result<std::shared_ptr<const Model>> m = Model::Load(path);
    EXPECT_TRUE(m.ok()) << m.error().message;
    return m.ok() ? *m : nullptr;
  }

  // Logits of every position of a 12-token prompt, one token per call.
  static std::vector<float> Logits(const Model& m) {
    const std::vector<int32_t> tokens = {1,   450, 4996, 17354, 1701,  29916,
                                         432, 975, 278,  17366, 11203, 29889};
    // One token per pass, as decoding runs, so each window applies per step.
    return testing::AllLogits(m, tokens, /*one_by_one=*/true);
  }

  static bool SameRows(const std::vector<float>& a, const std::vector<float>& b, size_t from,
                       size_t to, size_t n_vocab) {
    return std::memcmp(&a[from * n_vocab], &b[from * n_vocab],
                       (to - from) * n_vocab * sizeof(float)) == 0;
  }

  static std::filesystem::path* dir_;
};
std::filesystem::path* LayerWindowsTest::dir_ = nullptr;

TEST_F(LayerWindowsTest, ReduceToTheUniformCasesAndMixOtherwise) {
  auto full = Make("full", 0, {});
  auto all_off = Make("all-off", 0, {0, 0});
  auto uniform = Make("uniform", 4, {});
  auto all_four = Make("all-four", 0, {4, 4});
  auto mixed = Make("mixed", 0, {4, 0});
  ASSERT_TRUE(full && all_off && uniform && all_four && mixed);
  EXPECT_EQ(all_four->config().sliding_window, 4);  // every layer windowed: a ring of 4
  EXPECT_EQ(mixed->config().sliding_window, 0);     // one full layer: the cache keeps all
  EXPECT_EQ(mixed->config().WindowOf(0), 4);
  EXPECT_EQ(mixed->config().WindowOf(1), 0);
  EXPECT_EQ(mixed->config().WindowOf(2), 4);

  const size_t n_vocab = static_cast<size_t>(full->config().n_vocab);
  const std::vector<float> l_full = Logits(*full);
  const std::vector<float> l_uniform = Logits(*uniform);
  const std::vector<float> l_mixed = Logits(*mixed);
  EXPECT_TRUE(SameRows(l_full, Logits(*all_off), 0, 12, n_vocab));
  EXPECT_TRUE(SameRows(l_uniform, Logits(*all_four), 0, 12, n_vocab));
  // Within the first 4 positions every window sees everything.
  EXPECT_TRUE(SameRows(l_full, l_uniform, 0, 4, n_vocab));
  EXPECT_TRUE(SameRows(l_full, l_mixed, 0, 4, n_vocab));
  // Beyond, the mixed model is neither.
  EXPECT_FALSE(SameRows(l_full, l_uniform, 11, 12, n_vocab));
  EXPECT_FALSE(SameRows(l_mixed, l_full, 11, 12, n_vocab));
  EXPECT_FALSE(SameRows(l_mixed, l_uniform, 11, 12, n_vocab));
}

TEST_F(LayerWindowsTest, RefusesNegativeOrEmptyWindowLists) {
  auto error_with = [](const std::string& name, std::vector<int32_t> windows) {
    Result<gguf::File> base = gguf::File::Open((*dir_ / "full.gguf").string());
    EXPECT_TRUE(base.ok());
    gguf::Writer w;
    w.CopyMetadata(*base);
    w.SetI32Array("llama.attention.sliding_window", windows);
    for (const gguf::TensorInfo& t : base->tensors()) {
      w.AddTensorBytes(t.name, t.type, t.dims, t.bytes());
    }
    const std::string path = (*dir_ / name).string();
    EXPECT_TRUE(w.Write(path).ok());
    Result<std::shared_ptr<const Model>> m = Model::Load(path);
    return m.ok() ? std::string("loaded") : m.error().message;
  };
  Make("full", 0, {});
  EXPECT_NE(error_with("neg.gguf", {4, -1}).find("a layer's window -1 is negative"),
            std::string::npos);
  EXPECT_NE(error_with("empty.gguf", {}).find("llama.attention.sliding_window is an empty array"),
            std::string::npos);
}

}  // namespace
}  // namespace autan
