// The byte-level JSON recognizer: what it accepts for each kind of schema and
// the exact byte where it refuses a text. Expectations come from the JSON
// grammar (RFC 8259) and the schemas written here, not from the recognizer.
#include "runtime/constraint/json_matcher.h"

#include <gtest/gtest.h>

#include <string>

#include "runtime/constraint/json_lexer.h"

namespace autan::constraint {
namespace {

using Json = nlohmann::ordered_json;

std::shared_ptr<const JsonGrammar> Grammar(const std::string& schema,
                                           const GrammarOptions& options = {}) {
  auto g = JsonGrammar::FromSchema(Json::parse(schema), options);
  EXPECT_TRUE(g.ok()) << g.error().message;
  return g.ok() ? *g : JsonGrammar::AnyValue();
}

// The text is accepted in full and is a complete value.
::testing::AssertionResult Accepts(const std::shared_ptr<const JsonGrammar>& g,
                                   const std::string& text) {
  JsonMatcher m(g);
  const size_t n = m.AcceptBytes(text);
  if (n != text.size()) {
    return ::testing::AssertionFailure()
           << "refused byte " << n << " of " << text << " (from: " << text.substr(n) << ")";
  }
  if (!m.IsComplete()) return ::testing::AssertionFailure() << text << " is not complete";
  return ::testing::AssertionSuccess();
}

// `prefix` is accepted, then the first byte of `bad` is refused.
::testing::AssertionResult RefusesAfter(const std::shared_ptr<const JsonGrammar>& g,
                                        const std::string& prefix, const std::string& bad) {
  JsonMatcher m(g);
  const size_t n = m.AcceptBytes(prefix + bad);
  if (n != prefix.size()) {
    return ::testing::AssertionFailure() << "accepted " << n << " bytes of " << prefix + bad
                                         << ", expected exactly " << prefix.size();
  }
  return ::testing::AssertionSuccess();
}

// Accepted in full, but not a complete value.
::testing::AssertionResult Incomplete(const std::shared_ptr<const JsonGrammar>& g,
                                      const std::string& text) {
  JsonMatcher m(g);
  if (m.AcceptBytes(text) != text.size()) return ::testing::AssertionFailure() << "refused";
  if (m.IsComplete()) return ::testing::AssertionFailure() << text << " is complete";
  return ::testing::AssertionSuccess();
}

TEST(JsonMatcher, AnyValueFollowsTheJsonGrammar) {
  auto g = JsonGrammar::AnyValue();
  for (const char* ok : {"0", "-0", "12.5e+3", "1E5", "-7.25", "true", "false", "null", "\"\"",
                         "[]", "{}", "[1,[2,[3]],{\"a\":{}}]", " {\"a\" : [ true , null ] } ",
                         "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\uFFFF\""}) {
    EXPECT_TRUE(Accepts(g, ok)) << ok;
  }
  EXPECT_TRUE(RefusesAfter(g, "0", "1"));
  EXPECT_TRUE(RefusesAfter(g, "", "."));
  EXPECT_TRUE(RefusesAfter(g, "", "+"));
  EXPECT_TRUE(RefusesAfter(g, "1.", "e"));
  EXPECT_TRUE(RefusesAfter(g, "1e", "x"));
  EXPECT_TRUE(RefusesAfter(g, "-", "a"));
  EXPECT_TRUE(RefusesAfter(g, "tru", "x"));
  EXPECT_TRUE(RefusesAfter(g, "[1]", "]"));
  EXPECT_TRUE(RefusesAfter(g, "[1,", "]"));
  EXPECT_TRUE(RefusesAfter(g, "{\"a\":1,", "}"));
  EXPECT_TRUE(RefusesAfter(g, "{", "a"));
  EXPECT_TRUE(RefusesAfter(g, "{\"a\"", "1"));
  EXPECT_TRUE(RefusesAfter(g, "{}", "{"));
  EXPECT_TRUE(RefusesAfter(g, "\"a", "\n"));  // raw control character
  EXPECT_TRUE(RefusesAfter(g, "\"\\", "x"));  // unknown escape
  EXPECT_TRUE(RefusesAfter(g, "\"\\u12", "g"));
  EXPECT_TRUE(RefusesAfter(g, "\"\\uD", "8"));  // lone surrogate
  EXPECT_TRUE(Incomplete(g, "1e"));
  EXPECT_TRUE(Incomplete(g, "[1,2"));
  EXPECT_TRUE(Incomplete(g, "\"abc"));
}

TEST(JsonMatcher, StringsAreWellFormedUtf8) {
  auto g = JsonGrammar::AnyValue();
  EXPECT_TRUE(Accepts(g, "\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF\""));
  EXPECT_TRUE(RefusesAfter(g, "\"", "\xC0\x80"));      // overlong lead byte
  EXPECT_TRUE(RefusesAfter(g, "\"\xE0", "\x80"));      // overlong 3-byte form
  EXPECT_TRUE(RefusesAfter(g, "\"\xED", "\xA0\x80"));  // UTF-16 surrogate
  EXPECT_TRUE(RefusesAfter(g, "\"\xF4", "\x90"));      // past U+10FFFF
  EXPECT_TRUE(RefusesAfter(g, "\"", "\xF5"));
  EXPECT_TRUE(RefusesAfter(g, "\"\xC3", "\""));  // truncated sequence
  EXPECT_TRUE(RefusesAfter(g, "\"", "\x80"));    // stray continuation
}

TEST(JsonMatcher, WhitespaceRunsAreBounded) {
  GrammarOptions options;
  options.max_whitespace_run = 2;
  auto g = Grammar(R"({"type": "array", "items": {"type": "integer"}})", options);
  EXPECT_TRUE(Accepts(g, "  [ 1 ,\n 2\r\n]\t "));
  EXPECT_TRUE(RefusesAfter(g, "[  ", " "));
  EXPECT_TRUE(RefusesAfter(g, "[1]  ", " "));
  EXPECT_TRUE(RefusesAfter(g, "[1  ", "\n"));
  options.max_whitespace_run = 0;
  auto tight = Grammar(R"({"type": "array"})", options);
  EXPECT_TRUE(RefusesAfter(tight, "[", " "));
  EXPECT_TRUE(Accepts(tight, "[\"a b\"]"));  // spaces inside strings are content
}

TEST(JsonMatcher, ObjectPropertiesInSchemaOrder) {
  auto g = Grammar(R"({"type": "object",
      "properties": {"name": {"type": "string"}, "age": {"type": "integer"},
                     "tags": {"type": "array", "items": {"type": "string"}}},
      "required": ["name", "age"], "additionalProperties": false})");
  EXPECT_TRUE(Accepts(g, R"({"name":"x","age":3})"));
  EXPECT_TRUE(Accepts(g, R"({ "name" : "x" , "age" : -3 , "tags" : [ "a" , "b" ] })"));
  EXPECT_TRUE(RefusesAfter(g, "{", "}"));    // name and age are required
  EXPECT_TRUE(RefusesAfter(g, "{\"", "a"));  // age before name
  EXPECT_TRUE(RefusesAfter(g, R"({"name":"x")", "}"));
  EXPECT_TRUE(RefusesAfter(g, R"({"name":"x","age":3)", ".5"));
  EXPECT_TRUE(RefusesAfter(g, R"({"name":"x","age":3,")", "name"));  // no repeats
  EXPECT_TRUE(RefusesAfter(g, R"({"name":"x","age":3,")", "foo"));   // no others
  EXPECT_TRUE(RefusesAfter(g, R"({"name":"x","age":3,"tags":[)", "1"));
  EXPECT_TRUE(RefusesAfter(g, R"({"nam)", "\""));
  EXPECT_TRUE(RefusesAfter(g, R"({"name")", "\""));
  // Every optional property left out; after the last one only '}' remains.
  EXPECT_TRUE(RefusesAfter(g, R"({"name":"","age":0,"tags":[])", ","));
}

TEST(JsonMatcher, OptionalPropertiesMayBeSkippedButNotReordered) {
  auto g = Grammar(R"({"type": "object", "properties": {"a": {"type": "integer"},
      "b": {"type": "integer"}, "c": {"type": "integer"}}, "required": ["c"]})");
  EXPECT_TRUE(Accepts(g, R"({"c":1})"));
  EXPECT_TRUE(Accepts(g, R"({"b":1,"c":2})"));
  EXPECT_TRUE(Accepts(g, R"({"a":1,"b":1,"c":2})"));
  EXPECT_TRUE(RefusesAfter(g, R"({"b":1,")", "a"));
  EXPECT_TRUE(RefusesAfter(g, R"({"a":1,"b":1)", "}"));
}

TEST(JsonMatcher, AdditionalProperties) {
  auto open = Grammar(R"({"type": "object", "properties": {"a": {"type": "integer"}},
                          "additionalProperties": true})");
  EXPECT_TRUE(Accepts(open, R"({"b":[1,{"x":null}],"a":2,"ab":"s","":0})"));
  EXPECT_TRUE(RefusesAfter(open, R"({"a":1,"a)", "\""));  // "a" again is a repeat
  EXPECT_TRUE(RefusesAfter(open, R"({"b":1,"a":1,"a)", "\""));
  EXPECT_TRUE(RefusesAfter(open, R"({"a":)", "\""));   // declared: its own schema
  EXPECT_TRUE(RefusesAfter(open, R"({"\)", "u0061"));  // \u would spell "a" another way
  EXPECT_TRUE(Accepts(open, R"({"x\"\n":1})"));

  auto typed = Grammar(R"({"type": "object", "additionalProperties": {"type": "integer"}})");
  EXPECT_TRUE(Accepts(typed, R"({"x":1,"y":2})"));
  EXPECT_TRUE(RefusesAfter(typed, R"({"x":)", "\""));

  auto untyped = Grammar(R"({"type": "object"})");  // no properties: any keys
  EXPECT_TRUE(Accepts(untyped, R"({"k":{"n":[true]}})"));
  auto closed = Grammar(R"({"properties": {"a": {"type": "integer"}}})");  // declared only
  EXPECT_TRUE(RefusesAfter(closed, "{\"", "b"));
}

