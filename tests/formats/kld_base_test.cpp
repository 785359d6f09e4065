// KL-divergence base files (llama-perplexity's layout): what the writer puts
// down reads back exactly, and damaged files are refused with a message
// naming the problem and where.
#include "formats/kld_base.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace autan::kld_base {
namespace {

namespace fs = std::filesystem;

constexpr int32_t kCtx = 6;  // 2 scored positions per chunk (3 and 4)
constexpr int32_t kVocab = 5;

class KldBaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("autan-kld-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  // Two chunks; row r of the file has scale r + 1, minimum -(r + 1), codes 100 * r + i.
  std::vector<uint8_t> WriteValid(const std::string& path) const {
    std::vector<int32_t> tokens(2 * kCtx);
    for (size_t i = 0; i < tokens.size(); ++i) tokens[i] = static_cast<int32_t>(i % kVocab);
    auto w = Writer::Create(path, kCtx, kVocab, 2, tokens);
    EXPECT_TRUE(w.ok()) << w.error().message;
    for (int chunk = 0; chunk < 2; ++chunk) {
      std::vector<uint16_t> rows;
      for (int r = 0; r < ScoredPerChunk(kCtx); ++r) {
        const int n = chunk * ScoredPerChunk(kCtx) + r;
        const float scale = static_cast<float>(n + 1), min = -static_cast<float>(n + 1);
        uint16_t words[4];
        std::memcpy(words, &scale, 4);
        std::memcpy(words + 2, &min, 4);
        rows.insert(rows.end(), words, words + 4);
        for (size_t i = 0; i < RowWords(kVocab) - 4; ++i) {
          rows.push_back(static_cast<uint16_t>(100 * n + i));
        }
      }
      EXPECT_TRUE((*w)->Append(rows).ok());
    }
    EXPECT_TRUE((*w)->Finish().ok());
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  std::string Refusal(const std::vector<uint8_t>& bytes) const {
    const std::string path = Path("bad.kld");
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()),
               static_cast<std::streamsize>(bytes.size()));
    Result<File> f = File::Open(path);
    return f.ok() ? "" : f.error().message;
  }
  template <typename T>
  static void Put(std::vector<uint8_t>& bytes, size_t offset, T v) {
    std::memcpy(bytes.data() + offset, &v, sizeof(v));
  }

  fs::path dir_;
};

TEST_F(KldBaseTest, WrittenFileReadsBack) {
  const std::vector<uint8_t> bytes = WriteValid(Path("a.kld"));
  // Header, 12 tokens, 4 rows of 2 floats + 6 codes (5 padded to 6).
  EXPECT_EQ(bytes.size(), 20u + 12 * 4 + 4 * (4 + 6) * 2);
  EXPECT_EQ(0, std::memcmp(bytes.data(), "_logits_", 8));
  Result<File> f = File::Open(Path("a.kld"));
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(f->n_ctx(), kCtx);
  EXPECT_EQ(f->n_vocab(), kVocab);
  EXPECT_EQ(f->n_chunks(), 2);
  ASSERT_EQ(f->tokens().size(), 12u);
  EXPECT_EQ(f->tokens()[7], 2);
  const Row r = f->row(1, 1);  // the fourth row
  EXPECT_EQ(r.scale, 4.0f);
  EXPECT_EQ(r.min_log_prob, -4.0f);
  EXPECT_EQ(r.q[2], 302);
  EXPECT_EQ(r.LogProb(2), 4.0f * 302 - 4.0f);
}

TEST_F(KldBaseTest, DamagedFilesAreRefusedByName) {
  const std::vector<uint8_t> good = WriteValid(Path("a.kld"));
  std::vector<uint8_t> b = good;
  b[0] = 'X';
  EXPECT_NE(Refusal(b).find("magic"), std::string::npos);
  b = good;
  b.pop_back();
  EXPECT_NE(Refusal(b).find("truncated"), std::string::npos);
  b = good;
  b.push_back(0);
  EXPECT_NE(Refusal(b).find("make 148"), std::string::npos);
  b = good;
  Put<int32_t>(b, 12, 0);
  EXPECT_NE(Refusal(b).find("n_vocab 0 at offset 12"), std::string::npos);
  b = good;
  Put<uint32_t>(b, 8, 2);
  EXPECT_NE(Refusal(b).find("n_ctx 2 at offset 8"), std::string::npos);
  b = good;
  Put<int32_t>(b, 16, 1 << 24);
  EXPECT_NE(Refusal(b).find("bytes, but"), std::string::npos);
  b = good;
  Put<int32_t>(b, 20 + 4 * 3, kVocab);
  EXPECT_NE(Refusal(b).find("token 5 at offset 32"), std::string::npos);
  b = good;
  Put<float>(b, 20 + 12 * 4 + 20, std::nanf(""));  // the second row's scale
  EXPECT_NE(Refusal(b).find("row 1 at offset 88"), std::string::npos);
  EXPECT_NE(Refusal({'_', 'l'}).find("too short"), std::string::npos);
}

TEST_F(KldBaseTest, WriterChecksWhatItIsGiven) {
  const std::vector<int32_t> tokens(kCtx, 1);
  EXPECT_FALSE(Writer::Create(Path("b.kld"), kCtx, kVocab, 2, tokens).ok());
  auto w = Writer::Create(Path("b.kld"), kCtx, kVocab, 1, tokens);
  ASSERT_TRUE(w.ok());
  EXPECT_FALSE((*w)->Append(std::vector<uint16_t>(3)).ok());
  Status s = (*w)->Finish();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("0 of 1 chunks"), std::string::npos);
  EXPECT_FALSE(Writer::Create(Path("no/such/dir.kld"), kCtx, kVocab, 1, tokens).ok());
}

}  // namespace
}  // namespace autan::kld_base
