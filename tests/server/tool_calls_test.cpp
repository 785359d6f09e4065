// Tool calls in model output (ToolCallParser) and the schema that forces
// them (ForcedToolCallSchema). The parser's results are checked against
// nlohmann's parse of the same text, whatever the chunking; the schema is
// checked by the JSON recognizer of the constrained decoder on texts written
// here by hand.
#include <gtest/gtest.h>

#include <cctype>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "runtime/constraint/json_matcher.h"
#include "server/tool_calls.h"
#include "server/tool_schema.h"

namespace autan::server {
namespace {

using Json = nlohmann::ordered_json;

// Everything a parser gave out, put together as a client would.
struct Collected {
  std::string content;
  std::vector<ToolCall> calls;  // from the deltas
  std::vector<ToolCall> parser_calls;
  std::string problem;  // a delta out of order
};

Collected Parse(ToolCallParser::Options options, const std::vector<std::string>& chunks) {
  ToolCallParser parser(options);
  Collected c;
  auto take = [&](ToolCallParser::Output out) {
    c.content += out.content;
    for (const ToolCallDelta& d : out.calls) {
      if (!d.id.empty()) {
        if (d.index != static_cast<int32_t>(c.calls.size())) c.problem = "index out of order";
        if (!d.arguments.empty()) c.problem = "arguments in a call's first delta";
        c.calls.push_back({d.id, d.name, {}});
      } else if (d.index + 1 != static_cast<int32_t>(c.calls.size())) {
        c.problem = "arguments for a call not announced last";
      } else {
        c.calls.back().arguments += d.arguments;
      }
    }
  };
  for (const std::string& chunk : chunks) take(parser.Push(chunk));
  take(parser.Finish());
  c.parser_calls = parser.calls();
  return c;
}

// The text cut at every position into two, and into single bytes.
std::vector<std::vector<std::string>> Splits(const std::string& text) {
  std::vector<std::vector<std::string>> out;
  for (size_t i = 0; i <= text.size(); ++i) out.push_back({text.substr(0, i), text.substr(i)});
  std::vector<std::string> bytes;
  for (char c : text) bytes.emplace_back(1, c);
  out.push_back(bytes);
  std::mt19937 rng(7);
  for (int k = 0; k < 20; ++k) {
    std::vector<std::string> parts;
    for (size_t i = 0; i < text.size();) {
      const size_t n = 1 + rng() % 6;
      parts.push_back(text.substr(i, n));
      i += n;
    }
    out.push_back(parts);
  }
  return out;
}

ToolCallParser::Options Mistral(bool forced = false) {
  return {ToolDialect::kMistral, "[TOOL_CALLS]", forced, 42};
}

ToolCallParser::Options Llama() { return {ToolDialect::kLlama3Json, "", false, 42}; }

// The calls of `json` (a list, or one object with `arguments_key`) as
// nlohmann reads them.
void ExpectCalls(const Collected& c, const Json& json, const char* arguments_key = "arguments") {
  const Json list = json.is_array() ? json : Json::array({json});
  ASSERT_EQ(c.problem, "");
  ASSERT_EQ(c.calls.size(), list.size());
  for (size_t i = 0; i < list.size(); ++i) {
    EXPECT_EQ(c.calls[i].name, list[i]["name"].get<std::string>());
    EXPECT_EQ(Json::parse(c.calls[i].arguments), list[i][arguments_key]) << c.calls[i].arguments;
    EXPECT_EQ(c.calls[i].id, c.parser_calls[i].id);
    EXPECT_EQ(c.calls[i].arguments, c.parser_calls[i].arguments);
  }
}

TEST(ToolCallParser, MistralCallsAfterTextWhateverTheChunks) {
  const std::string calls =
      R"([{"name": "get_weather", "arguments": {"city": "Paris \"[TOOL_CALLS]\" }]", "days": [1, 2], "x": {"y": null}}},)"
      R"( {"name":"get_time","arguments":{}}])";
  const std::string text = "Let me check. [TOOL_CALLS] " + calls;
  for (const auto& chunks : Splits(text)) {
    const Collected c = Parse(Mistral(), chunks);
    EXPECT_EQ(c.content, "Let me check. ");
    ExpectCalls(c, Json::parse(calls));
  }
}