TEST(JsonMatcher, PropertyNamesNeedingEscapes) {
  auto g = Grammar(R"({"type": "object", "properties": {"a\"b": {"const": 1},
      "tab\there": {"const": 2}, "caf\u00e9": {"const": 3}}, "additionalProperties": false})");
  EXPECT_TRUE(Accepts(g, "{\"a\\\"b\":1,\"tab\\there\":2,\"caf\xC3\xA9\":3}"));
  EXPECT_TRUE(RefusesAfter(g, "{\"caf", "e"));
}

TEST(JsonMatcher, EnumsAndConsts) {
  auto g = Grammar(R"({"enum": ["red", "green", 1, 12, null, {"a": [1, 2]}, "a\"b"]})");
  for (const char* ok :
       {"\"red\"", "\"green\"", "1", "12", "null", " 1 ", "{\"a\":[1,2]}", "\"a\\\"b\""}) {
    EXPECT_TRUE(Accepts(g, ok)) << ok;
  }
  EXPECT_TRUE(RefusesAfter(g, "\"gre", "x"));
  EXPECT_TRUE(RefusesAfter(g, "12", "3"));
  EXPECT_TRUE(RefusesAfter(g, "{", " "));  // literals are written compactly
  EXPECT_TRUE(RefusesAfter(g, "", "2"));
  EXPECT_TRUE(Incomplete(g, "nul"));
  auto typed = Grammar(R"({"type": "string", "enum": ["a", 1, "b"]})");
  EXPECT_TRUE(RefusesAfter(typed, "", "1"));
  EXPECT_TRUE(Accepts(typed, "\"b\""));
}

