// Reading a vocabulary from GGUF metadata: vocabulary-only files work, and
// missing or inconsistent keys are reported by name.
#include "model/vocab_gguf.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/mapped_file.h"
#include "formats/gguf.h"
#include "formats/gguf_writer.h"

namespace autan {
namespace {

// A vocabulary-only "llama" file: no tensors, just tokenizer.ggml.* keys.
gguf::Writer SpmWriter() {
  gguf::Writer w;
  w.SetString("general.architecture", "llama");
  w.SetString("tokenizer.ggml.model", "llama");
  w.SetStringArray("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>", "\xE2\x96\x81", "a", "b",
                                             "\xE2\x96\x81"
                                             "a",
                                             "ab"});
  const std::vector<float> scores = {0, 0, 0, -1, -2, -2, -3, -1};
  w.SetF32Array("tokenizer.ggml.scores", scores);
  const std::vector<int32_t> types = {2, 3, 3, 1, 1, 1, 1, 1};
  w.SetI32Array("tokenizer.ggml.token_type", types);
  w.SetU32("tokenizer.ggml.bos_token_id", 1);
  w.SetU32("tokenizer.ggml.eos_token_id", 2);
  w.SetU32("tokenizer.ggml.unknown_token_id", 0);
  return w;
}

Result<gguf::File> Parse(const gguf::Writer& w) {
  Result<std::vector<uint8_t>> bytes = w.Serialize();
  EXPECT_TRUE(bytes.ok()) << bytes.error().message;
  return gguf::File::Parse(MappedFile::FromBytes(*bytes, "vocab.gguf"));
}

std::string ErrorOf(const gguf::Writer& w) {
  Result<gguf::File> file = Parse(w);
  EXPECT_TRUE(file.ok()) << file.error().message;
  Result<Tokenizer> t = TokenizerFromGguf(*file);
  return t.ok() ? std::string() : t.error().message;
}

TEST(VocabGguf, ReadsAVocabularyOnlyFile) {
  gguf::Writer w = SpmWriter();
  w.SetBool("tokenizer.ggml.add_eos_token", true);
  Result<gguf::File> file = Parse(w);
  ASSERT_TRUE(file.ok()) << file.error().message;
  EXPECT_TRUE(file->tensors().empty());
  Result<Tokenizer> t = TokenizerFromGguf(*file);
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->n_vocab(), 8);
  // "▁ab": ab (-1) beats ▁a (-3).
  EXPECT_EQ(t->Encode("ab"), (std::vector<int32_t>{1, 3, 7, 2}));
  EXPECT_TRUE(t->add_eos());
}

TEST(VocabGguf, ReadsFlagsAndIds) {
  gguf::Writer w = SpmWriter();
  w.SetBool("tokenizer.ggml.add_space_prefix", false);
  w.SetBool("tokenizer.ggml.add_bos_token", false);
  w.SetU32("tokenizer.ggml.padding_token_id", 0);
  w.SetU32("tokenizer.ggml.eot_token_id", 2);
  Result<gguf::File> file = Parse(w);
  ASSERT_TRUE(file.ok());
  Result<VocabSpec> spec = VocabSpecFromGguf(*file);
  ASSERT_TRUE(spec.ok()) << spec.error().message;
  EXPECT_EQ(spec->add_space_prefix, false);
  EXPECT_EQ(spec->add_bos, false);
  EXPECT_FALSE(spec->add_eos.has_value());
  EXPECT_EQ(spec->pad_id, 0);
  EXPECT_EQ(spec->eot_id, 2);
  EXPECT_EQ(spec->pre, "default");
  Result<Tokenizer> t = Tokenizer::Create(std::move(spec).value());
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->Encode("ab"), (std::vector<int32_t>{7}));
}

TEST(VocabGguf, NamesMissingAndInconsistentKeys) {
  gguf::Writer w = SpmWriter();
  w.Remove("tokenizer.ggml.model");
  EXPECT_NE(ErrorOf(w).find("tokenizer.ggml.model"), std::string::npos);

  w = SpmWriter();
  w.Remove("tokenizer.ggml.tokens");
  EXPECT_NE(ErrorOf(w).find("tokenizer.ggml.tokens"), std::string::npos);

  w = SpmWriter();
  const std::vector<float> short_scores = {0, 0, 0};
  w.SetF32Array("tokenizer.ggml.scores", short_scores);
  EXPECT_NE(ErrorOf(w).find("tokenizer.ggml.scores has 3 entries"), std::string::npos);

  w = SpmWriter();
  const std::vector<int32_t> long_types(9, 1);
  w.SetI32Array("tokenizer.ggml.token_type", long_types);
  EXPECT_NE(ErrorOf(w).find("tokenizer.ggml.token_type has 9 entries"), std::string::npos);

  w = SpmWriter();
  w.SetString("tokenizer.ggml.bos_token_id", "one");
  EXPECT_NE(ErrorOf(w).find("tokenizer.ggml.bos_token_id"), std::string::npos);

  w = SpmWriter();
  w.SetU32("tokenizer.ggml.eos_token_id", 8);
  EXPECT_NE(ErrorOf(w).find("EOS token 8"), std::string::npos);

  w = SpmWriter();
  w.SetString("tokenizer.ggml.model", "gpt2");
  EXPECT_NE(ErrorOf(w).find("tokenizer.ggml.merges"), std::string::npos);

  w = SpmWriter();
  w.SetString("tokenizer.ggml.model", "gpt2");
  w.SetStringArray("tokenizer.ggml.merges", {"a b"});
  w.SetString("tokenizer.ggml.pre", "unheard-of");
  EXPECT_NE(ErrorOf(w).find("unheard-of"), std::string::npos);

  w = SpmWriter();
  w.SetString("tokenizer.ggml.model", "t5");
  EXPECT_NE(ErrorOf(w).find("'t5'"), std::string::npos);
}

}  // namespace
}  // namespace autan