TEST(ToolCallParser, ForcedCallsStartRightAfterTheMarker) {
  const std::string text = R"( [{"name": "f", "arguments": {"a": -1.5e3, "b": true}}])";
  for (const auto& chunks : Splits(text)) {
    const Collected c = Parse(Mistral(true), chunks);
    EXPECT_EQ(c.content, "");
    ExpectCalls(c, Json::parse(text));
  }
}

TEST(ToolCallParser, PlainTextIsContent) {
  for (const std::string text : {"Hello [TOOL_ world", "[TOOL_CALLS", "a [b] {c}", ""}) {
    for (const auto& chunks : Splits(text)) {
      const Collected c = Parse(Mistral(), chunks);
      EXPECT_EQ(c.content, text);
      EXPECT_TRUE(c.calls.empty());
    }
  }
}

// Output that starts like calls but is not: given back as content, byte for byte.
TEST(ToolCallParser, MalformedCallsFallBackToContent) {
  for (const std::string calls : {
           R"([{"name": 5, "arguments": {}}])",
           R"([{"name": "f"}])",
           R"([{"name": "f", "arguments": "{}"}])",
           R"([{"name": "", "arguments": {}}])",
           R"([])",
           R"(hello)",
           R"([{"arguments": {"a": [1}}, "name": "f"}])",
           R"([{"name": "f"  "arguments": {}}])",
           R"([{"arguments": {"a": 1}, "name": )",
       }) {
    const std::string text = "x[TOOL_CALLS]" + calls + " tail";
    for (const auto& chunks : Splits(text)) {
      const Collected c = Parse(Mistral(), chunks);
      EXPECT_EQ(c.content, text) << calls;
      EXPECT_TRUE(c.calls.empty()) << calls;
    }
  }
}

TEST(ToolCallParser, ArgumentsBeforeTheNameAreSentWhenTheCallEnds) {
  const std::string text =
      R"([TOOL_CALLS][{"arguments": {"q": "}{"}, "id": "abcdefghi", "name": "s"}])";
  for (const auto& chunks : Splits(text)) {
    const Collected c = Parse(Mistral(), chunks);
    EXPECT_EQ(c.content, "");
    ExpectCalls(c, Json::parse(text.substr(12)));
  }
}

// Once a call is announced it stays, even if the output is cut (max_tokens)
// or goes wrong later; what follows well-formed calls is dropped.
TEST(ToolCallParser, AnnouncedCallsStay) {
  const std::string cut = R"([TOOL_CALLS][{"name": "f", "arguments": {"a": "xy)";
  for (const auto& chunks : Splits(cut)) {
    const Collected c = Parse(Mistral(), chunks);
    EXPECT_EQ(c.content, "");
    ASSERT_EQ(c.calls.size(), 1u);
    EXPECT_EQ(c.calls[0].name, "f");
    EXPECT_EQ(c.calls[0].arguments, R"({"a": "xy)");
  }
  const Collected bad = Parse(Mistral(), {R"([TOOL_CALLS][{"name": "f", "arguments": {}}, 7])"});
  ExpectCalls(bad, Json::parse(R"([{"name": "f", "arguments": {}}])"));
  EXPECT_EQ(bad.content, "");
  const Collected after =
      Parse(Mistral(), {R"([TOOL_CALLS][{"name": "f", "arguments": {}}] more)"});
  ExpectCalls(after, Json::parse(R"([{"name": "f", "arguments": {}}])"));
  EXPECT_EQ(after.content, "");
}

TEST(ToolCallParser, Llama31JsonIsTheWholeReply) {
  const std::string call =
      R"({"name": "lookup", "parameters": {"term": "a \\ b", "n": [1, {"m": 2}]}})";
  for (const auto& chunks : Splits("\n " + call)) {
    const Collected c = Parse(Llama(), chunks);
    EXPECT_EQ(c.content, "");
    ExpectCalls(c, Json::parse(call), "parameters");
  }
  for (const std::string text : {R"( {"answer": 42})", R"(Sure: {"name": "f", "parameters": {}})",
                                 R"({"name": "f", "parameters": 3})", "plain"}) {
    for (const auto& chunks : Splits(text)) {
      const Collected c = Parse(Llama(), chunks);
      EXPECT_EQ(c.content, text);
      EXPECT_TRUE(c.calls.empty());
    }
  }
}

