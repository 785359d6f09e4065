// Word splits of the byte-level BPE pre-tokenizers, worked out by hand from
// the expressions in the original tokenizer.json files (and llama.cpp's
// documented adaptations of them).
#include "tokenizer/pretokenize.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tokenizer/unicode.h"

namespace autan {
namespace {

// Words as raw text (the splitter returns them in the byte-level alphabet).
std::vector<std::string> Words(std::string_view pre, std::string_view text) {
  Result<PreTokenizer> p = PreTokenizer::Create(pre);
  EXPECT_TRUE(p.ok()) << p.error().message;
  std::vector<std::string> words;
  p->Split(text, words);
  std::vector<std::string> raw;
  for (const std::string& word : words) {
    std::string bytes;
    size_t offset = 0;
    while (offset < word.size()) {
      const int byte = unicode::CodepointToByte(unicode::DecodeOne(word, offset));
      EXPECT_GE(byte, 0) << "not in the byte alphabet: " << word;
      bytes.push_back(static_cast<char>(byte));
    }
    raw.push_back(bytes);
  }
  return raw;
}

using V = std::vector<std::string>;

TEST(ByteAlphabet, MatchesGpt2) {
  // From GPT-2's bytes_to_unicode: printable bytes map to themselves, the
  // rest to U+0100 onwards in byte order (space is U+0120 'Ġ', '\n' U+010A 'Ċ').
  EXPECT_EQ(unicode::ByteToCodepoint('a'), static_cast<uint32_t>('a'));
  EXPECT_EQ(unicode::ByteToCodepoint(0x00), 0x100u);
  EXPECT_EQ(unicode::ByteToCodepoint('\n'), 0x10Au);
  EXPECT_EQ(unicode::ByteToCodepoint(' '), 0x120u);
  EXPECT_EQ(unicode::ByteToCodepoint(0x7F), 0x121u);
  EXPECT_EQ(unicode::ByteToCodepoint(0xAD), 0x143u);
  EXPECT_EQ(unicode::ByteToCodepoint(0xFF), 0xFFu);
  for (int b = 0; b < 256; ++b) {
    EXPECT_EQ(unicode::CodepointToByte(unicode::ByteToCodepoint(static_cast<uint8_t>(b))), b);
  }
  EXPECT_EQ(unicode::CodepointToByte(0x144), -1);
  EXPECT_EQ(unicode::CodepointToByte(' '), -1);
}

TEST(Utf8, DecodesLeniently) {
  // Truncated and stray bytes become U+FFFD one byte at a time.
  EXPECT_EQ(unicode::DecodeLenient("a\xC3"), (std::vector<uint32_t>{'a', 0xFFFD}));
  EXPECT_EQ(unicode::DecodeLenient("\x80\xFF"), (std::vector<uint32_t>{0xFFFD, 0xFFFD}));
  EXPECT_EQ(unicode::DecodeLenient("\xE2\x82x"), (std::vector<uint32_t>{0xFFFD, 0xFFFD, 'x'}));
  EXPECT_EQ(unicode::DecodeLenient("\xC3\xA9\xF0\x9F\x98\x80"),
            (std::vector<uint32_t>{0xE9, 0x1F600}));
  std::string out;
  unicode::AppendUtf8(0x1F600, out);
  EXPECT_EQ(out, "\xF0\x9F\x98\x80");
}

TEST(PreTokenizer, Gpt2) {
  EXPECT_EQ(Words("gpt-2", "Hello world's  123abc\n\n x"),
            (V{"Hello", " world", "'s", " ", " 123", "abc", "\n\n", " x"}));
  EXPECT_EQ(Words("gpt-2", "I'M here\tnow  "), (V{"I", "'", "M", " here", "\t", "now", "  "}));
  EXPECT_EQ(Words("gpt-2", ""), V{});
}

TEST(PreTokenizer, Llama3) {
  EXPECT_EQ(Words("llama-bpe", "12345 don'T"), (V{"123", "45", " don", "'T"}));
  EXPECT_EQ(Words("llama3", "\n\n  hi!!\n"), (V{"\n\n", " ", " hi", "!!\n"}));
}

TEST(PreTokenizer, Qwen2SplitsEveryDigit) {
  EXPECT_EQ(Words("qwen2", "x12345"), (V{"x", "1", "2", "3", "4", "5"}));
}

TEST(PreTokenizer, DefaultChainsFourExpressions) {
  EXPECT_EQ(Words("default", "Hello, world!!! 12345"),
            (V{"Hello", ",", " world", "!!!", " ", "123", "45"}));
  EXPECT_EQ(Words("", "a1"), (V{"a", "1"}));  // no name: "default"
}

TEST(PreTokenizer, Tekken) {
  EXPECT_EQ(Words("tekken", "HelloWorld ABCdef"), (V{"Hello", "World", " ABCdef"}));
  EXPECT_EQ(Words("tekken", "a1234"), (V{"a", "1", "2", "3", "4"}));
  EXPECT_EQ(Words("tekken", "path/to\n"), (V{"path", "/to", "\n"}));
}

TEST(PreTokenizer, DeepseekCoder) {
  EXPECT_EQ(Words("deepseek-coder", "x = 12\n"), (V{"x", " = ", "1", "2", "\n"}));
}

TEST(PreTokenizer, FalconAndStarcoder) {
  EXPECT_EQ(Words("falcon", "a+b=100000"), (V{"a", "+", "b", "=", "100", "000"}));
  EXPECT_EQ(Words("starcoder", "abc123 x"), (V{"abc", "1", "2", "3", " x"}));
  EXPECT_EQ(Words("refact", "abc123"), (V{"abc", "1", "2", "3"}));
  EXPECT_EQ(Words("mpt", "abc123"), (V{"abc", "123"}));
}

TEST(PreTokenizer, Bloom) {
  EXPECT_EQ(Words("bloom", "Hello, world. Bye"), (V{"Hello", ",", " world", ".", " Bye"}));
}

TEST(PreTokenizer, NonAsciiWhitespaceIsWhitespace) {
  // U+3000 is \s but not the literal space of " ?\p{L}+".
  EXPECT_EQ(Words("gpt-2",
                  "a\xE3\x80\x80"
                  "b"),
            (V{"a", "\xE3\x80\x80", "b"}));
  EXPECT_EQ(Words("gpt-2",
                  "a\xE3\x80\x80\xE3\x80\x80"
                  "b"),
            (V{"a", "\xE3\x80\x80", "\xE3\x80\x80", "b"}));
}

TEST(PreTokenizer, InvalidUtf8BecomesReplacementCharacter) {
  EXPECT_EQ(Words("gpt-2",
                  "a\xFF"
                  "b"),
            (V{"a", "\xEF\xBF\xBD", "b"}));
}

TEST(PreTokenizer, KnowsUnicode15Letters) {
  // U+31350 (CJK Extension H, Unicode 15) is a letter: it joins the word.
  EXPECT_EQ(Words("llama-bpe", "a\xF0\xB1\x8D\x90"), (V{"a\xF0\xB1\x8D\x90"}));
  // U+1FA75 (Unicode 15 emoji) is a symbol; U+1E4F0 (Nag Mundari digit) a number.
  EXPECT_EQ(Words("qwen2", "\xF0\x9E\x93\xB0\xF0\x9E\x93\xB1"),
            (V{"\xF0\x9E\x93\xB0", "\xF0\x9E\x93\xB1"}));
}

TEST(PreTokenizer, DeepseekV3TildeIsNotASymbol) {
  // llama.cpp's \p{S} leaves out '~'; the first '~' therefore matches nothing.
  EXPECT_EQ(Words("deepseek-v3", "~~abc"), (V{"~", "~abc"}));
  EXPECT_EQ(Words("deepseek-v3", "1234"), (V{"123", "4"}));
}

TEST(PreTokenizer, LongInputsDoNotExhaustTheMatcher) {
  const std::string letters(200000, 'a');
  EXPECT_EQ(Words("tekken", letters), V{letters});
  const std::string spaces(200000, ' ');
  EXPECT_EQ(Words("llama3", spaces + "x"), (V{spaces.substr(1), " x"}));
}

TEST(PreTokenizer, RejectsUnknownNames) {
  Result<PreTokenizer> p = PreTokenizer::Create("no-such-pre");
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().message.find("no-such-pre"), std::string::npos);
  EXPECT_FALSE(PreTokenizer::Create("gpt2").ok());  // llama.cpp's name is "gpt-2"
}

TEST(PreTokenizer, KnowsEveryLlamaCppName) {
  for (const char* name :
       {"default",      "llama3",         "llama-v3",     "llama-bpe",  "falcon3",
        "deepseek-llm", "deepseek-coder", "deepseek-v3",  "falcon",     "mpt",
        "starcoder",    "gpt-2",          "phi-2",        "jina-es",    "jina-de",
        "gigachat",     "jina-v1-en",     "jina-v2-es",   "jina-v2-de", "jina-v2-code",
        "roberta-bpe",  "refact",         "command-r",    "qwen2",      "deepseek-r1-qwen",
        "stablelm2",    "olmo",           "dbrx",         "smaug-bpe",  "poro-chat",
        "chatglm-bpe",  "viking",         "jais",         "tekken",     "smollm",
        "codeshell",    "bloom",          "gpt3-finnish", "exaone",     "chameleon",
        "minerva-7b",   "megrez"}) {
    EXPECT_TRUE(PreTokenizer::Create(name).ok()) << name;
  }
  EXPECT_TRUE(PreTokenizer::Create("llama-bpe")->traits().ignore_merges);
  EXPECT_TRUE(PreTokenizer::Create("llama-bpe")->traits().add_bos);
  EXPECT_TRUE(PreTokenizer::Create("gpt-2")->traits().clean_spaces);
  EXPECT_FALSE(PreTokenizer::Create("qwen2")->traits().clean_spaces);
  EXPECT_FALSE(PreTokenizer::Create("chatglm-bpe")->traits().default_bos);
}

TEST(PortRegex, RewritesWhitespaceAndCategories) {
  EXPECT_EQ(*PortRegex(R"(\s+(?!\S))"), R"([\x09-\x0d\x20]+(?![^\x09-\x0d\x20]))");
  EXPECT_EQ(*PortRegex(R"([^\s\p{C}])"), R"([^\x09-\x0d\x20\p{C}])");
  const std::string letters = *PortRegex(R"(\p{L})");
  EXPECT_EQ(letters.substr(0, 6), R"([\p{L})");
  EXPECT_NE(letters.find(R"(\x{2EBF0}-\x{2EE5D})"), std::string::npos);
  EXPECT_EQ(letters.back(), ']');
  EXPECT_EQ(*PortRegex(R"([]a\]])"), R"([]a\]])");
  EXPECT_FALSE(PortRegex(R"([\S])").ok());
  EXPECT_FALSE(PortRegex("[abc").ok());
}

}  // namespace
}  // namespace autan
