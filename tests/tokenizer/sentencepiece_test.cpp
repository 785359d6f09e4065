// SentencePiece (libsentencepiece) as the oracle for the "llama" tokenizer:
// the Llama-2 model, read through the library itself, must give the same ids
// and the same decoded text as sentencepiece on a multilingual corpus.
#include <gtest/gtest.h>
#include <sentencepiece_processor.h>

#include <chrono>
#include <string>
#include <vector>

#include "formats/gguf.h"
#include "model/vocab_gguf.h"
#include "tokenizer/tokenizer.h"

namespace autan {
namespace {

const std::string kModelPath =
    std::string(AUTAN_TESTDATA) + "/sentencepiece/llama2-tokenizer.model";
const std::string kGgufPath = std::string(AUTAN_TESTDATA) + "/vocab/ggml-vocab-llama-spm.gguf";

// One entry per line of test text; some hold several lines on purpose.
const std::vector<std::string>& Corpus() {
  static const std::vector<std::string> corpus = {
      "",
      " ",
      "  ",
      "     ",
      "\t",
      "\n",
      "\n\n\n",
      " \n \n ",
      "Hello world",
      " Hello world",
      "Hello  world   with    runs     of      spaces",
      "trailing spaces   ",
      "Le cœur a ses raisons que la raison ne connaît point.",
      "Où est la bibliothèque ? « Là-bas », dit-elle, l'œil brillant.",
      "Ça coûte 12,50 € — c'est l'été à Saint-Étienne.",
      "Die Würde des Menschen ist unantastbar. Straße, Größe, Übermaß.",
      "Donaudampfschifffahrtsgesellschaftskapitänsmützenabzeichen",
      "Съешь же ещё этих мягких французских булок, да выпей чаю.",
      "Москва — столица России; ёжик в тумане.",
      "我能吞下玻璃而不伤身体。",
      "中华人民共和国成立于1949年10月1日。",
      "繁體中文與简体中文混合：電腦／电脑",
      "いろはにほへと ちりぬるを わかよたれそ つねならむ",
      "カタカナとひらがなと漢字、そして ｈａｌｆ－ｗｉｄｔｈ ｶﾀｶﾅ",
      "東京スカイツリーは634メートルです。",
      "العربية لغة جميلة، والكتابة من اليمين إلى اليسار.",
      "مرحبا بالعالم 123 ١٢٣٤٥",
      "עברית: שלום עולם",
      "한국어 텍스트: 안녕하세요, 세계!",
      "हिन्दी में पाठ: नमस्ते दुनिया",
      "ไทย: สวัสดีชาวโลก",
      "Ελληνικά: Γειά σου Κόσμε",
      "Emoji: 😀😃😄 🚀 ✅ ❤️ 👍🏽",
      "ZWJ families: 👨‍👩‍👧‍👦 👩🏽‍💻 🏳️‍🌈 🧑‍🤝‍🧑",
      "Flags: 🇫🇷🇩🇪🇯🇵 and keycaps 1️⃣ #️⃣",
      "😶‍🌫️ (multiple emojis concatenated) ✅ (only emoji that has its own token)",
      "int main() {\n\tprintf(\"hello\\n\");\n\treturn 0;\n}\n",
      "def f(x):\n    if x > 0:\n        return x * 2\n    return -x\n",
      "\t\tdeeply\n\t\t\tindented\n\t\t\t\tcode",
      "    four spaces\n        eight spaces\n\ttab",
      "for (int i = 0; i < n; ++i) { sum += a[i] * b[i]; }",
      "<html><body class=\"main\">&amp; &lt;tag&gt;</body></html>",
      "{\"key\": [1, 2.5, -3e10, null, true], \"nested\": {\"a\": \"b\"}}",
      "https://example.com/path?query=1&other=two#anchor",
      "user@example.org, +33 1 23 45 67 89",
      "0123456789",
      "3.14159265358979323846264338327950288419716939937510",
      "1 22 333 4444 55555 666666 7777777 88888888",
      "Numbers: 1,000,000.00 and 1.000.000,00 and 10^9",
      "e\xCC\x81 vs \xC3\xA9 (combining acute vs precomposed)",
      "Z\xCD\x8C\xCD\x86"
      "a\xCC\x8D\xCC\x9Al\xCD\x9Dg\xCD\x8Bo text with stacked marks",
      "\xE1\xB8\x8B\xCC\xA3 q\xCC\x87\xCC\xA3 Vietnamese: Tiếng Việt có dấu",
      "Zero\xE2\x80\x8Bwidth\xE2\x80\x8Cjoiners\xE2\x80\x8D and BOM \xEF\xBB\xBF here",
      "No-break\xC2\xA0space and ideographic\xE3\x80\x80space",
      "Replacement char \xEF\xBF\xBD and private use \xEE\x80\x80 and U+FFFF \xEF\xBF\xBF",
      "Astral: \xF0\x9D\x90\x80\xF0\x9D\x90\x81 \xF4\x8F\xBF\xBF (U+10FFFF)",
      "Math: ∀x ∈ ℝ, x² ≥ 0; ∑ᵢ aᵢ ≈ ∫ f(x) dx ≠ ∞",
      "Currency: $ € £ ¥ ₹ ₽ ₿",
      "Quotes: “double” ‘single’ „low“ ‹angle› «guillemets»",
      "Dashes: - – — ― and ellipsis…",
      "ALL CAPS SHOUTING AND MiXeD cAsE",
      "don't won't it's we're they've I'm you'll he'd",
      "Mr. O'Neil's cat's toy.",
      "<s> and </s> and <unk> appear as plain text",
      "[INST] What is the capital of France? [/INST]",
      "Line one\r\nLine two\rLine three\n",
      "\x01\x02\x7F control bytes",
      "a\nb\nc\nd\ne\nf\n",
      "Mixed: English, français, Deutsch, русский, 中文, 日本語, العربية.",
      "The quick brown fox jumps over the lazy dog. " +
          std::string("Pack my box with five dozen liquor jugs."),
  };
  return corpus;
}

class SentencePieceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    processor_ = new sentencepiece::SentencePieceProcessor();
    const auto status = processor_->Load(kModelPath);
    ASSERT_TRUE(status.ok()) << status.ToString();
  }
  static void TearDownTestSuite() {
    delete processor_;
    processor_ = nullptr;
  }