TEST(ToolCallParser, NoDialectParsesNothing) {
  const std::string text = R"([TOOL_CALLS][{"name": "f", "arguments": {}}])";
  const Collected c = Parse({ToolDialect::kNone, "", false, 0}, {text});
  EXPECT_EQ(c.content, text);
  EXPECT_TRUE(c.calls.empty());
}

TEST(ToolCallParser, IdsAreNineLettersOrDigitsAndDiffer) {
  const Collected c = Parse(Mistral(), {R"([TOOL_CALLS][{"name": "a", "arguments": {}},
                                         {"name": "b", "arguments": {}}])"});
  ASSERT_EQ(c.calls.size(), 2u);
  EXPECT_NE(c.calls[0].id, c.calls[1].id);
  std::set<std::string> ids;
  for (uint64_t seed = 0; seed < 1000; ++seed) {
    const std::string id = ToolCallId(seed);
    ASSERT_EQ(id.size(), kToolCallIdLength);
    for (char ch : id) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(ch))) << id;
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 1000u);
}

// --- which format a model speaks ---

Tokenizer SmallVocab(bool with_marker) {
  VocabSpec spec;
  spec.model = "llama";
  spec.tokens = {"<unk>", "<s>", "</s>", "\xE2\x96\x81", "a", "[", "]"};
  spec.token_types = {2, 3, 3, 1, 1, 1, 1};
  if (with_marker) {
    spec.tokens.push_back("[TOOL_CALLS]");
    spec.token_types.push_back(static_cast<int32_t>(TokenType::kControl));
  }
  Result<Tokenizer> t = Tokenizer::Create(std::move(spec));
  EXPECT_TRUE(t.ok());
  return std::move(t).value();
}

std::string Template(const char* name) {
  std::ifstream in(std::string(AUTAN_TESTDATA) + "/templates/" + name);
  EXPECT_TRUE(in) << name;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(DetectToolSyntax, FromTheTemplateOrTheVocabulary) {
  const Tokenizer plain = SmallVocab(false);
  const ToolSyntax nemo =
      DetectToolSyntax(Template("mistralai-Mistral-Nemo-Instruct-2407.jinja"), plain);
  EXPECT_EQ(nemo.dialect, ToolDialect::kMistral);
  EXPECT_EQ(nemo.marker, "[TOOL_CALLS]");
  EXPECT_EQ(nemo.marker_token, -1);  // written as text
  EXPECT_EQ(DetectToolSyntax(Template("meta-llama-Llama-3.1-8B-Instruct.jinja"), plain).dialect,
            ToolDialect::kLlama3Json);
  for (const char* other : {"Qwen-Qwen2.5-7B-Instruct.jinja", "google-gemma-2-2b-it.jinja",
                            "microsoft-Phi-3.5-mini-instruct.jinja"}) {
    EXPECT_EQ(DetectToolSyntax(Template(other), plain).dialect, ToolDialect::kNone) << other;
  }
  EXPECT_EQ(DetectToolSyntax("", plain).dialect, ToolDialect::kNone);

  const Tokenizer mistral = SmallVocab(true);
  const ToolSyntax builtin = DetectToolSyntax("", mistral);
  EXPECT_EQ(builtin.dialect, ToolDialect::kMistral);
  EXPECT_EQ(builtin.marker_token, 7);
}

// --- the forcing schema ---

const Json kTools = Json::parse(R"([
  {"type": "function", "function": {"name": "get_weather", "description": "Weather",
   "parameters": {"type": "object", "additionalProperties": false, "required": ["city"],
                  "properties": {"city": {"type": "string"},
                                 "unit": {"enum": ["c", "f"]}}}}},
  {"type": "function", "function": {"name": "add", "parameters": {
   "type": "object", "required": ["a", "b"], "additionalProperties": false,
   "properties": {"a": {"$ref": "#/$defs/n"}, "b": {"$ref": "#/$defs/n"}},
   "$defs": {"n": {"type": "integer"}}}}},
  {"type": "function", "function": {"name": "ping"}}
])");

