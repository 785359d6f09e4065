// llama.cpp's tokenizer test vectors (tests/test-tokenizer-0): every
// ggml-vocab-*.gguf in the shared test data with its .inp/.out files, encoded
// without BOS/EOS and without parsing special tokens.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "formats/gguf.h"
#include "model/vocab_gguf.h"
#include "tokenizer/tokenizer.h"

namespace autan {
namespace {

namespace fs = std::filesystem;

const fs::path kVocabDir = fs::path(AUTAN_TESTDATA) / "vocab";

struct Case {
  std::string input;
  std::vector<int32_t> ids;
};

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The .inp holds inputs each followed by "\n__ggml_vocab_test__\n"; the .out
// one line of ids per input (as test-tokenizer-0.cpp reads them).
std::vector<Case> ReadCases(const fs::path& vocab) {
  const std::string inp = ReadAll(vocab.string() + ".inp");
  const std::string out = ReadAll(vocab.string() + ".out");
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> inputs;
  for (size_t pos = 0; pos < inp.size();) {
    const size_t next = inp.find(sep, pos);
    if (next == std::string::npos) {
      inputs.push_back(inp.substr(pos));
      break;
    }
    inputs.push_back(inp.substr(pos, next - pos));
    pos = next + sep.size();
  }
  std::vector<std::vector<int32_t>> outputs;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream numbers(line);
    std::vector<int32_t> ids;
    for (int32_t id; numbers >> id;) ids.push_back(id);
    outputs.push_back(ids);
  }
  EXPECT_EQ(inputs.size(), outputs.size()) << vocab;
  std::vector<Case> cases;
  for (size_t i = 0; i < std::min(inputs.size(), outputs.size()); ++i) {
    cases.push_back({inputs[i], outputs[i]});
  }
  return cases;
}

std::vector<fs::path> VocabFiles() {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(kVocabDir)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with("ggml-vocab-") && entry.path().extension() == ".gguf") {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

Tokenizer Load(const fs::path& path) {
  Result<gguf::File> file = gguf::File::Open(path.string());
  EXPECT_TRUE(file.ok()) << file.error().message;
  Result<Tokenizer> tokenizer = TokenizerFromGguf(*file);
  EXPECT_TRUE(tokenizer.ok()) << path << ": " << tokenizer.error().message;
  return std::move(tokenizer).value();
}

// llama.cpp's detokenizer undoes the encoder exactly except where a
// byte-level BPE vocabulary cleans spaces before punctuation and apostrophes.
bool RoundTripExpected(const Tokenizer& tokenizer, const std::string& text) {
  if (tokenizer.kind() == VocabKind::kSentencePiece) return true;
  for (const char* pattern : {" ?", " !", " .", " ,", " '"}) {
    if (text.find(pattern) != std::string::npos) return false;
  }
  return true;
}

TEST(VocabVectors, FilesArePresent) { EXPECT_GE(VocabFiles().size(), 2u); }

TEST(VocabVectors, EncodeMatchesLlamaCpp) {
  for (const fs::path& path : VocabFiles()) {
    SCOPED_TRACE(path.filename().string());
    const Tokenizer tokenizer = Load(path);
    const std::vector<Case> cases = ReadCases(path);
    EXPECT_GE(cases.size(), 40u);
    for (const Case& c : cases) {
      EXPECT_EQ(tokenizer.Encode(c.input, {.add_special = false}), c.ids)
          << "input: '" << c.input << "'";
    }
  }
}

TEST(VocabVectors, DecodeRoundTrips) {
  for (const fs::path& path : VocabFiles()) {
    SCOPED_TRACE(path.filename().string());
    const Tokenizer tokenizer = Load(path);
    int checked = 0;
    for (const Case& c : ReadCases(path)) {
      if (!RoundTripExpected(tokenizer, c.input)) continue;
      ++checked;
      EXPECT_EQ(tokenizer.Decode(c.ids), c.input);
      EXPECT_EQ(tokenizer.Decode(tokenizer.Encode(c.input)), c.input) << "with BOS/EOS";
      std::string streamed;
      for (const int32_t id : c.ids) streamed += tokenizer.TokenPiece(id);
      if (tokenizer.kind() == VocabKind::kByteLevelBpe) {
        EXPECT_EQ(streamed, c.input);
      }
    }
    EXPECT_GE(checked, 30);
  }
}

TEST(VocabVectors, LlamaSpmSpecialTokens) {
  const Tokenizer tokenizer = Load(kVocabDir / "ggml-vocab-llama-spm.gguf");
  EXPECT_EQ(tokenizer.kind(), VocabKind::kSentencePiece);
  EXPECT_EQ(tokenizer.n_vocab(), 32000);
  EXPECT_EQ(tokenizer.bos(), 1);
  EXPECT_EQ(tokenizer.eos(), 2);
  EXPECT_EQ(tokenizer.unk(), 0);
  EXPECT_TRUE(tokenizer.add_bos());
  EXPECT_FALSE(tokenizer.add_eos());
  EXPECT_TRUE(tokenizer.IsEndOfGeneration(2));
  EXPECT_FALSE(tokenizer.IsEndOfGeneration(1));
  // "Hello" with and without BOS; 15043 is "▁Hello" in the Llama vocabulary.
  EXPECT_EQ(tokenizer.FindToken("\xE2\x96\x81Hello"), 15043);
  EXPECT_EQ(tokenizer.Encode("Hello"), (std::vector<int32_t>{1, 15043}));
  EXPECT_EQ(tokenizer.Encode("Hello", {.add_special = false}), (std::vector<int32_t>{15043}));
  // Control tokens are text unless parsed; parsed ones also restart the space prefix.
  EXPECT_EQ(tokenizer.Encode("</s>Hello", {.add_special = false, .parse_special = true}),
            (std::vector<int32_t>{2, 15043}));
  EXPECT_NE(tokenizer.Encode("</s>", {.add_special = false}), (std::vector<int32_t>{2}));
  EXPECT_EQ(tokenizer.Decode(std::vector<int32_t>{1, 15043, 2}), "Hello");
  EXPECT_EQ(tokenizer.Decode(std::vector<int32_t>{1, 15043, 2}, {.render_special = true}),
            "<s> Hello</s>");
  EXPECT_EQ(tokenizer.TokenPiece(15043), " Hello");
  EXPECT_EQ(tokenizer.TokenPiece(3 + 0x0A), "\n");  // <0x0A>
  EXPECT_EQ(tokenizer.TokenPiece(2), "");
}

TEST(VocabVectors, Gpt2SpecialTokens) {
  const Tokenizer tokenizer = Load(kVocabDir / "ggml-vocab-gpt-2.gguf");
  EXPECT_EQ(tokenizer.kind(), VocabKind::kByteLevelBpe);
  EXPECT_EQ(tokenizer.n_vocab(), 50257);
  EXPECT_EQ(tokenizer.bos(), 50256);
  EXPECT_EQ(tokenizer.eos(), 50256);
  EXPECT_FALSE(tokenizer.add_bos());
  EXPECT_TRUE(tokenizer.IsEndOfGeneration(50256));
  EXPECT_EQ(tokenizer.FindToken("<|endoftext|>"), 50256);
  // GPT-2 ids known from its published vocabulary: "Hello" 15496, " world" 995.
  EXPECT_EQ(tokenizer.Encode("Hello world"), (std::vector<int32_t>{15496, 995}));
  EXPECT_EQ(tokenizer.Encode("Hello<|endoftext|>", {.parse_special = true}),
            (std::vector<int32_t>{15496, 50256}));
  EXPECT_EQ(tokenizer.TokenPiece(995), " world");
  EXPECT_EQ(tokenizer.Decode(std::vector<int32_t>{15496, 50256}), "Hello");
  EXPECT_EQ(tokenizer.Decode(std::vector<int32_t>{15496, 50256}, {.render_special = true}),
            "Hello<|endoftext|>");
  // llama.cpp's clean-up of spaces before punctuation (pre-tokenizer gpt-2).
  const std::string spaced = "Hello , world ! It 's ok . Is it ?";
  EXPECT_EQ(tokenizer.Decode(tokenizer.Encode(spaced)), "Hello, world! It's ok. Is it?");
}

}  // namespace
}  // namespace autan
