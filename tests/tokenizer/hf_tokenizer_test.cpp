// Hugging Face tokenizer.json: Mistral 7B's vocabulary in that form gives
// mistral-tokenizer-js's ids; a small byte-level file merges by hand-computed
// rules; broken files name the file and field.
#include "tokenizer/hf_tokenizer.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "oracle_files.h"
#include "tokenizer/tokenizer_file.h"

namespace autan {
namespace {

using nlohmann::json;

TEST(HfTokenizerTest, SentencePieceStyleEqualsMistralTokenizerJs) {
  AUTAN_REQUIRE_ORACLE();
  auto t = LoadTokenizerFile((testing_oracle::Oracle().dir / "tokenizer.json").string());
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->n_vocab(), 32000);
  EXPECT_EQ(t->kind(), VocabKind::kSentencePiece);
  std::ifstream in(testing_oracle::Oracle().dir / "spm_expected.json");
  const json expected = json::parse(in);
  ASSERT_GE(expected.size(), 20u);
  for (const json& c : expected) {
    const std::string text = c["text"];
    const std::vector<int32_t> got = t->Encode(text);
    EXPECT_EQ(got, c["ids"].get<std::vector<int32_t>>()) << "text: " << text;
    EXPECT_EQ(t->Decode(got), text);
  }
}

// Byte-level: "a" "b" "c" "Ġ" (space), "ab", "Ġa"; merges "a b" then "Ġ a".
json ByteLevelFile() {
  return {{"added_tokens", json::array({{{"id", 6}, {"content", "<s>"}, {"special", true}}})},
          {"pre_tokenizer",
           {{"type", "Sequence"},
            {"pretokenizers", json::array({{{"type", "Split"},
                                            {"pattern", {{"Regex", R"( ?\p{L}+|\s+)"}}},
                                            {"behavior", "Isolated"}},
                                           {{"type", "ByteLevel"}, {"use_regex", false}}})}}},
          {"post_processor",
           {{"type", "TemplateProcessing"},
            {"single",
             json::array({{{"SpecialToken", {{"id", "<s>"}}}}, {{"Sequence", {{"id", "A"}}}}})}}},
          {"model",
           {{"type", "BPE"},
            {"vocab",
             {{"a", 0},
              {"b", 1},
              {"c", 2},
              {"\xC4\xA0", 3},
              {"ab", 4},
              {"\xC4\xA0"
               "a",
               5}}},
            {"merges", json::array({"a b", json::array({"\xC4\xA0", "a"})})}}}};
}

TEST(HfTokenizerTest, ByteLevelWithSplitPattern) {
  auto spec = VocabSpecFromHfJson(ByteLevelFile().dump(), "tokenizer.json");
  ASSERT_TRUE(spec.ok()) << spec.error().message;
  auto t = Tokenizer::Create(std::move(*spec));
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->kind(), VocabKind::kByteLevelBpe);
  // Words "abc", " ab", " a". "a b" (rank 0) merges before "Ġ a" (rank 1):
  // [ab, c], [Ġ, ab] (no "Ġ ab" merge), and " a" alone is [Ġa].
  EXPECT_EQ(t->Encode("abc ab a"), (std::vector<int32_t>{6, 4, 2, 3, 4, 5}));
  EXPECT_EQ(t->Decode(std::vector<int32_t>{6, 4, 2, 3, 4, 5}), "abc ab a");
  EXPECT_EQ(t->token_type(6), TokenType::kControl);
}

TEST(HfTokenizerTest, BrokenFilesNameFileAndField) {
  struct Case {
    void (*mutate)(json&);
    const char* expected;
  };
  const Case cases[] = {
      {[](json& f) { f["model"]["type"] = "Unigram"; }, "model.type: 'Unigram' is not supported"},
      {[](json& f) { f["model"]["vocab"].erase("c"); }, "model.vocab: no token has id 2"},
      {[](json& f) { f["model"]["vocab"]["c"] = "2"; }, "model.vocab['c']: not an integer id"},
      {[](json& f) { f["model"]["merges"][0] = "ab"; }, "model.merges[0]: 'ab' is not two tokens"},
      {[](json& f) { f["model"]["merges"][1] = 7; }, "model.merges[1]: neither"},
      {[](json& f) { f["model"].erase("merges"); }, "model.merges: missing"},
      {[](json& f) { f["added_tokens"][0]["id"] = "6"; }, "added_tokens[0]: needs an integer id"},
      {[](json& f) { f["model"]["vocab"]["c"] = -4; }, "model.vocab: id -4 of 'c' is out of range"},
      {[](json& f) { f["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "(["; },
       "tokenizer.json: pre_tokenizer Split pattern: regex '([': unterminated"},
  };
  for (const Case& c : cases) {
    json file = ByteLevelFile();
    c.mutate(file);
    auto spec = VocabSpecFromHfJson(file.dump(), "tokenizer.json");
    std::string message = "(accepted)";
    if (!spec.ok()) {
      message = spec.error().message;
    } else if (auto t = Tokenizer::Create(std::move(*spec)); !t.ok()) {
      message = t.error().message;
    }
    EXPECT_NE(message.find(c.expected), std::string::npos) << message;
    EXPECT_TRUE(message.starts_with("tokenizer.json: ")) << message;
  }
  EXPECT_EQ(VocabSpecFromHfJson("{", "tokenizer.json").error().message,
            "tokenizer.json: not valid JSON");
}

}  // namespace
}  // namespace autan