bool Accepts(const Json& schema, const std::string& text) {
  auto grammar = constraint::JsonGrammar::FromSchema(schema);
  EXPECT_TRUE(grammar.ok()) << grammar.error().message << "\n" << schema.dump(1);
  if (!grammar.ok()) return false;
  constraint::JsonMatcher m(*grammar);
  return m.AcceptBytes(text) == text.size() && m.IsComplete();
}

TEST(ForcedToolCallSchema, MistralListOfDeclaredCalls) {
  const Json s = ForcedToolCallSchema(ToolDialect::kMistral, kTools, "", true);
  EXPECT_TRUE(Accepts(s, R"([{"name":"get_weather","arguments":{"city":"Paris","unit":"c"}}])"));
  EXPECT_TRUE(Accepts(s, R"([{"name":"add","arguments":{"a":1,"b":-2}},)"
                         R"({"name":"ping","arguments":{}}])"));
  EXPECT_FALSE(Accepts(s, R"([])"));
  EXPECT_FALSE(Accepts(s, R"([{"name":"get_time","arguments":{}}])"));
  EXPECT_FALSE(Accepts(s, R"([{"name":"get_weather","arguments":{}}])"));  // city is required
  EXPECT_FALSE(Accepts(s, R"([{"name":"get_weather","arguments":{"city":"P","unit":"k"}}])"));
  EXPECT_FALSE(Accepts(s, R"([{"name":"add","arguments":{"a":1.5,"b":2}}])"));  // $ref: integer
  EXPECT_FALSE(Accepts(s, R"([{"name":"ping","arguments":{"x":1}}])"));
  EXPECT_FALSE(Accepts(s, R"([{"name":"ping","arguments":{},"id":"abcdefghi"}])"));
  EXPECT_FALSE(Accepts(s, R"({"name":"ping","arguments":{}})"));
}

TEST(ForcedToolCallSchema, NamedFunctionAndOneCallAtATime) {
  const Json s = ForcedToolCallSchema(ToolDialect::kMistral, kTools, "add", false);
  EXPECT_TRUE(Accepts(s, R"([{"name":"add","arguments":{"a":1,"b":2}}])"));
  EXPECT_FALSE(Accepts(s, R"([{"name":"ping","arguments":{}}])"));
  EXPECT_FALSE(Accepts(s, R"([{"name":"add","arguments":{"a":1,"b":2}},)"
                          R"({"name":"add","arguments":{"a":1,"b":2}}])"));
}

TEST(ForcedToolCallSchema, Llama31SingleObjectWithParameters) {
  const Json s = ForcedToolCallSchema(ToolDialect::kLlama3Json, kTools, "", true);
  EXPECT_TRUE(Accepts(s, R"({"name":"add","parameters":{"a":3,"b":4}})"));
  EXPECT_TRUE(Accepts(s, R"({"name":"get_weather","parameters":{"city":"Nice"}})"));
  EXPECT_FALSE(Accepts(s, R"({"name":"add","arguments":{"a":3,"b":4}})"));
  EXPECT_FALSE(Accepts(s, R"([{"name":"add","parameters":{"a":3,"b":4}}])"));
  const Json one = ForcedToolCallSchema(ToolDialect::kLlama3Json, kTools, "add", true);
  EXPECT_TRUE(Accepts(one, R"({"name":"add","parameters":{"a":3,"b":4}})"));
  EXPECT_FALSE(Accepts(one, R"({"name":"ping","parameters":{}})"));
}

// What the schema lets through, the parser reads back as the same calls.
TEST(ForcedToolCallSchema, AcceptedTextParsesIntoTheSameCalls) {
  const std::string text = R"([{"name":"add","arguments":{"a":1,"b":2}},)"
                           R"({"name":"get_weather","arguments":{"city":"Lyon"}}])";
  ASSERT_TRUE(Accepts(ForcedToolCallSchema(ToolDialect::kMistral, kTools, "", true), text));
  ExpectCalls(Parse(Mistral(true), {text}), Json::parse(text));
}

}  // namespace
}  // namespace autan::server
