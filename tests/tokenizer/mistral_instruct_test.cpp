// Mistral's instruct formats at the token level. The expected sequences are
// written from mistral-common's rules (InstructTokenizerV1/V2/V3/V7): on a
// Tekken vocabulary of bytes only, each text byte b is the id 21 + b, and the
// control tokens have mistral-common's historical ids.
#include "tokenizer/mistral_instruct.h"

#include <gtest/gtest.h>
#include <sentencepiece_processor.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tokenizer/tekken.h"
#include "tokenizer/tokenizer_file.h"

namespace autan {
namespace {

using mistral_internal::PyJsonDumps;
using V = MistralInstructVersion;
using Ids = std::vector<int32_t>;

constexpr int32_t kBos = 1, kEos = 2, kInst = 3, kEndInst = 4, kAvailTools = 5, kEndTools = 6,
                  kResults = 7, kEndResults = 8, kToolCalls = 9, kSystem = 17, kEndSystem = 18,
                  kToolContent = 19;

// The ids of `text` in the bytes-only vocabulary.
Ids B(std::string_view text) {
  Ids ids;
  for (const char c : text) ids.push_back(21 + static_cast<uint8_t>(c));
  return ids;
}

Ids Cat(std::initializer_list<Ids> parts) {
  Ids out;
  for (const Ids& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

const Tokenizer& BytesTekken() {
  static const Tokenizer t = [] {
    nlohmann::json vocab = nlohmann::json::array();
    constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int b = 0; b < 256; ++b) {
      const std::string b64 = {kAlphabet[b >> 2], kAlphabet[(b & 3) << 4], '=', '='};
      vocab.push_back({{"rank", b}, {"token_bytes", b64}, {"token_str", nullptr}});
    }
    const nlohmann::json file = {{"config",
                                  {{"pattern", R"(\p{L}+|\p{N}|\s+|[^\s\p{L}\p{N}]+)"},
                                   {"num_vocab_tokens", 256},
                                   {"default_vocab_size", 21 + 256},
                                   {"default_num_special_tokens", 21},
                                   {"version", "v3"}}},
                                 {"vocab", vocab}};
    auto spec = VocabSpecFromTekken(file.dump(), "tekken.json");
    EXPECT_TRUE(spec.ok()) << spec.error().message;
    auto tokenizer = Tokenizer::Create(std::move(*spec));
    EXPECT_TRUE(tokenizer.ok()) << tokenizer.error().message;
    return std::move(*tokenizer);
  }();
  return t;
}

Ids Encode(V version, const MistralRequest& request) {
  auto ids = EncodeMistralChat(BytesTekken(), version, request);
  EXPECT_TRUE(ids.ok()) << ids.error().message;
  return ids.ok() ? *ids : Ids{};
}

TEST(MistralInstructTest, V3SystemPromptGoesBeforeTheLastUserMessage) {
  const MistralRequest r{.messages = {{.role = "system", .content = "Be brief."},
                                      {.role = "user", .content = "hi"},
                                      {.role = "assistant", .content = "yo  "},
                                      {.role = "user", .content = "more"}}};
  // Trailing spaces of an answer are removed; BOS once, EOS after each answer.
  EXPECT_EQ(Encode(V::kV3, r), Cat({{kBos, kInst},
                                    B("hi"),
                                    {kEndInst},
                                    B("yo"),
                                    {kEos, kInst},
                                    B("Be brief.\n\nmore"),
                                    {kEndInst}}));
}

TEST(MistralInstructTest, V7SystemPromptStaysInPlace) {
  const MistralRequest r{.messages = {{.role = "system", .content = "Be brief."},
                                      {.role = "user", .content = "hi"},
                                      {.role = "assistant", .content = "yo"},
                                      {.role = "user", .content = "more"}}};
  EXPECT_EQ(Encode(V::kV7, r), Cat({{kBos, kSystem},
                                    B("Be brief."),
                                    {kEndSystem, kInst},
                                    B("hi"),
                                    {kEndInst},
                                    B("yo"),
                                    {kEos, kInst},
                                    B("more"),
                                    {kEndInst}}));
}

const char* kToolsJson =
    R"([{"type":"function","function":{"name":"get_weather","description":"Météo",)"
    R"("parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}])";