  // The vocabulary as sentencepiece reports it.
  static VocabSpec SpecFromProcessor(const sentencepiece::SentencePieceProcessor& sp) {
    VocabSpec spec;
    spec.model = "llama";
    for (int id = 0; id < sp.GetPieceSize(); ++id) {
      spec.tokens.push_back(sp.IdToPiece(id));
      spec.scores.push_back(sp.GetScore(id));
      TokenType type = TokenType::kNormal;
      if (sp.IsUnknown(id)) type = TokenType::kUnknown;
      if (sp.IsControl(id)) type = TokenType::kControl;
      if (sp.IsUnused(id)) type = TokenType::kUnused;
      if (sp.IsByte(id)) type = TokenType::kByte;
      spec.token_types.push_back(static_cast<int32_t>(type));
    }
    spec.bos_id = sp.bos_id();
    spec.eos_id = sp.eos_id();
    spec.unk_id = sp.unk_id();
    spec.pad_id = sp.pad_id();
    return spec;
  }

  static Tokenizer FromProcessor() {
    Result<Tokenizer> t = Tokenizer::Create(SpecFromProcessor(*processor_));
    EXPECT_TRUE(t.ok()) << t.error().message;
    return std::move(t).value();
  }

  static sentencepiece::SentencePieceProcessor* processor_;
};

sentencepiece::SentencePieceProcessor* SentencePieceTest::processor_ = nullptr;

TEST_F(SentencePieceTest, CorpusIsLargeEnough) { EXPECT_GE(Corpus().size(), 60u); }

TEST_F(SentencePieceTest, EncodeMatchesSentencePiece) {
  const Tokenizer tokenizer = FromProcessor();
  for (const std::string& text : Corpus()) {
    const std::vector<int> expected = processor_->EncodeAsIds(text);
    const std::vector<int32_t> ids = tokenizer.Encode(text, {.add_special = false});
    EXPECT_EQ(ids, std::vector<int32_t>(expected.begin(), expected.end())) << "text: " << text;
  }
}

