// Bad and hostile templates: every failure is an error value naming the
// construct and its line:column, never a crash, a hang or unbounded memory.
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tokenizer/jinja/template.h"

namespace autan::jinja {
namespace {

using Json = nlohmann::ordered_json;

std::string ParseError(const std::string& source) {
  auto t = Template::Parse(source);
  EXPECT_FALSE(t.ok()) << "parsed: " << source;
  return t.ok() ? "" : t.error().message;
}

std::string RenderError(const std::string& source, const Json& context = Json::object(),
                        const RenderOptions& options = {}) {
  auto t = Template::Parse(source);
  EXPECT_TRUE(t.ok()) << t.error().message;
  if (!t.ok()) return "";
  auto out = t->Render(context, options);
  EXPECT_FALSE(out.ok()) << "rendered " << out->size() << " bytes";
  return out.ok() ? "" : out.error().message;
}

#define EXPECT_CONTAINS(haystack, needle) \
  EXPECT_NE(std::string(haystack).find(needle), std::string::npos) << (haystack)

TEST(JinjaErrors, UnterminatedTags) {
  EXPECT_CONTAINS(ParseError("ab\n  {{ x"), "line 2:3: unexpected end of template: '{{'");
  EXPECT_CONTAINS(ParseError("{% if x"), "line 1:1: unexpected end of template: '{%'");
  EXPECT_CONTAINS(ParseError("x{# note"), "line 1:2: missing end of comment tag");
  EXPECT_CONTAINS(ParseError("{% raw %}x"), "missing end of raw directive");
  EXPECT_CONTAINS(ParseError("{{ 'abc }}"), "line 1:4: unterminated string literal");
}

TEST(JinjaErrors, UnclosedBlocksNameTheOpeningTag) {
  std::string e = ParseError("a\n{% for m in messages %}\n{% if m %}x{% endif %}\n");
  EXPECT_CONTAINS(e, "'for' opened at line 2:4 is never closed (expected 'endfor')");
  e = ParseError("{% if a %}{% elif b %}{% else %}");
  EXPECT_CONTAINS(e, "'if' opened at line 1:4 is never closed (expected 'endif')");
  EXPECT_CONTAINS(ParseError("{% macro m() %}"), "expected 'endmacro'");
}

TEST(JinjaErrors, UnknownAndUnsupportedConstructs) {
  EXPECT_CONTAINS(ParseError("{{ x | frobnicate }}"), "line 1:8: unknown filter 'frobnicate'");
  EXPECT_CONTAINS(ParseError("\n\n  {{ x is shiny }}"), "line 3:11: unknown test 'shiny'");
  EXPECT_CONTAINS(ParseError("{% frob x %}"), "line 1:4: unknown tag 'frob'");
  EXPECT_CONTAINS(ParseError("{% include 'header.jinja' %}"),
                  "line 1:4: the 'include' statement is not supported");
  EXPECT_CONTAINS(ParseError("{% extends 'base' %}"), "'extends' statement is not supported");
  EXPECT_CONTAINS(ParseError("{% endfor %}"), "line 1:4: unexpected 'endfor'");
  EXPECT_CONTAINS(ParseError("{% if x %}{% endfor %}"), "unexpected 'endfor'");
  EXPECT_CONTAINS(ParseError("{% for x in y recursive %}{% endfor %}"),
                  "recursive for loops are not supported");
  EXPECT_CONTAINS(ParseError("{% break %}"), "'break' outside of a loop");
  EXPECT_CONTAINS(ParseError("{{ f(*args) }}"), "'*' and '**' arguments are not supported");
}

TEST(JinjaErrors, MalformedExpressions) {
  EXPECT_CONTAINS(ParseError("{{ 1 + }}"), "line 1:8: expected an expression, got '}}'");
  EXPECT_CONTAINS(ParseError("{{ }}"), "expected an expression");
  EXPECT_CONTAINS(ParseError("{{ (1 }}"), "line 1:7: unexpected '}'");
  EXPECT_CONTAINS(ParseError("{{ a $ b }}"), "line 1:6: unexpected character '$' in tag");
  EXPECT_CONTAINS(ParseError("{% set %}"), "expected a variable name");
  EXPECT_CONTAINS(ParseError("{% set true = 1 %}"), "cannot assign to 'true'");
  EXPECT_CONTAINS(ParseError("{{ f(a=1, 2) }}"), "positional argument follows keyword argument");
  EXPECT_CONTAINS(ParseError("{% macro m(a=1, b) %}{% endmacro %}"),
                  "non-default argument follows default argument");
  EXPECT_CONTAINS(ParseError("{{ x is defined is defined }}"), "cannot chain tests");
  EXPECT_CONTAINS(ParseError("{{ '\\x4' }}"), "truncated \\x escape");
}

TEST(JinjaErrors, RuntimeErrorsCarryTheLine) {
  std::string e = RenderError(
      "{% for m in messages %}\n{{ raise_exception('Bad role: ' ~ m) }}"
      "{% endfor %}",
      {{"messages", {"critic"}}});
  EXPECT_EQ(e, "line 2:4: raise_exception: Bad role: critic");
  EXPECT_CONTAINS(RenderError("x\n{{ u.name }}"), "line 2:5: 'u' is undefined");
  EXPECT_CONTAINS(RenderError("{{ m.content.x.y }}", {{"m", {{"role", "user"}}}}),
                  "'dict object' has no attribute 'content'");
  EXPECT_CONTAINS(RenderError("{{ 'a' + 1 }}"), "line 1:8: can only concatenate str");
  EXPECT_CONTAINS(RenderError("{{ u | tojson }}"), "Object of type Undefined is not JSON");
  EXPECT_CONTAINS(RenderError("{{ 1 // 0 }}"), "integer division or modulo by zero");
  EXPECT_CONTAINS(RenderError("{{ 2 ** 100 }}"), "integer overflow");
  EXPECT_CONTAINS(RenderError("{{ messages.append(1) }}", {{"messages", Json::array()}}),
                  "access to attribute 'append' of 'list' object is unsafe");
  EXPECT_CONTAINS(RenderError("{{ x.startswith() }}", {{"x", "s"}}),
                  "startswith() takes one argument");
  EXPECT_CONTAINS(RenderError("{{ 'a' | indent(x) }}", {{"x", {1}}}), "expects an integer");
  EXPECT_CONTAINS(RenderError("{{ [1] | join(attribute='a.b') }}"), "has no attribute 'a'");
}

TEST(JinjaErrors, ContextMustBeAnObject) {
  auto t = Template::Parse("x");
  ASSERT_TRUE(t.ok());
  auto out = t->Render(Json::array());
  ASSERT_FALSE(out.ok());
  EXPECT_CONTAINS(out.error().message, "context must be a JSON object");
}

// ---- hostile inputs: bounded recursion, work and memory ----

TEST(JinjaHostile, DeepNestingIsRefusedAtParse) {
  EXPECT_CONTAINS(
      ParseError("{{ " + std::string(100000, '(') + "1" + std::string(100000, ')') + " }}"),
      "nested too deeply");
  EXPECT_CONTAINS(ParseError("{{ " + std::string(100000, '[') + std::string(100000, ']') + " }}"),
                  "nested too deeply");
  EXPECT_CONTAINS(ParseError("{{ " + std::string(100000, '[') + " }}"), "unexpected '}'");
  EXPECT_CONTAINS(ParseError("{{ " + std::string(100000, '-') + "1 }}"), "nested too deeply");
  std::string ifs;
  for (int i = 0; i < 10000; ++i) ifs += "{% if true %}";
  EXPECT_CONTAINS(ParseError(ifs), "nested too deeply");
  std::string nots = "{{ ";
  for (int i = 0; i < 10000; ++i) nots += "not ";
  EXPECT_CONTAINS(ParseError(nots + "x }}"), "nested too deeply");
}

TEST(JinjaHostile, LongOperatorChainsParseButEvaluationIsBounded) {
  std::string chain = "{{ 'a'";
  for (int i = 0; i < 200000; ++i) chain += " ~ 'a'";
  chain += " }}";
  EXPECT_CONTAINS(RenderError(chain), "template nesting exceeds the limit of 256 levels");
  std::string filters = "{{ 'a'";
  for (int i = 0; i < 100000; ++i) filters += " | upper";
  EXPECT_CONTAINS(RenderError(filters + " }}"), "nesting exceeds the limit");
  std::string attrs = "{{ x";
  for (int i = 0; i < 100000; ++i) attrs += ".a";
  EXPECT_CONTAINS(RenderError(attrs + " }}", {{"x", 1}}), "nesting exceeds the limit");
}

TEST(JinjaHostile, LoopsAreBounded) {
  EXPECT_CONTAINS(RenderError("{% for i in range(100000) %}{% for j in range(100000) %}"
                              "{% endfor %}{% endfor %}"),
                  "exceeds the limit of 1000000 loop iterations and macro calls");
  RenderOptions small;
  small.max_steps = 1000;
  EXPECT_CONTAINS(RenderError("{% for i in range(2000) %}{% endfor %}", Json::object(), small),
                  "line 1:4: template exceeds the limit of 1000 loop iterations");
  EXPECT_CONTAINS(RenderError("{{ range(100000000000) | length }}"), "Range too big");
  EXPECT_CONTAINS(RenderError("{{ range(0, 10, 0) | list }}"), "must not be zero");
}

TEST(JinjaHostile, OutputAndValuesAreBounded) {
  EXPECT_CONTAINS(RenderError("{% for i in range(100000) %}{{ 'x' * 1000 }}{% endfor %}"),
                  "output exceeds the limit of 16777216 bytes");
  EXPECT_CONTAINS(RenderError("{{ 'x' * 1000000000000 }}"), "exceeds the 16777216-byte limit");
  EXPECT_CONTAINS(RenderError("{{ [1] * 1000000000000 }}"), "item limit");
  EXPECT_CONTAINS(RenderError("{% set ns = namespace(s='xx') %}{% for i in range(100) %}"
                              "{% set ns.s = ns.s ~ ns.s %}{% endfor %}"),
                  "byte limit");
  EXPECT_CONTAINS(RenderError("{% set ns = namespace(l=[1]) %}{% for i in range(100) %}"
                              "{% set ns.l = ns.l + ns.l %}{% endfor %}"),
                  "item limit");
  EXPECT_CONTAINS(RenderError("{{ 'ab' | replace('', 'x' * 10000000) }}"), "byte limit");
  EXPECT_CONTAINS(RenderError("{{ 'x' | indent(100000000000) }}"), "indent width too large");
  RenderOptions small;
  small.max_output_bytes = 100;
  EXPECT_CONTAINS(RenderError("{{ 'x' * 101 }}", Json::object(), small), "byte limit");
}

TEST(JinjaHostile, RecursionIsBounded) {
  EXPECT_CONTAINS(RenderError("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}"),
                  "nesting exceeds the limit");
  // Exponential fan-out stays within the step budget.
  RenderOptions small;
  small.max_steps = 10000;
  EXPECT_CONTAINS(RenderError("{% macro f(n) %}{% if n < 40 %}{{ f(n + 1) }}{{ f(n + 1) }}"
                              "{% endif %}{% endmacro %}{{ f(0) }}",
                              Json::object(), small),
                  "exceeds the limit of 10000 loop iterations and macro calls");
}

TEST(JinjaHostile, DeepValuesAreRefused) {
  EXPECT_CONTAINS(RenderError("{% set ns = namespace(l=[]) %}{% for i in range(100000) %}"
                              "{% set ns.l = [ns.l] %}{% endfor %}"),
                  "value nested deeper than 512 levels");
  EXPECT_CONTAINS(RenderError("{% set ns = namespace(d={}) %}{% for i in range(100000) %}"
                              "{% set ns.d = {'k': ns.d} %}{% endfor %}"),
                  "value nested deeper than 512 levels");
  // As a request body would arrive (nlohmann's parser is not recursive; its
  // copy constructor is, so the context is built without copies).
  Json context = Json::object();
  context["messages"] = Json::parse(std::string(100000, '[') + std::string(100000, ']'));
  auto t = Template::Parse("{{ messages }}");
  ASSERT_TRUE(t.ok());
  auto out = t->Render(context);
  ASSERT_FALSE(out.ok());
  EXPECT_CONTAINS(out.error().message, "nested deeper than 512 levels");
}

TEST(JinjaHostile, SelfReferencesPrintAndFree) {
  // A namespace holding itself prints (elided) and is freed after the render.
  auto t = Template::Parse(
      "{% set ns = namespace() %}{% set ns.me = ns %}{{ ns | string | length "
      "> 10 }}{% macro m() %}{{ m }}{% endmacro %}");
  ASSERT_TRUE(t.ok()) << t.error().message;
  auto out = t->Render(Json::object());
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(*out, "True");
}

TEST(JinjaHostile, OddBytes) {
  std::string nul_text("a\0b{{ x }}\xff\xfe", 12);
  auto t = Template::Parse(nul_text);
  ASSERT_TRUE(t.ok()) << t.error().message;
  auto out = t->Render({{"x", "y"}});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, std::string("a\0by\xff\xfe", 6));
  EXPECT_CONTAINS(ParseError("{{ \xff }}"), "unexpected character");
  // Invalid UTF-8 inside template strings is carried through byte for byte.
  t = Template::Parse("{{ '\xc3' ~ '\xa9' | length }}|{{ ('a\xe2\x82' | tojson) }}");
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_TRUE(t->Render(Json::object()).ok());
}

}  // namespace
}  // namespace autan::jinja