const char* kToolsAsPython =
    R"([{"type": "function", "function": {"name": "get_weather", "description": "Météo", )"
    R"("parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}])";

MistralRequest ToolConversation() {
  return {.messages = {{.role = "user", .content = "Paris?"},
                       {.role = "assistant",
                        .tool_calls = {{.id = "abc123def",
                                        .name = "get_weather",
                                        .arguments = R"({"city":"Paris"})"}}},
                       {.role = "tool",
                        .content = R"({"temp":21})",
                        .tool_call_id = "abc123def",
                        .name = "get_weather"},
                       {.role = "assistant", .content = "21 C."},
                       {.role = "user", .content = "Lyon?"}},
          .tools_json = kToolsJson};
}

TEST(MistralInstructTest, V3ToolsCallsAndResults) {
  // Tools before the last user message; calls carry their id; results are
  // {"content", "call_id"} with the content parsed as JSON.
  EXPECT_EQ(
      Encode(V::kV3, ToolConversation()),
      Cat({{kBos, kInst},
           B("Paris?"),
           {kEndInst, kToolCalls},
           B(R"([{"name": "get_weather", "arguments": {"city": "Paris"}, "id": "abc123def"}])"),
           {kEos, kResults},
           B(R"({"content": {"temp": 21}, "call_id": "abc123def"})"),
           {kEndResults},
           B("21 C."),
           {kEos, kAvailTools},
           B(kToolsAsPython),
           {kEndTools, kInst},
           B("Lyon?"),
           {kEndInst}}));
}

TEST(MistralInstructTest, V2DropsToolHistoryBeforeTheLastUserMessage) {
  MistralRequest r = ToolConversation();
  EXPECT_EQ(Encode(V::kV2, r), Cat({{kBos, kInst},
                                    B("Paris?"),
                                    {kEndInst},
                                    B("21 C."),
                                    {kEos, kAvailTools},
                                    B(kToolsAsPython),
                                    {kEndTools, kInst},
                                    B("Lyon?"),
                                    {kEndInst}}));
  // After the last user message they are kept, without ids, results in a list.
  r.messages.erase(r.messages.begin() + 3, r.messages.end());
  EXPECT_EQ(Encode(V::kV2, r),
            Cat({{kBos, kAvailTools},
                 B(kToolsAsPython),
                 {kEndTools, kInst},
                 B("Paris?"),
                 {kEndInst, kToolCalls},
                 B(R"([{"name": "get_weather", "arguments": {"city": "Paris"}}])"),
                 {kEos, kResults},
                 B(R"([{"name": "get_weather", "content": {"temp": 21}}])"),
                 {kEndResults}}));
}

TEST(MistralInstructTest, V7ToolResultsAndPrefix) {
  const MistralRequest r{
      .messages = {{.role = "user", .content = "Paris?"},
                   {.role = "assistant",
                    .content = "Checking.",
                    .tool_calls = {{.id = "abc123def", .name = "f", .arguments = "not json"}}},
                   {.role = "tool", .content = "21", .tool_call_id = "abc123def"},
                   {.role = "assistant", .content = "It is", .prefix = true}}};
  // v7: text and tool calls together; arguments that are not JSON stay a string;
  // the result is [TOOL_RESULTS] id [TOOL_CONTENT] text; a prefix gets no EOS.
  EXPECT_EQ(Encode(V::kV7, r),
            Cat({{kBos, kInst},
                 B("Paris?"),
                 {kEndInst},
                 B("Checking."),
                 {kToolCalls},
                 B(R"([{"name": "f", "arguments": "not json", "id": "abc123def"}])"),
                 {kEos, kResults},
                 B("abc123def"),
                 {kToolContent},
                 B("21"),
                 {kEndResults},
                 B("It is")}));
}

