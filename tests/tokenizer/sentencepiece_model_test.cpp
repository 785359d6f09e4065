// Reading SentencePiece model files (tokenizer.model) without libsentencepiece:
// the pieces and ids equal the library's on the Llama 2 model, the ids on
// Mistral 7B's vocabulary equal mistral-tokenizer-js, and corrupt files give
// errors naming the file and field, never a crash.
#include "tokenizer/sentencepiece_model.h"

#include <gtest/gtest.h>
#include <sentencepiece_processor.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "oracle_files.h"
#include "tokenizer/tokenizer_file.h"

namespace autan {
namespace {

using nlohmann::json;

const std::string kLlama2Model =
    std::string(AUTAN_TESTDATA) + "/sentencepiece/llama2-tokenizer.model";

const std::vector<std::string> kTexts = {"Hello world",
                                         " leading space",
                                         "Ça coûte 12,50 € — l'été",
                                         "我能吞下玻璃而不伤身体。",
                                         "emoji 😀🚀 ❤️",
                                         "tabs\tand\nnewlines\n\n",
                                         "    code(x) { return x; }",
                                         "العربية لغة جميلة"};

// --- a tiny protobuf writer for hand-made models
void Varint(std::string& out, uint64_t v) {
  do {
    uint8_t byte = v & 0x7F;
    v >>= 7;
    if (v) byte |= 0x80;
    out.push_back(static_cast<char>(byte));
  } while (v);
}
std::string Key(uint32_t field, uint32_t wire) {
  std::string out;
  Varint(out, field << 3 | wire);
  return out;
}
std::string Bytes(uint32_t field, const std::string& payload) {
  std::string out = Key(field, 2);
  Varint(out, payload.size());
  return out + payload;
}
std::string VarintField(uint32_t field, int64_t value) {
  std::string out = Key(field, 0);
  Varint(out, static_cast<uint64_t>(value));
  return out;
}
std::string FloatField(uint32_t field, float value) {
  std::string out = Key(field, 5);
  char bytes[4];
  std::memcpy(bytes, &value, 4);  // little-endian host, as the format
  return out + std::string(bytes, 4);
}
std::string Piece(const std::string& text, float score, int type) {
  std::string body = Bytes(1, text) + FloatField(2, score);
  if (type != 1) body += VarintField(3, type);
  return Bytes(1, body);
}

// <unk> <s> </s>, "▁", "a", "b", "▁a" (score -1), "ab" (-2), "▁ab" (-3).
std::string SmallModel(int model_type = 2) {
  std::string m = Piece("<unk>", 0, 2) + Piece("<s>", 0, 3) + Piece("</s>", 0, 3) +
                  Piece("\xE2\x96\x81", -10, 1) + Piece("a", -10, 1) + Piece("b", -10, 1) +
                  Piece(
                      "\xE2\x96\x81"
                      "a",
                      -1, 1) +
                  Piece("ab", -2, 1) +
                  Piece(
                      "\xE2\x96\x81"
                      "ab",
                      -3, 1);
  m += Bytes(2, VarintField(3, model_type) + VarintField(40, 0) + VarintField(41, 1) +
                    VarintField(42, 2) + VarintField(43, -1));
  m += Bytes(3, Bytes(1, "identity") + VarintField(3, 1));
  return m;
}

Result<VocabSpec> Parse(const std::string& bytes) {
  return VocabSpecFromSentencePiece(
      std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), "tokenizer.model");
}

TEST(SentencePieceModelTest, SmallModelByHand) {
  auto spec = Parse(SmallModel());
  ASSERT_TRUE(spec.ok()) << spec.error().message;
  EXPECT_EQ(spec->tokens.size(), 9u);
  EXPECT_EQ(spec->scores[7], -2.0f);
  EXPECT_EQ(spec->token_types[0], 2);
  EXPECT_EQ(spec->pad_id, -1);
  auto t = Tokenizer::Create(std::move(*spec));
  ASSERT_TRUE(t.ok()) << t.error().message;
  // "ab" -> "▁ab": "▁a" (-1) merges before "ab" (-2), then "▁a"+"b" = "▁ab".
  EXPECT_EQ(t->Encode("ab"), (std::vector<int32_t>{1, 8}));
  // "b a": "▁b" and "▁a" pieces: ▁ b ▁a
  EXPECT_EQ(t->Encode("b a", {.add_special = false}), (std::vector<int32_t>{3, 5, 6}));
}

TEST(SentencePieceModelTest, PiecesAndIdsEqualLibsentencepiece) {
  sentencepiece::SentencePieceProcessor sp;
  ASSERT_TRUE(sp.Load(kLlama2Model).ok());
  std::ifstream in(kLlama2Model, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto spec = Parse(bytes);
  ASSERT_TRUE(spec.ok()) << spec.error().message;
  ASSERT_EQ(static_cast<int>(spec->tokens.size()), sp.GetPieceSize());
  for (int id = 0; id < sp.GetPieceSize(); ++id) {
    ASSERT_EQ(spec->tokens[id], sp.IdToPiece(id)) << id;
    ASSERT_EQ(spec->scores[id], sp.GetScore(id)) << id;
    ASSERT_EQ(spec->token_types[id] == 3, sp.IsControl(id)) << id;
    ASSERT_EQ(spec->token_types[id] == 6, sp.IsByte(id)) << id;
  }
  EXPECT_EQ(spec->bos_id, sp.bos_id());
  EXPECT_EQ(spec->eos_id, sp.eos_id());
  auto t = LoadTokenizerFile(kLlama2Model);
  ASSERT_TRUE(t.ok()) << t.error().message;
  for (const std::string& text : kTexts) {
    std::vector<int> want = sp.EncodeAsIds(text);
    want.insert(want.begin(), sp.bos_id());
    const std::vector<int32_t> got = t->Encode(text);
    EXPECT_EQ(std::vector<int>(got.begin(), got.end()), want) << text;
  }
}

TEST(SentencePieceModelTest, IdsEqualMistralTokenizerJs) {
  AUTAN_REQUIRE_ORACLE();
  const std::string model = (testing_oracle::Oracle().dir / "tokenizer.model").string();
  auto t = LoadTokenizerFile(model);
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->n_vocab(), 32000);
  // The written model also loads in libsentencepiece, a third opinion.
  sentencepiece::SentencePieceProcessor sp;
  ASSERT_TRUE(sp.Load(model).ok());
  std::ifstream in(testing_oracle::Oracle().dir / "spm_expected.json");
  const json expected = json::parse(in);
  ASSERT_GE(expected.size(), 20u);
  for (const json& c : expected) {
    const std::string text = c["text"];
    const auto want = c["ids"].get<std::vector<int32_t>>();
    const std::vector<int32_t> got = t->Encode(text);
    EXPECT_EQ(got, want) << "text: " << text;
    std::vector<int> by_sp = sp.EncodeAsIds(text);
    by_sp.insert(by_sp.begin(), 1);
    EXPECT_EQ(std::vector<int>(got.begin(), got.end()), by_sp) << "text: " << text;
    EXPECT_EQ(t->Decode(got), text);
  }
}

TEST(SentencePieceModelTest, TekkenFileByContent) {
  AUTAN_REQUIRE_ORACLE();
  auto t = LoadTokenizerFile((testing_oracle::Oracle().dir / "tekken.json").string());
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->n_vocab(), 131072);
  EXPECT_EQ(t->Encode("Hello, world!"), (std::vector<int32_t>{1, 22177, 1044, 4304, 1033}));
}

