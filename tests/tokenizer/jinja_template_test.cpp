// The Template API: expected prompts written out by reading the model
// templates, key order, reuse across renders and threads, the clock.
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tokenizer/jinja/template.h"

namespace autan::jinja {
namespace {

using Json = nlohmann::ordered_json;

Template LoadModelTemplate(const std::string& file) {
  std::ifstream in(std::string(AUTAN_TESTDATA) + "/templates/" + file, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  auto t = Template::Parse(ss.str());
  EXPECT_TRUE(t.ok()) << file << ": " << t.error().message;
  return std::move(t.value());
}

std::string Render(const Template& t, const Json& context) {
  auto out = t.Render(context);
  EXPECT_TRUE(out.ok()) << out.error().message;
  return out.ok() ? *out : "";
}

TEST(JinjaTemplate, Phi35) {
  Template t = LoadModelTemplate("microsoft-Phi-3.5-mini-instruct.jinja");
  Json messages = {{{"role", "system"}, {"content", "You are helpful."}},
                   {{"role", "user"}, {"content", "Hi"}},
                   {{"role", "assistant"}, {"content", "Hello!"}}};
  EXPECT_EQ(Render(t, {{"messages", messages}, {"add_generation_prompt", true}}),
            "<|system|>\nYou are helpful.<|end|>\n<|user|>\nHi<|end|>\n"
            "<|assistant|>\nHello!<|end|>\n<|assistant|>\n");
  EXPECT_EQ(Render(t, {{"messages", messages},
                       {"add_generation_prompt", false},
                       {"eos_token", "<|endoftext|>"}}),
            "<|system|>\nYou are helpful.<|end|>\n<|user|>\nHi<|end|>\n"
            "<|assistant|>\nHello!<|end|>\n<|endoftext|>");
}

TEST(JinjaTemplate, Gemma2TrimsTurnsAndRefusesSystem) {
  Template t = LoadModelTemplate("google-gemma-2-2b-it.jinja");
  Json messages = {{{"role", "user"}, {"content", "  Hi  "}},
                   {{"role", "assistant"}, {"content", "Hello"}}};
  EXPECT_EQ(
      Render(t, {{"messages", messages}, {"add_generation_prompt", true}, {"bos_token", "<bos>"}}),
      "<bos><start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\nHello<end_of_turn>\n"
      "<start_of_turn>model\n");
  auto out = t.Render({{"messages", {{{"role", "system"}, {"content", "x"}}}}});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().message, "line 1:59: raise_exception: System role not supported");
}

TEST(JinjaTemplate, Llama31DefaultSystemHeader) {
  Template t = LoadModelTemplate("meta-llama-Llama-3.1-8B-Instruct.jinja");
  Json context = {{"messages", {{{"role", "user"}, {"content", "Hi"}}}},
                  {"add_generation_prompt", true},
                  {"bos_token", "<|begin_of_text|>"}};
  EXPECT_EQ(Render(t, context),
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"
            "Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n<|eot_id|>"
            "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\n");
}

// Mistral's template prints each tool's keys in the order the request gave
// them, so the context keeps JSON key order.
TEST(JinjaTemplate, MistralNemoToolsKeepKeyOrder) {
  Template t = LoadModelTemplate("mistralai-Mistral-Nemo-Instruct-2407.jinja");
  std::string request = R"({
    "messages": [{"role": "user", "content": "What's the weather?"}],
    "tools": [{"type": "function", "function": {"name": "get_weather",
      "description": "Get weather", "parameters": {"type": "object",
      "properties": {"city": {"type": "string"}}, "required": ["city"]}}}],
    "bos_token": "<s>"})";
  const std::string expected =
      "<s>[AVAILABLE_TOOLS][{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", "
      "\"description\": \"Get weather\", \"parameters\": {\"type\": \"object\", \"properties\": "
      "{\"city\": {\"type\": \"string\"}}, \"required\": [\"city\"]}}}][/AVAILABLE_TOOLS]"
      "[INST]What's the weather?[/INST]";
  EXPECT_EQ(Render(t, Json::parse(request)), expected);
  // A plain nlohmann::json sorts keys, and the prompt changes with them.
  nlohmann::json sorted = nlohmann::json::parse(request);
  auto out = t.Render(sorted);
  ASSERT_TRUE(out.ok());
  EXPECT_NE(*out, expected);
  EXPECT_NE(out->find("{\"description\": \"Get weather\", \"name\": \"get_weather\""),
            std::string::npos);
}

TEST(JinjaTemplate, ReusableCopyableAndThreadSafe) {
  auto parsed = Template::Parse(
      "{% for m in messages %}{{ loop.index }}:{{ m.content | upper }};{% endfor %}"
      "{% set ns = namespace(n=0) %}{% for m in messages %}{% set ns.n = ns.n + 1 %}{% endfor %}"
      "{{ ns.n }}");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  Template copy = *parsed;
  Json context = {{"messages", Json::array()}};
  for (int i = 0; i < 50; ++i)
    context["messages"].push_back({{"content", "m" + std::to_string(i)}});
  std::string first = Render(copy, context);
  EXPECT_EQ(first.substr(0, 12), "1:M0;2:M1;3:");
  EXPECT_EQ(first.substr(first.size() - 3), ";50");
  std::vector<std::string> outputs(8);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < outputs.size(); ++i) {
    threads.emplace_back([&, i] {
      for (int k = 0; k < 20; ++k) outputs[i] = Render(*parsed, context);
    });
  }
  for (auto& th : threads) th.join();
  for (const std::string& out : outputs) EXPECT_EQ(out, first);
}

TEST(JinjaTemplate, StrftimeNowUsesTheGivenClock) {
  auto t = Template::Parse("{{ strftime_now('%Y') }}|{{ strftime_now('') }}");
  ASSERT_TRUE(t.ok());
  RenderOptions options;
  options.now = std::chrono::system_clock::from_time_t(86400 * 366);  // 1971-01-02
  auto out = t->Render(Json::object(), options);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(*out, "1971|");
  out = t->Render(Json::object());  // the system clock
  ASSERT_TRUE(out.ok());
  EXPECT_GE(std::stoi(out->substr(0, 4)), 2024);
}

TEST(JinjaTemplate, UndefinedSemantics) {
  auto t = Template::Parse(
      "[{{ missing }}][{{ missing | default('d') }}][{{ m.nope }}][{{ m.nope is defined }}]"
      "[{{ missing | length }}][{% for x in missing %}x{% endfor %}][{{ missing == missing }}]");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(Render(*t, {{"m", Json::object()}}), "[][d][][False][0][][True]");
}

}  // namespace
}  // namespace autan::jinja
