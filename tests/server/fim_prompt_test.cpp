// Mistral's FIM prompt against mistral-common's recipe (encode_fim of its
// InstructTokenizerV2/V3) run on libsentencepiece, an independent SentencePiece:
//   [BOS, SUFFIX, *encode("☺" + suffix)[2:], PREFIX, *encode(prompt)]
// The vocabulary is Llama's with Mistral's FIM control tokens added, as
// Mistral's v3 SentencePiece vocabulary has them.
#include "server/fim_prompt.h"

#include <gtest/gtest.h>
#include <sentencepiece_processor.h>

#include "formats/gguf.h"
#include "model/vocab_gguf.h"

namespace autan::server {
namespace {

const std::string kTestdata = AUTAN_TESTDATA;

VocabSpec LlamaSpec() {
  Result<gguf::File> file = gguf::File::Open(kTestdata + "/vocab/ggml-vocab-llama-spm.gguf");
  EXPECT_TRUE(file.ok());
  Result<VocabSpec> spec = VocabSpecFromGguf(*file);
  EXPECT_TRUE(spec.ok());
  return *spec;
}

Tokenizer WithFimTokens(VocabSpec spec) {
  for (const char* text : {"[SUFFIX]", "[PREFIX]", "[MIDDLE]"}) {
    spec.tokens.push_back(text);
    spec.scores.push_back(0.0f);
    spec.token_types.push_back(static_cast<int32_t>(TokenType::kControl));
  }
  Result<Tokenizer> tok = Tokenizer::Create(std::move(spec));
  EXPECT_TRUE(tok.ok());
  return *tok;
}

TEST(FimPrompt, FollowsMistralCommonOnSentencePiece) {
  const Tokenizer tok = WithFimTokens(LlamaSpec());
  const int32_t suffix_id = 32000, prefix_id = 32001;
  ASSERT_EQ(tok.FindToken("[SUFFIX]"), suffix_id);
  sentencepiece::SentencePieceProcessor sp;
  ASSERT_TRUE(sp.Load(kTestdata + "/sentencepiece/llama2-tokenizer.model").ok());
  // mistral-common drops the first two ids of "☺" + suffix: they must be the
  // space it stands for and the smiley itself.
  std::vector<int> smiley;
  ASSERT_TRUE(sp.Encode("☺", &smiley).ok());
  ASSERT_EQ(smiley.size(), 2u);

  const std::pair<std::string, std::string> cases[] = {
      {"def fibonacci(n):\n    if n < 2:\n", "\n    return fibonacci(n - 1) + fibonacci(n - 2)\n"},
      {"int main() {", "  return 0;\n}"},
      {"Le cœur a ses raisons", " que la raison ne connaît point."},
      {"x = [1, 2", "]"},
      {"only a prompt", ""},
      {"", "only a suffix"},
  };
  for (const auto& [prompt, suffix] : cases) {
    std::vector<int> s, p;
    ASSERT_TRUE(sp.Encode("☺" + suffix, &s).ok());
    ASSERT_TRUE(sp.Encode(prompt, &p).ok());
    std::vector<int32_t> expected = {1, suffix_id};
    if (!suffix.empty()) expected.insert(expected.end(), s.begin() + 2, s.end());
    expected.push_back(prefix_id);
    expected.insert(expected.end(), p.begin(), p.end());
    Result<std::vector<int32_t>> ids = BuildFimPrompt(tok, prompt, suffix);
    ASSERT_TRUE(ids.ok()) << ids.error().message;
    EXPECT_EQ(*ids, expected) << "prompt '" << prompt << "' suffix '" << suffix << "'";
  }
}

TEST(FimPrompt, NeedsTheControlTokens) {
  Result<Tokenizer> plain = Tokenizer::Create(LlamaSpec());
  ASSERT_TRUE(plain.ok());
  Result<std::vector<int32_t>> ids = BuildFimPrompt(*plain, "a", "b");
  ASSERT_FALSE(ids.ok());
  EXPECT_NE(ids.error().message.find("[SUFFIX]"), std::string::npos) << ids.error().message;

  // The same texts as ordinary tokens do not count.
  VocabSpec spec = LlamaSpec();
  for (const char* text : {"[SUFFIX]", "[PREFIX]"}) {
    spec.tokens.push_back(text);
    spec.scores.push_back(0.0f);
    spec.token_types.push_back(static_cast<int32_t>(TokenType::kNormal));
  }
  Result<Tokenizer> normal = Tokenizer::Create(std::move(spec));
  ASSERT_TRUE(normal.ok());
  EXPECT_FALSE(BuildFimPrompt(*normal, "a", "b").ok());
}

}  // namespace
}  // namespace autan::server