TEST(SentencePieceModelTest, CorruptModelsNameFileAndField) {
  struct Case {
    std::string bytes;
    const char* expected;
  };
  const std::string good = SmallModel();
  const Case cases[] = {
      {"", "pieces: none"},
      {SmallModel(1), "trainer_spec.model_type: 1, only BPE (2) is supported"},
      {Bytes(1, Bytes(1, "a") + Bytes(2, "xx")), "pieces[0].score: wire type 2"},
      {Bytes(1, Bytes(1, "a") + VarintField(3, 9)), "pieces[0].type: 9 is not a piece type"},
      {Bytes(1, FloatField(2, 1.0f)), "pieces[0].piece: missing"},
      {Piece("a", 0, 1) + Bytes(2, VarintField(3, 2) + VarintField(41, 7)),
       "trainer_spec.bos_id: 7 is outside"},
      {Piece("a", 0, 1) + Bytes(2, Bytes(41, "x")), "trainer_spec.bos_id: wire type 2"},
      {Key(1, 2) + "\xFF\xFF\xFF\x0F", "pieces[0]: "},
      {good.substr(0, 5), "pieces[0]"},
      {std::string("\x0A\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80", 11),
       "pieces[0]: varint longer than 10 bytes"},
      {Key(1, 3), "pieces[0]: wire type 3 at offset 0, expected length-delimited"},
      {Key(9, 3), "unknown wire type 3"},
      {std::string(1, '\0'), "field number 0"},
  };
  for (const Case& c : cases) {
    auto spec = Parse(c.bytes);
    ASSERT_FALSE(spec.ok()) << c.expected;
    EXPECT_NE(spec.error().message.find(std::string("tokenizer.model: ") + c.expected),
              std::string::npos)
        << spec.error().message;
  }
  // Every truncation of a valid model is an error or a smaller valid model,
  // never a crash (the ASan build checks the reads).
  for (size_t size = 0; size < good.size(); ++size) {
    auto spec = Parse(good.substr(0, size));
    if (spec.ok()) (void)Tokenizer::Create(std::move(*spec));
  }
  // Every single-byte change, likewise.
  for (size_t i = 0; i < good.size(); ++i) {
    for (const uint8_t flip : {0x01, 0x80, 0xFF}) {
      std::string bad = good;
      bad[i] = static_cast<char>(static_cast<uint8_t>(bad[i]) ^ flip);
      auto spec = Parse(bad);
      if (spec.ok()) (void)Tokenizer::Create(std::move(*spec));
    }
  }
}

}  // namespace
}  // namespace autan
