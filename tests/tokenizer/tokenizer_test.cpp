// Tokenizer behaviour on small hand-made vocabularies, with the expected ids
// worked out by hand from the merge rules.
#include "tokenizer/tokenizer.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "tokenizer/unicode.h"

namespace autan {
namespace {

using Ids = std::vector<int32_t>;

constexpr int32_t kByte0 = 4;  // <0x00> in the SentencePiece vocabulary below

// 0 <unk>, 1 <s>, 2 </s>, 3 [INST] (user-defined), 4..259 <0x00>..<0xFF>,
// then pieces with scores (higher merges first).
VocabSpec SmallSpm() {
  VocabSpec spec;
  spec.model = "llama";
  const auto add = [&](std::string text, float score, TokenType type) {
    spec.tokens.push_back(std::move(text));
    spec.scores.push_back(score);
    spec.token_types.push_back(static_cast<int32_t>(type));
  };
  add("<unk>", 0, TokenType::kUnknown);
  add("<s>", 0, TokenType::kControl);
  add("</s>", 0, TokenType::kControl);
  add("[INST]", 0, TokenType::kUserDefined);
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    add(name, 0, TokenType::kByte);
  }
  add("\xE2\x96\x81", -1, TokenType::kNormal);  // 260 "▁"
  add("a", -2, TokenType::kNormal);             // 261
  add("b", -2, TokenType::kNormal);             // 262
  add("c", -2, TokenType::kNormal);             // 263
  add("ab", -3, TokenType::kNormal);            // 264
  add("bc", -1, TokenType::kNormal);            // 265
  add("\xE2\x96\x81"
      "a",
      -4, TokenType::kNormal);               // 266 "▁a"
  add("abc", -5, TokenType::kNormal);        // 267
  add("xyz", 0, TokenType::kControl);        // 268
  add("wx", 0, TokenType::kControl);         // 269
  add("<|im_end|>", 0, TokenType::kNormal);  // 270: made control by its text
  return spec;
}

Tokenizer Make(VocabSpec spec) {
  Result<Tokenizer> t = Tokenizer::Create(std::move(spec));
  EXPECT_TRUE(t.ok()) << t.error().message;
  return std::move(t).value();
}

constexpr EncodeOptions kPlain{.add_special = false};
constexpr EncodeOptions kParse{.add_special = false, .parse_special = true};

TEST(SpmTokenizer, MergesByScore) {
  const Tokenizer t = Make(SmallSpm());
  // "▁abc": bc (-1) first, then ▁a (-4); "▁abc" and "abc" from there are not
  // reachable pairs of the remaining symbols.
  EXPECT_EQ(t.Encode("abc", kPlain), (Ids{266, 265}));
  // "▁ab": ab (-3) beats ▁a (-4).
  EXPECT_EQ(t.Encode("ab", kPlain), (Ids{260, 264}));
  EXPECT_EQ(t.Encode("", kPlain), Ids{});
  EXPECT_EQ(t.Encode(""), Ids{1});
  EXPECT_EQ(t.Encode("a"), (Ids{1, 266}));
}

TEST(SpmTokenizer, FallsBackToBytes) {
  const Tokenizer t = Make(SmallSpm());
  EXPECT_EQ(t.Encode("\xC3\xA9", kPlain), (Ids{260, kByte0 + 0xC3, kByte0 + 0xA9}));
  EXPECT_EQ(t.Encode("a\n", kPlain), (Ids{266, kByte0 + '\n'}));
  // A lead byte claims the bytes its sequence would have (0xFF: four), so the
  // "a" after a stray 0xFF is spelled as a byte too, as in llama.cpp.
  EXPECT_EQ(t.Encode("\xFF"
                     "a",
                     kPlain),
            (Ids{260, kByte0 + 0xFF, kByte0 + 'a'}));
  EXPECT_EQ(t.Encode("\x80"
                     "a",
                     kPlain),
            (Ids{260, kByte0 + 0x80, 261}));
}

TEST(SpmTokenizer, UnknownWithoutByteTokens) {
  VocabSpec spec;
  spec.model = "llama";
  spec.tokens = {"<unk>", "<s>", "</s>", "\xE2\x96\x81", "a"};
  spec.token_types = {2, 3, 3, 1, 1};
  const Tokenizer t = Make(spec);
  EXPECT_EQ(t.Encode("a z", kPlain), (Ids{3, 4, 3, 0}));
}

TEST(SpmTokenizer, SpecialTokens) {
  const Tokenizer t = Make(SmallSpm());
  // User-defined tokens are split out even when special tokens are not parsed,
  // and the text after them gets the space prefix again.
  EXPECT_EQ(t.Encode("[INST]ab", kPlain), (Ids{3, 260, 264}));
  // Control tokens only when parsed; otherwise they are text.
  EXPECT_EQ(t.Encode("</s>", kParse), (Ids{2}));
  EXPECT_EQ(t.Encode("</s>", kPlain),
            (Ids{260, kByte0 + '<', kByte0 + '/', kByte0 + 's', kByte0 + '>'}));
  EXPECT_EQ(t.Encode("<s>a", kParse), (Ids{1, 266}));
  // Longer spellings are cut first wherever they occur: "xyz" claims "wxyz"
  // before "wx" is considered (llama.cpp's order, not leftmost-longest).
  EXPECT_EQ(t.Encode("wxyz", kParse), (Ids{260, kByte0 + 'w', 268}));
  EXPECT_EQ(t.Encode("wxab", kParse), (Ids{269, 260, 264}));
}

TEST(SpmTokenizer, FlagsFromTheSpec) {
  VocabSpec spec = SmallSpm();
  spec.add_space_prefix = false;
  spec.add_eos = true;
  spec.add_bos = false;
  const Tokenizer t = Make(spec);
  EXPECT_EQ(t.Encode("ab"), (Ids{264, 2}));
  EXPECT_EQ(t.Decode(Ids{264, 2}), "ab");
}

TEST(SpmTokenizer, Decode) {
  const Tokenizer t = Make(SmallSpm());
  EXPECT_EQ(t.Decode(Ids{266, 265}), "abc");
  EXPECT_EQ(t.Decode(Ids{1, 266, 265, 2}), "abc");
  EXPECT_EQ(t.Decode(Ids{260, 261}), "a");  // one space removed, the one the encoder added
  EXPECT_EQ(t.Decode(Ids{260, 260, 261}), " a");
  EXPECT_EQ(t.Decode(Ids{266, 266}), "a a");
  EXPECT_EQ(t.Decode(Ids{kByte0 + 0xC3, kByte0 + 0xA9}), "\xC3\xA9");
  EXPECT_EQ(t.Decode(Ids{3, 266}), "[INST] a");
  EXPECT_EQ(t.Decode(Ids{1, 2}), "");
  EXPECT_EQ(t.Decode(Ids{1, 266, 2}, {.render_special = true}), "<s> a</s>");
  EXPECT_EQ(t.Decode(Ids{-5, 266, 99999}), "a");
  EXPECT_EQ(t.TokenPiece(266), " a");
  EXPECT_EQ(t.TokenPiece(kByte0 + '\n'), "\n");
  EXPECT_EQ(t.TokenPiece(1), "");
  EXPECT_EQ(t.TokenPiece(3), "[INST]");
  EXPECT_EQ(t.TokenPiece(-1), "");
  EXPECT_EQ(t.TokenText(266),
            "\xE2\x96\x81"
            "a");
}

TEST(SpmTokenizer, LookupsAndEndOfGeneration) {
  const Tokenizer t = Make(SmallSpm());
  EXPECT_EQ(t.n_vocab(), 271);
  EXPECT_EQ(t.bos(), 1);
  EXPECT_EQ(t.eos(), 2);
  EXPECT_EQ(t.unk(), 0);
  EXPECT_EQ(t.pad(), -1);
  EXPECT_EQ(t.FindToken("ab"), 264);
  EXPECT_EQ(t.FindToken("[INST]"), 3);
  EXPECT_EQ(t.FindToken("zz"), std::nullopt);
  EXPECT_TRUE(t.IsEndOfGeneration(2));
  // "<|im_end|>" is found by its text: it ends generation, is the EOT token
  // and becomes a control token (so it is parsed, and hidden when decoding).
  EXPECT_EQ(t.eot(), 270);
  EXPECT_TRUE(t.IsEndOfGeneration(270));
  EXPECT_EQ(t.token_type(270), TokenType::kControl);
  EXPECT_EQ(t.Encode("<|im_end|>", kParse), Ids{270});
  EXPECT_EQ(t.Decode(Ids{266, 270}), "a");
  EXPECT_FALSE(t.IsEndOfGeneration(1));
  EXPECT_FALSE(t.IsEndOfGeneration(-1));
  EXPECT_FALSE(t.IsEndOfGeneration(1000));
}

TEST(SpmTokenizer, CopiesShareTheVocabulary) {
  const Tokenizer a = Make(SmallSpm());
  const Tokenizer b = a;  // NOLINT: copy on purpose
  EXPECT_EQ(a.Encode("abc"), b.Encode("abc"));
}

// Byte-level BPE: every byte as a token (in the byte alphabet), then merges.
VocabSpec SmallBpe(std::string pre) {
  VocabSpec spec;
  spec.model = "gpt2";
  spec.pre = std::move(pre);
  for (int b = 0; b < 256; ++b) {
    std::string text;
    unicode::AppendUtf8(unicode::ByteToCodepoint(static_cast<uint8_t>(b)), text);
    spec.tokens.push_back(text);
  }
  // 256 "he", 257 "ll", 258 "hell", 259 "hello", 260 "Ġw", 261 "xyz", 262 <|endoftext|>
  for (const char* text : {"he", "ll", "hell", "hello", "\xC4\xA0w", "xyz", "<|endoftext|>"}) {
    spec.tokens.push_back(text);
  }
  spec.token_types.assign(spec.tokens.size(), 1);
  spec.token_types.back() = static_cast<int32_t>(TokenType::kControl);
  spec.merges = {"h e", "l l", "he ll", "hell o", "\xC4\xA0 w"};
  spec.eos_id = 262;
  spec.bos_id = 262;
  return spec;
}

TEST(BpeTokenizer, MergesByRank) {
  const Tokenizer t = Make(SmallBpe("gpt-2"));
  EXPECT_EQ(t.Encode("hello"), (Ids{259}));
  EXPECT_EQ(t.Encode("hello world"), (Ids{259, 260, 'o', 'r', 'l', 'd'}));
  EXPECT_EQ(t.Encode("hell"), (Ids{258}));
  EXPECT_EQ(t.Encode("lle"), (Ids{257, 'e'}));
  // No merge builds "xyz", so it is spelled out unless the pre-tokenizer
  // ignores merges for words that are tokens (Llama 3).
  EXPECT_EQ(t.Encode("xyz"), (Ids{'x', 'y', 'z'}));
  EXPECT_EQ(Make(SmallBpe("llama-bpe")).Encode("xyz", kPlain), (Ids{261}));
  EXPECT_EQ(t.Encode("\xC3\xA9"), (Ids{0xC3, 0xA9}));
  EXPECT_EQ(t.Encode("hello<|endoftext|>", kParse), (Ids{259, 262}));
}

TEST(BpeTokenizer, BosFollowsThePreTokenizer) {
  EXPECT_FALSE(Make(SmallBpe("gpt-2")).add_bos());
  const Tokenizer llama3 = Make(SmallBpe("llama-bpe"));
  EXPECT_TRUE(llama3.add_bos());
  EXPECT_EQ(llama3.Encode("hello"), (Ids{262, 259}));
  VocabSpec spec = SmallBpe("llama-bpe");
  spec.add_bos = false;
  EXPECT_EQ(Make(spec).Encode("hello"), (Ids{259}));
}

TEST(BpeTokenizer, DecodeCleansSpacesWhereLlamaCppDoes) {
  const Tokenizer gpt2 = Make(SmallBpe("gpt-2"));
  const Tokenizer qwen2 = Make(SmallBpe("qwen2"));
  const auto round_trip = [](const Tokenizer& t, std::string_view text) {
    return t.Decode(t.Encode(text));
  };
  EXPECT_EQ(round_trip(qwen2, "a , b . c ? d ! e"), "a , b . c ? d ! e");
  EXPECT_EQ(round_trip(gpt2, "a , b . c ? d ! e"), "a, b. c? d! e");
  EXPECT_EQ(round_trip(gpt2, "a ' b"), "a'b");
  EXPECT_EQ(round_trip(gpt2, "it 's we 're they 've I 'm"), "it's we're they've I'm");
  EXPECT_EQ(round_trip(gpt2, "I 'll don 't he 'd"), "I 'll don 't he 'd");
  EXPECT_EQ(round_trip(gpt2, " , start"), ", start");
  EXPECT_EQ(gpt2.TokenPiece(260), " w");
  EXPECT_EQ(gpt2.TokenPiece(262), "");
  EXPECT_EQ(gpt2.Decode(Ids{259, 262}, {.render_special = true}), "hello<|endoftext|>");
}

TEST(BpeTokenizer, EncodesLargeTextQuickly) {
  const Tokenizer t = Make(SmallBpe("llama-bpe"));
  std::string text;
  while (text.size() < 100 * 1024) {
    text += "hello world, Größe 12345 \xE4\xB8\xAD\xE6\x96\x87 \xF0\x9F\x98\x80\n\tcode();  ";
  }
  const auto start = std::chrono::steady_clock::now();
  const Ids ids = t.Encode(text);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(t.Decode(ids), text);
#if defined(__SANITIZE_ADDRESS__)
  EXPECT_LT(seconds, 10.0);
#else
  EXPECT_LT(seconds, 1.0);
#endif
}

TEST(TokenizerCreate, RejectsBadSpecs) {
  const auto error_of = [](VocabSpec spec) {
    Result<Tokenizer> t = Tokenizer::Create(std::move(spec));
    return t.ok() ? std::string() : t.error().message;
  };
  VocabSpec spec = SmallSpm();
  spec.model = "bert";
  EXPECT_NE(error_of(spec).find("bert"), std::string::npos);

  spec = SmallSpm();
  spec.scores.pop_back();
  EXPECT_NE(error_of(spec).find("scores"), std::string::npos);

  spec = SmallSpm();
  spec.token_types.push_back(1);
  EXPECT_NE(error_of(spec).find("token types"), std::string::npos);

  spec = SmallSpm();
  spec.tokens[265] = "ab";
  EXPECT_NE(error_of(spec).find("same text"), std::string::npos);

  spec = SmallSpm();
  spec.bos_id = 271;
  EXPECT_NE(error_of(spec).find("BOS"), std::string::npos);

  spec = SmallSpm();
  spec.tokens.clear();
  spec.scores.clear();
  spec.token_types.clear();
  EXPECT_NE(error_of(spec).find("no tokens"), std::string::npos);

  spec = SmallBpe("gpt-2");
  spec.merges.push_back("abc");
  EXPECT_NE(error_of(spec).find("merge 5"), std::string::npos);

  spec = SmallBpe("no-such-pre");
  EXPECT_NE(error_of(spec).find("no-such-pre"), std::string::npos);

  // chatglm has no default BOS; asking for one is an error.
  spec = SmallBpe("chatglm-bpe");
  spec.bos_id = -1;
  spec.add_bos = true;
  EXPECT_NE(error_of(spec).find("add_bos"), std::string::npos);
}

TEST(TokenizerCreate, EmptyTokensGetDistinctNames) {
  VocabSpec spec = SmallSpm();
  spec.tokens[264] = "";
  spec.tokens[265] = "";
  const Tokenizer t = Make(spec);
  EXPECT_EQ(t.TokenText(264), "[EMPTY_264]");
  EXPECT_EQ(t.FindToken("[EMPTY_265]"), 265);
}

}  // namespace
}  // namespace autan
