// Compiling JSON schemas: unsupported or contradictory schemas get an error
// naming the keyword and where it is; hostile schemas (deep nesting, huge
// enums, $ref cycles, anyOf blow-ups) are refused or stay bounded.
#include "runtime/constraint/json_grammar.h"

#include <gtest/gtest.h>

#include <string>

#include "runtime/constraint/json_matcher.h"

namespace autan::constraint {
namespace {

using Json = nlohmann::ordered_json;

std::string ErrorOf(const Json& schema, const GrammarOptions& options = {}) {
  auto g = JsonGrammar::FromSchema(schema, options);
  return g.ok() ? std::string("(compiled)") : g.error().message;
}

std::string ErrorOf(const char* schema) { return ErrorOf(Json::parse(schema)); }

TEST(JsonSchema, UnsupportedKeywordsNameTheirPointer) {
  const std::string e = ErrorOf(R"({"type": "object", "properties": {"age":
      {"type": "integer", "minimum": 0}}})");
  EXPECT_NE(e.find("\"minimum\""), std::string::npos) << e;
  EXPECT_NE(e.find("#/properties/age/minimum"), std::string::npos) << e;
  EXPECT_NE(ErrorOf(R"({"type": "string", "pattern": "^a"})").find("#/pattern"), std::string::npos);
  EXPECT_NE(ErrorOf(R"({"items": [{"type": "string"}]})").find("#/items"), std::string::npos);
  EXPECT_NE(ErrorOf(R"({"type": "array", "uniqueItems": true})").find("uniqueItems"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"not": {}})").find("\"not\""), std::string::npos);
  EXPECT_NE(ErrorOf(R"({"allOf": [{"type": "string"}, {"maxLength": 3}]})").find("#/allOf"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"anyOf": [{"type": "string"}], "type": "string"})").find("\"type\""),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"properties": {"a/b": {"type": "strin"}}})").find("#/properties/a~1b/type"),
            std::string::npos);
}

TEST(JsonSchema, AnnotationsAndUnknownKeywordsAreIgnored) {
  EXPECT_EQ(ErrorOf(R"({"title": "T", "description": "d", "type": "object", "$schema": "x",
      "properties": {"when": {"type": "string", "format": "date-time", "default": "now",
      "x-vendor": 1}}, "examples": [{}], "uniqueItems": false})"),
            "(compiled)");
  // pydantic v1 wraps field references in a one-element allOf.
  EXPECT_EQ(ErrorOf(R"({"$defs": {"P": {"type": "integer"}}, "type": "object",
      "properties": {"p": {"allOf": [{"$ref": "#/$defs/P"}], "description": "d"}}})"),
            "(compiled)");
}

TEST(JsonSchema, BadValuesAreNamed) {
  EXPECT_NE(ErrorOf(R"({"type": "string", "maxLength": -1})").find("#/maxLength"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"type": "array", "minItems": 1.5})").find("#/minItems"), std::string::npos);
  EXPECT_NE(ErrorOf(R"({"properties": 3})").find("properties"), std::string::npos);
  EXPECT_NE(ErrorOf(R"({"required": ["x"], "properties": {"a": {}},
      "additionalProperties": false})")
                .find("\"x\""),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"enum": []})").find("#/enum"), std::string::npos);
  EXPECT_NE(ErrorOf(R"({"type": "string", "enum": [1, 2]})").find("#/enum"), std::string::npos);
  EXPECT_NE(ErrorOf("[1]").find("must be an object or a boolean"), std::string::npos);
  EXPECT_NE(ErrorOf(R"({"$ref": "#/$defs/missing"})").find("#/$defs/missing"), std::string::npos);
  EXPECT_NE(ErrorOf(R"({"$ref": "other.json#/a"})").find("local reference"), std::string::npos);
}

TEST(JsonSchema, UnsatisfiableSchemasAreRefused) {
  EXPECT_NE(ErrorOf("false").find("no finite JSON value"), std::string::npos);
  EXPECT_NE(ErrorOf(R"({"type": "array", "minItems": 3, "maxItems": 2})").find("no finite"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"({"type": "string", "minLength": 3, "maxLength": 2})").find("no finite"),
            std::string::npos);
  // A required property that always recurses has no finite value.
  EXPECT_NE(ErrorOf(R"({"type": "object", "properties": {"next": {"$ref": "#"}},
      "required": ["next"]})")
                .find("no finite"),
            std::string::npos);
  EXPECT_NE(
      ErrorOf(R"({"type": "object", "properties": {"a": false}, "required": ["a"]})").find("\"a\""),
      std::string::npos);
}

TEST(JsonSchema, RefCyclesWithoutInputAreRefused) {
  std::string e = ErrorOf(R"({"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}},
      "$ref": "#/$defs/a"})");
  EXPECT_NE(e.find("$ref cycle"), std::string::npos) << e;
  e = ErrorOf(R"({"$defs": {"a": {"anyOf": [{"$ref": "#/$defs/a"}, {"type": "string"}]}},
      "$ref": "#/$defs/a"})");
  EXPECT_NE(e.find("refers back to itself"), std::string::npos) << e;
  e = ErrorOf(R"({"allOf": [{"$ref": "#"}]})");
  EXPECT_NE(e.find("$ref cycle"), std::string::npos) << e;
}

TEST(JsonSchema, RecursionThroughValuesIsFine) {
  auto g = JsonGrammar::FromSchema(Json::parse(R"({"$defs": {"node": {"type": "object",
      "properties": {"v": {"type": "integer"}, "kids": {"type": "array",
      "items": {"$ref": "#/$defs/node"}}}, "required": ["v"]}}, "$ref": "#/$defs/node"})"));
  ASSERT_TRUE(g.ok()) << g.error().message;
  JsonMatcher m(*g);
  const std::string text = R"({"v":1,"kids":[{"v":2,"kids":[{"v":3}]},{"v":4}]})";
  EXPECT_EQ(m.AcceptBytes(text), text.size());
  EXPECT_TRUE(m.IsComplete());
}