TEST(JsonMatcher, ArrayBounds) {
  auto g = Grammar(R"({"type": "array", "items": {"type": "integer"}, "minItems": 1,
                       "maxItems": 2})");
  EXPECT_TRUE(Accepts(g, "[1]"));
  EXPECT_TRUE(Accepts(g, "[1, 2]"));
  EXPECT_TRUE(RefusesAfter(g, "[", "]"));
  EXPECT_TRUE(RefusesAfter(g, "[1,2", ","));
  auto none = Grammar(R"({"type": "array", "maxItems": 0})");
  EXPECT_TRUE(Accepts(none, "[ ]"));
  EXPECT_TRUE(RefusesAfter(none, "[", "1"));
}

TEST(JsonMatcher, StringLengthsCountCodePoints) {
  auto g = Grammar(R"({"type": "string", "minLength": 2, "maxLength": 3})");
  EXPECT_TRUE(RefusesAfter(g, "\"\xC3\xA9", "\""));  // one code point
  EXPECT_TRUE(Accepts(g, "\"\xC3\xA9\xF0\x9F\x98\x80\""));
  EXPECT_TRUE(Accepts(g, "\"\\n\\u00e9x\""));  // escapes count once each
  EXPECT_TRUE(RefusesAfter(g, "\"abc", "d"));
  EXPECT_TRUE(RefusesAfter(g, "\"ab\\n", "x"));
}