TEST_F(SentencePieceTest, DecodeMatchesSentencePiece) {
  const Tokenizer tokenizer = FromProcessor();
  for (const std::string& text : Corpus()) {
    std::vector<int> ids = processor_->EncodeAsIds(text);
    const std::vector<int32_t> ours(ids.begin(), ids.end());
    EXPECT_EQ(tokenizer.Decode(ours), processor_->DecodeIds(ids)) << "text: " << text;
    // Text without "\r" or other normalised characters comes back unchanged.
    EXPECT_EQ(tokenizer.Decode(tokenizer.Encode(text)), processor_->DecodeIds(ids));
    ids.insert(ids.begin(), processor_->bos_id());
    ids.push_back(processor_->eos_id());
    const std::vector<int32_t> with_special(ids.begin(), ids.end());
    EXPECT_EQ(tokenizer.Decode(with_special), processor_->DecodeIds(ids)) << "text: " << text;
  }
}

TEST_F(SentencePieceTest, PiecesConcatenateToTheText) {
  const Tokenizer tokenizer = FromProcessor();
  for (const std::string& text : Corpus()) {
    std::string streamed;
    for (const int32_t id : tokenizer.Encode(text, {.add_special = false})) {
      streamed += tokenizer.TokenPiece(id);
    }
    // The encoder puts one space in front (add_space_prefix).
    EXPECT_EQ(streamed, text.empty() ? "" : " " + text);
  }
}

TEST_F(SentencePieceTest, GgufVocabularyIsTheSame) {
  Result<gguf::File> file = gguf::File::Open(kGgufPath);
  ASSERT_TRUE(file.ok()) << file.error().message;
  Result<VocabSpec> gguf_spec = VocabSpecFromGguf(*file);
  ASSERT_TRUE(gguf_spec.ok()) << gguf_spec.error().message;
  const VocabSpec sp_spec = SpecFromProcessor(*processor_);
  ASSERT_EQ(gguf_spec->tokens.size(), sp_spec.tokens.size());
  EXPECT_EQ(gguf_spec->tokens, sp_spec.tokens);
  EXPECT_EQ(gguf_spec->scores, sp_spec.scores);
  EXPECT_EQ(gguf_spec->token_types, sp_spec.token_types);
  EXPECT_EQ(gguf_spec->bos_id, sp_spec.bos_id);
  EXPECT_EQ(gguf_spec->eos_id, sp_spec.eos_id);
  EXPECT_EQ(gguf_spec->unk_id, sp_spec.unk_id);

  Result<Tokenizer> from_gguf = Tokenizer::Create(std::move(gguf_spec).value());
  ASSERT_TRUE(from_gguf.ok()) << from_gguf.error().message;
  for (const std::string& text : Corpus()) {
    const std::vector<int> expected = processor_->EncodeAsIds(text);
    EXPECT_EQ(from_gguf->Encode(text, {.add_special = false}),
              std::vector<int32_t>(expected.begin(), expected.end()))
        << "text: " << text;
  }
}

TEST_F(SentencePieceTest, EncodesLargeTextQuickly) {
  const Tokenizer tokenizer = FromProcessor();
  std::string text;
  while (text.size() < 100 * 1024) {
    for (const std::string& line : Corpus()) text += line + "\n";
  }
  const auto start = std::chrono::steady_clock::now();
  const std::vector<int32_t> ids = tokenizer.Encode(text, {.add_special = false});
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const std::vector<int> expected = processor_->EncodeAsIds(text);
  EXPECT_EQ(ids, std::vector<int32_t>(expected.begin(), expected.end()));
#if defined(__SANITIZE_ADDRESS__)
  constexpr double kLimit = 10.0;  // instrumented build
#else
  constexpr double kLimit = 1.0;
#endif
  EXPECT_LT(seconds, kLimit) << text.size() << " bytes";
  RecordProperty("encode_100k_ms", static_cast<int>(seconds * 1000));
}

}  // namespace
}  // namespace autan