Json Nested(int levels, bool required) {
  Json s = {{"type", "integer"}};
  for (int i = 0; i < levels; ++i) {
    Json o = {{"type", "object"}, {"properties", {{"x", s}}}};
    if (required) o["required"] = Json::array({"x"});
    s = std::move(o);
  }
  return s;
}

TEST(JsonSchema, DeepSchemas) {
  // Required nesting beyond max_depth can never be written.
  std::string e = ErrorOf(Nested(40, true));
  EXPECT_NE(e.find("nested 40 deep; the limit is 32"), std::string::npos) << e;
  // Optional nesting compiles; the output just stops going deeper.
  EXPECT_EQ(ErrorOf(Nested(40, false)), "(compiled)");
  // Schema documents nested past the compiler's own limit.
  e = ErrorOf(Nested(300, false));
  EXPECT_NE(e.find("nested more than 200 levels"), std::string::npos) << e;
  GrammarOptions options;
  options.max_depth = 500;
  e = ErrorOf(Nested(300, true), options);
  EXPECT_NE(e.find("nested more than 200 levels"), std::string::npos) << e;
}

TEST(JsonSchema, HugeEnums) {
  Json values = Json::array();
  for (int i = 0; i < 100000; ++i) values.push_back("value-" + std::to_string(i * 7919));
  auto g = JsonGrammar::FromSchema(Json{{"enum", values}});
  ASSERT_TRUE(g.ok()) << g.error().message;
  JsonMatcher m(*g);
  EXPECT_EQ(m.AcceptBytes("\"value-7919\""), 12u);
  EXPECT_TRUE(m.IsComplete());
  JsonMatcher refuse(*g);
  EXPECT_EQ(refuse.AcceptBytes("\"value-x\""), 7u);

  Json big = Json::array();
  for (int i = 0; i < 5000; ++i) big.push_back(std::string(1000, 'a') + std::to_string(i));
  const std::string e = ErrorOf(Json{{"enum", big}});
  EXPECT_NE(e.find("exceed"), std::string::npos) << e;
}

TEST(JsonSchema, LargeSchemasAreBounded) {
  // nlohmann::json (std::map keys): building it stays n log n.
  nlohmann::json props = nlohmann::json::object();
  for (int i = 0; i < 70000; ++i) props["p" + std::to_string(i)] = {{"type", "integer"}};
  auto g = JsonGrammar::FromSchema(nlohmann::json{{"type", "object"}, {"properties", props}});
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.error().message.find("too large"), std::string::npos) << g.error().message;
  GrammarOptions options;
  options.max_nodes = 1000;
  Json alts = Json::array();
  for (int i = 0; i < 2000; ++i) alts.push_back({{"type", "integer"}});
  const std::string e = ErrorOf(Json{{"anyOf", alts}}, options);
  EXPECT_NE(e.find("too large"), std::string::npos) << e;
}

TEST(JsonSchema, AmbiguousAlternativesStayBounded) {
  // 40 identical alternatives, nested in arrays: without a bound the parses
  // to follow would multiply at every level.
  Json alts = Json::array();
  for (int i = 0; i < 40; ++i) {
    alts.push_back({{"type", "array"}, {"items", {{"$ref", "#"}}}, {"maxItems", 3 + i}});
  }
  GrammarOptions options;
  options.max_parses = 8;
  auto g = JsonGrammar::FromSchema(Json{{"anyOf", alts}}, options);
  ASSERT_TRUE(g.ok()) << g.error().message;
  JsonMatcher m(*g);
  const std::string text = "[[[],[[]]],[[[[]]]],[]]";
  EXPECT_EQ(m.AcceptBytes(text), text.size());
  EXPECT_TRUE(m.IsComplete());
  EXPECT_LE(m.parses().size(), 8u);
}

TEST(JsonSchema, AlternativeListsAreBoundedInTotal) {
  // 1000 small anyOfs that each take in one big anyOf: their flattened lists
  // would hold two million entries together.
  Json big = Json::array();
  for (int i = 0; i < 2000; ++i) big.push_back({{"const", i}});
  Json props = Json::object();
  for (int i = 0; i < 1000; ++i) {
    props["p" + std::to_string(i)] = {
        {"anyOf", Json::array({{{"$ref", "#/$defs/big"}}, {{"const", -i}}})}};
  }
  const std::string e =
      ErrorOf(Json{{"$defs", {{"big", {{"anyOf", big}}}}}, {"properties", props}});
  EXPECT_NE(e.find("alternatives expand to more than"), std::string::npos) << e;
}

TEST(JsonSchema, PlainJsonSortsPropertiesOrderedJsonKeepsThem) {
  const char* text = R"({"type": "object", "properties": {"b": {"type": "integer"},
      "a": {"type": "integer"}}, "required": ["a", "b"]})";
  auto ordered = JsonGrammar::FromSchema(Json::parse(text));
  auto sorted = JsonGrammar::FromSchema(nlohmann::json::parse(text));
  ASSERT_TRUE(ordered.ok() && sorted.ok());
  JsonMatcher m1(*ordered), m2(*sorted);
  EXPECT_EQ(m1.AcceptBytes(R"({"b":1,"a":2})"), 13u);
  EXPECT_EQ(m2.AcceptBytes(R"({"a":1,"b":2})"), 13u);
}

}  // namespace
}  // namespace autan::constraint