TEST(JsonMatcher, Numbers) {
  auto integer = Grammar(R"({"type": "integer"})");
  EXPECT_TRUE(Accepts(integer, "-12"));
  EXPECT_TRUE(Accepts(integer, "0"));
  EXPECT_TRUE(RefusesAfter(integer, "-", "0"));
  EXPECT_TRUE(RefusesAfter(integer, "1", "."));
  EXPECT_TRUE(RefusesAfter(integer, "1", "e"));
  EXPECT_TRUE(RefusesAfter(integer, "123456789012345", "6"));  // 15 digits at most
  auto number = Grammar(R"({"type": "number"})");
  EXPECT_TRUE(Accepts(number, "-0.5e-12"));
  EXPECT_TRUE(RefusesAfter(number, "1e99", "9"));
  EXPECT_TRUE(RefusesAfter(number, "0.123456789012345", "6"));
  EXPECT_TRUE(Incomplete(number, "1e-"));
}

TEST(JsonMatcher, AnyOfFollowsEveryAlternative) {
  auto g = Grammar(R"({"anyOf": [
      {"type": "object", "properties": {"kind": {"const": "a"}, "x": {"type": "integer"}},
       "required": ["kind", "x"], "additionalProperties": false},
      {"type": "object", "properties": {"kind": {"const": "b"}, "y": {"type": "string"}},
       "required": ["kind", "y"], "additionalProperties": false},
      {"type": "integer"}]})");
  EXPECT_TRUE(Accepts(g, R"({"kind":"a","x":1})"));
  EXPECT_TRUE(Accepts(g, R"({"kind":"b","y":"s"})"));
  EXPECT_TRUE(Accepts(g, "7"));
  EXPECT_TRUE(RefusesAfter(g, R"({"kind":"b",")", "x"));
  EXPECT_TRUE(RefusesAfter(g, R"({"kind":"a",")", "y"));
  EXPECT_TRUE(RefusesAfter(g, R"({"kind":")", "c"));
  EXPECT_TRUE(RefusesAfter(g, "", "\""));
  auto nullable = Grammar(R"({"type": ["string", "null"]})");
  EXPECT_TRUE(Accepts(nullable, "null"));
  EXPECT_TRUE(Accepts(nullable, "\"x\""));
  EXPECT_TRUE(RefusesAfter(nullable, "", "1"));
}

TEST(JsonMatcher, RecursionStopsAtTheDepthLimit) {
  GrammarOptions options;
  options.max_depth = 3;
  auto g = Grammar(R"({"type": "object", "properties": {"value": {"type": "integer"},
      "children": {"type": "array", "items": {"$ref": "#"}}},
      "required": ["value"], "additionalProperties": false})",
                   options);
  EXPECT_TRUE(Accepts(g, R"({"value":1,"children":[{"value":2},{"value":3}]})"));
  // Object, array, object: a third level's "children" array would be the 4th,
  // and with no other key left even the comma goes.
  EXPECT_TRUE(RefusesAfter(g, R"({"value":1,"children":[{"value":2)", ","));
  EXPECT_TRUE(Incomplete(g, R"({"value":1,"children":[{"value":2)"));
  auto any = JsonGrammar::AnyValue(options);
  EXPECT_TRUE(Accepts(any, "[[[1]]]"));
  EXPECT_TRUE(RefusesAfter(any, "[[[", "["));
  EXPECT_TRUE(RefusesAfter(any, "[[{\"a\":", "{"));
}