TEST(MistralInstructTest, V1IsPlainTextOnSentencePiece) {
  // v1 writes "[INST] ... [/INST]" as text, the system prompt in front of the
  // first user message; libsentencepiece encodes each piece for the expectation.
  const std::string model = std::string(AUTAN_TESTDATA) + "/sentencepiece/llama2-tokenizer.model";
  sentencepiece::SentencePieceProcessor sp;
  ASSERT_TRUE(sp.Load(model).ok());
  auto t = LoadTokenizerFile(model);
  ASSERT_TRUE(t.ok()) << t.error().message;
  const MistralRequest r{.messages = {{.role = "system", .content = "Be brief."},
                                      {.role = "user", .content = "hi"},
                                      {.role = "assistant", .content = "yo"},
                                      {.role = "user", .content = "more"}}};
  auto ids = EncodeMistralChat(*t, V::kV1, r);
  ASSERT_TRUE(ids.ok()) << ids.error().message;
  std::vector<int> want = {sp.bos_id()};
  for (const char* piece : {"[INST] Be brief.\n\nhi [/INST]", "yo"}) {
    const std::vector<int> part = sp.EncodeAsIds(piece);
    want.insert(want.end(), part.begin(), part.end());
  }
  want.push_back(sp.eos_id());
  const std::vector<int> last = sp.EncodeAsIds("[INST] more [/INST]");
  want.insert(want.end(), last.begin(), last.end());
  EXPECT_EQ(std::vector<int>(ids->begin(), ids->end()), want);
  // v3 needs control tokens Llama 2's vocabulary lacks.
  auto v3 = EncodeMistralChat(*t, V::kV3, r);
  ASSERT_FALSE(v3.ok());
  EXPECT_EQ(v3.error().message, "the vocabulary has no control token [INST]");
}

TEST(MistralInstructTest, RejectsWhatMistralCommonRejects) {
  const auto error = [](V version, MistralRequest r) {
    auto ids = EncodeMistralChat(BytesTekken(), version, r);
    return ids.ok() ? std::string("(accepted)") : ids.error().message;
  };
  EXPECT_EQ(error(V::kV3, {.messages = {{.role = "assistant", .content = "a", .prefix = true},
                                        {.role = "user", .content = "b"}}}),
            "an assistant prefix must be the last message");
  EXPECT_EQ(error(V::kV3, {.messages = {{.role = "robot", .content = "a"}}}),
            "message 0: unknown role 'robot'");
  EXPECT_EQ(
      error(V::kV1, {.messages = {{.role = "user", .content = "a"}}, .tools_json = kToolsJson}),
      "tools need tokenizer v2 or later");
  EXPECT_EQ(error(V::kV3, {.messages = {{.role = "user", .content = "a"}, {.role = "assistant"}}}),
            "an assistant message is empty");
  EXPECT_EQ(error(V::kV3, {.messages = {{.role = "tool", .content = "1"}}}),
            "a tool message needs tool_call_id from v3 on");
  EXPECT_EQ(error(V::kV3, {.messages = {{.role = "user", .content = "a"}}, .tools_json = "[{"}),
            "tools: not valid JSON");
  EXPECT_EQ(error(V::kV3, {}), "the conversation is empty");
}

TEST(MistralInstructTest, JsonIsWrittenAsPythonWritesIt) {
  EXPECT_EQ(*PyJsonDumps(R"({"b":1,"a":[true,null,"x"]})"), R"({"b": 1, "a": [true, null, "x"]})");
  EXPECT_EQ(*PyJsonDumps(R"("é\n\"\u0001😀")"), "\"é\\n\\\"\\u0001😀\"");
  EXPECT_EQ(*PyJsonDumps("{}"), "{}");
  EXPECT_FALSE(PyJsonDumps("{").has_value());
  EXPECT_EQ(ParseMistralInstructVersion("v7"), V::kV7);
  EXPECT_FALSE(ParseMistralInstructVersion("v4").has_value());
}

}  // namespace
}  // namespace autan