TEST(JsonMatcher, RequiredNestingWithinTheLimitIsAlwaysPossible) {
  GrammarOptions options;
  options.max_depth = 3;
  // "b" must hold an object holding an array: from depth 2 on it cannot fit,
  // so no key can start there: refusing early instead of leading to a dead end.
  auto g = Grammar(R"({"type": "array", "items": {"type": "object",
      "properties": {"b": {"type": "object", "properties": {"c": {"type": "array"}},
      "required": ["c"]}}}})",
                   options);
  EXPECT_TRUE(RefusesAfter(g, "[{", "\""));
  EXPECT_TRUE(Accepts(g, "[{}]"));
}

TEST(JsonMatcher, CompleteOnlyAtTheEndOfAValue) {
  auto g = JsonGrammar::AnyObject();
  EXPECT_TRUE(RefusesAfter(g, "", "1"));
  EXPECT_TRUE(RefusesAfter(g, "", "["));
  EXPECT_TRUE(Incomplete(g, "{\"a\":1"));
  EXPECT_TRUE(Accepts(g, "{\"a\":1}\n"));
  EXPECT_TRUE(RefusesAfter(g, "{\"a\":1} ", "x"));
}

TEST(JsonMatcher, PlainTextRoomIsTheMostAnyParseAllows) {
  auto g = Grammar(R"({"anyOf": [
      {"type": "object", "properties": {"name": {"type": "string", "maxLength": 6}}},
      {"type": "object", "properties": {"name": {"type": "string", "maxLength": 12}}}]})");
  JsonMatcher m(g);
  ASSERT_EQ(m.AcceptBytes("{\"name\":\"ab"), 11u);
  EXPECT_EQ(m.parses().size(), 2u);
  uint8_t lex = 0xFF;
  int32_t room = 0;
  ASSERT_TRUE(m.InPlainText(lex, room));
  EXPECT_EQ(lex, kLexPlain);
  EXPECT_EQ(room, 10);
  ASSERT_EQ(m.AcceptBytes("\xC3"), 1u);
  ASSERT_TRUE(m.InPlainText(lex, room));
  EXPECT_EQ(lex, kLexCont1);
  ASSERT_EQ(m.AcceptBytes("\xA9\\"), 2u);
  EXPECT_FALSE(m.InPlainText(lex, room));  // inside an escape

  JsonMatcher any(JsonGrammar::AnyObject());
  ASSERT_EQ(any.AcceptBytes("{\"k"), 3u);
  ASSERT_TRUE(any.InPlainText(lex, room));
  EXPECT_EQ(room, kUnbounded);
  ASSERT_EQ(any.AcceptBytes("\":1"), 3u);
  EXPECT_FALSE(any.InPlainText(lex, room));
}

TEST(JsonMatcher, RefusedByteLeavesTheStateAlone) {
  auto g = Grammar(R"({"type": "array", "items": {"type": "integer"}})");
  JsonMatcher m(g);
  EXPECT_EQ(m.AcceptBytes("[1"), 2u);
  EXPECT_FALSE(m.AcceptByte('"'));
  EXPECT_FALSE(m.AcceptByte('x'));
  EXPECT_EQ(m.AcceptBytes("2]"), 2u);
  EXPECT_TRUE(m.IsComplete());
}

TEST(JsonMatcher, LongOutputsKeepTheArenaSmall) {
  auto g =
      Grammar(R"({"type": "array", "items": {"type": "array", "items": {"type": "integer"}}})");
  JsonMatcher m(g);
  ASSERT_EQ(m.AcceptBytes("["), 1u);
  for (int i = 0; i < 20000; ++i) {
    ASSERT_EQ(m.AcceptBytes("[1,2],"), 6u);
  }
  ASSERT_EQ(m.AcceptBytes("[3]]"), 4u);
  EXPECT_TRUE(m.IsComplete());
  EXPECT_LT(m.Mark(), 4096u);
}

}  // namespace
}  // namespace autan::constraint
