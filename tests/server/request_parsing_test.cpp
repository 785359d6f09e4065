#include <gtest/gtest.h>

#include "server/mistral_schema.h"
#include "server/openai_schema.h"

namespace autan::server {
namespace {

constexpr int32_t kVocab = 32000;

std::optional<ApiError> Chat(const std::string& body, ChatRequest& out) {
  Json j;
  if (auto e = ParseJsonBody(body, j)) return e;
  return ParseChatRequest(j, kVocab, out);
}

std::optional<ApiError> Completion(const std::string& body, CompletionRequest& out) {
  Json j;
  if (auto e = ParseJsonBody(body, j)) return e;
  return ParseCompletionRequest(j, kVocab, out);
}

// The 400's param for a chat body, or "ok".
std::string ChatParam(const std::string& body) {
  ChatRequest r;
  std::optional<ApiError> e = Chat(body, r);
  if (!e) return "ok";
  EXPECT_EQ(e->status, 400);
  return e->param.empty() ? "(none)" : e->param;
}

TEST(ChatRequest, ReadsOpenAiFields) {
  ChatRequest r;
  ASSERT_FALSE(Chat(R"({"model": "m", "messages": [{"role": "system", "content": "Be brief."},
      {"role": "user", "content": [{"type": "text", "text": "Hi "}, {"type": "text", "text": "there"}]}],
      "temperature": 0.5, "top_p": 0.9, "max_tokens": 12, "seed": 42, "n": 2,
      "stop": ["\n", "END"], "presence_penalty": 0.5, "frequency_penalty": -1,
      "logit_bias": {"15": -100, "7": 3.5}, "stream": true,
      "stream_options": {"include_usage": true}, "logprobs": true, "top_logprobs": 3})",
                    r));
  EXPECT_EQ(r.gen.model, "m");
  ASSERT_EQ(r.messages.size(), 2u);
  EXPECT_EQ(r.messages[1]["content"], "Hi there");
  EXPECT_FLOAT_EQ(r.gen.sampling.temperature, 0.5f);
  EXPECT_FLOAT_EQ(r.gen.sampling.top_p, 0.9f);
  EXPECT_EQ(r.gen.max_tokens, 12);
  EXPECT_EQ(r.gen.seed, 42u);
  EXPECT_EQ(r.gen.n, 2);
  EXPECT_EQ(r.gen.stop, (std::vector<std::string>{"\n", "END"}));
  EXPECT_FLOAT_EQ(r.gen.sampling.presence_penalty, 0.5f);
  EXPECT_FLOAT_EQ(r.gen.sampling.frequency_penalty, -1.0f);
  ASSERT_EQ(r.gen.sampling.logit_bias.size(), 2u);
  EXPECT_TRUE(r.gen.stream);
  EXPECT_TRUE(r.gen.include_usage);
  EXPECT_EQ(r.gen.logprobs, 3);
}

TEST(ChatRequest, DefaultsAreOpenAis) {
  ChatRequest r;
  ASSERT_FALSE(Chat(R"({"messages": [{"role": "user", "content": "x"}]})", r));
  EXPECT_FLOAT_EQ(r.gen.sampling.temperature, 1.0f);
  EXPECT_FLOAT_EQ(r.gen.sampling.top_p, 1.0f);
  EXPECT_EQ(r.gen.sampling.top_k, 0);
  EXPECT_FLOAT_EQ(r.gen.sampling.min_p, 0.0f);
  EXPECT_FALSE(r.gen.max_tokens.has_value());
  EXPECT_FALSE(r.gen.seed.has_value());
  EXPECT_EQ(r.gen.logprobs, -1);
  EXPECT_EQ(r.gen.n, 1);
  EXPECT_EQ(r.gen.format, ResponseFormat::kText);
  // max_completion_tokens is the newer name of max_tokens.
  ASSERT_FALSE(Chat(R"({"messages": [{"role": "user", "content": "x"}],
                        "max_completion_tokens": 5})",
                    r));
  EXPECT_EQ(r.gen.max_tokens, 5);
}

TEST(ChatRequest, NamesTheBadField) {
  const std::string msgs = R"("messages": [{"role": "user", "content": "x"}])";
  EXPECT_EQ(ChatParam("{" + msgs + R"(, "temperature": "hot"})"), "temperature");
  EXPECT_EQ(ChatParam("{" + msgs + R"(, "temperature": 3})"), "temperature");
  EXPECT_EQ(ChatParam("{" + msgs + R"(, "max_tokens": 0})"), "max_tokens");
  EXPECT_EQ(ChatParam("{" + msgs + R"(, "max_tokens": 1.5})"), "max_tokens");
  EXPECT_EQ(ChatParam("{" + msgs + R"(, "n": 100})"), "n");
  EXPECT_EQ(ChatParam("{" + msgs + R"(, "stop": 5})"), "stop");
  EXPECT_EQ(ChatParam("{" + msgs + R"(, "stop": [""]})"), "stop");
  EXPECT_EQ(ChatParam("{" + msgs + R"(, "stream": "yes"})"), "stream");
  EXPECT_EQ(ChatParam("{" + msgs + R"(, "model": 7})"), "model");
  EXPECT_EQ(ChatParam("{" + msgs + R"(, "logit_bias": {"99999": 1}})"), "logit_bias");
  EXPECT_EQ(ChatParam("{" + msgs + R"(, "logit_bias": {"5": 101}})"), "logit_bias");
  EXPECT_EQ(ChatParam("{" + msgs + R"(, "top_logprobs": 2})"), "top_logprobs");
  EXPECT_EQ(ChatParam("{" + msgs + R"(, "response_format": {"type": "xml"}})"),
            "response_format.type");
  EXPECT_EQ(ChatParam(R"({"messages": []})"), "messages");
  EXPECT_EQ(ChatParam(R"({})"), "messages");
  EXPECT_EQ(ChatParam(R"({"messages": [{"content": "x"}]})"), "messages[0].role");
  EXPECT_EQ(ChatParam(R"({"messages": [{"role": "wizard", "content": "x"}]})"), "messages[0].role");
  EXPECT_EQ(ChatParam(R"({"messages": [{"role": "user", "content": 5}]})"), "messages[0].content");
  EXPECT_EQ(ChatParam(R"({"messages": [{"role": "user", "content": [{"type": "image_url"}]}]})"),
            "messages[0].content[0].type");
}

TEST(ChatRequest, MalformedJsonSaysWhere) {
  ChatRequest r;
  std::optional<ApiError> e = Chat(R"({"messages": [)", r);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->status, 400);
  EXPECT_NE(e->message.find("not valid JSON"), std::string::npos);
  EXPECT_NE(e->message.find("line 1"), std::string::npos) << e->message;
  EXPECT_TRUE(Chat("[1, 2]", r).has_value());
}

TEST(ChatRequest, ResponseFormats) {
  ChatRequest r;
  ASSERT_FALSE(Chat(R"({"messages": [{"role": "user", "content": "x"}],
      "response_format": {"type": "json_schema", "json_schema": {"name": "p",
        "schema": {"type": "object", "properties": {"a": {"type": "integer"}}}}}})",
                    r));
  EXPECT_EQ(r.gen.format, ResponseFormat::kJsonSchema);
  EXPECT_EQ(r.gen.schema["properties"]["a"]["type"], "integer");
  ASSERT_FALSE(Chat(R"({"messages": [{"role": "user", "content": "x"}],
                        "response_format": {"type": "json_object"}})",
                    r));
  EXPECT_EQ(r.gen.format, ResponseFormat::kJsonObject);
}

TEST(MistralFields, SeedPrefixSafePromptToolChoice) {
  ChatRequest r;
  ASSERT_FALSE(Chat(R"({"messages": [{"role": "user", "content": "Write a poem"},
      {"role": "assistant", "content": "Roses", "prefix": true}],
      "random_seed": 9, "safe_prompt": true, "tool_choice": "any",
      "tools": [{"type": "function", "function": {"name": "f"}}]})",
                    r));
  EXPECT_EQ(r.gen.seed, 9u);
  EXPECT_TRUE(r.continue_final);
  EXPECT_EQ(r.tool_choice, "any");
  ASSERT_EQ(r.messages.size(), 3u);
  EXPECT_EQ(r.messages[0]["role"], "system");
  EXPECT_EQ(r.messages[0]["content"], kMistralSafePrompt);
  EXPECT_FALSE(r.messages[2].contains("prefix"));

  ChatRequest s;
  ASSERT_FALSE(Chat(R"({"messages": [{"role": "system", "content": "Be terse."},
      {"role": "user", "content": "Hi"}], "safe_prompt": true})",
                    s));
  ASSERT_EQ(s.messages.size(), 2u);
  EXPECT_EQ(s.messages[0]["content"], std::string(kMistralSafePrompt) + "\n\nBe terse.");

  EXPECT_EQ(ChatParam(R"({"messages": [{"role": "assistant", "content": "a", "prefix": true},
                         {"role": "user", "content": "b"}]})"),
            "messages[0].prefix");
  EXPECT_EQ(ChatParam(R"({"messages": [{"role": "user", "content": "b", "prefix": true}]})"),
            "messages[0].prefix");
  EXPECT_EQ(ChatParam(R"({"messages": [{"role": "user", "content": "b"}], "tool_choice": "all"})"),
            "tool_choice");
  EXPECT_EQ(ChatParam(R"({"messages": [{"role": "user", "content": "b"}], "random_seed": "x"})"),
            "random_seed");
}

TEST(ChatRequest, ToolsAndToolChoice) {
  ChatRequest r;
  ASSERT_FALSE(Chat(R"({"messages": [{"role": "user", "content": "x"}],
      "tools": [{"type": "function", "function": {"name": "get_weather",
                 "parameters": {"type": "object"}}},
                {"type": "function", "function": {"name": "add-2_numbers"}}],
      "tool_choice": {"type": "function", "function": {"name": "add-2_numbers"}},
      "parallel_tool_calls": false})",
                    r));
  EXPECT_EQ(r.tools.size(), 2u);
  EXPECT_EQ(r.tool_choice, "function");
  EXPECT_EQ(r.tool_choice_name, "add-2_numbers");
  EXPECT_FALSE(r.parallel_tool_calls);

  const std::string msg = R"("messages": [{"role": "user", "content": "x"}])";
  auto with = [&](const std::string& rest) { return ChatParam("{" + msg + ", " + rest + "}"); };
  const std::string f = R"("tools": [{"type": "function", "function": {"name": "f"}}])";
  EXPECT_EQ(with(f + R"(, "tool_choice": "required")"), "ok");
  EXPECT_EQ(with(R"("tool_choice": "required")"), "tool_choice");
  EXPECT_EQ(with(R"("tools": [], "tool_choice": "any")"), "tool_choice");
  EXPECT_EQ(with(f + R"(, "tool_choice": {"type": "function", "function": {"name": "g"}})"),
            "tool_choice");
  EXPECT_EQ(with(f + R"(, "tool_choice": {"type": "function"})"), "tool_choice.function.name");
  EXPECT_EQ(with(R"("tools": {"name": "f"})"), "tools");
  EXPECT_EQ(with(R"("tools": [{"type": "retrieval", "function": {"name": "f"}}])"),
            "tools[0].type");
  EXPECT_EQ(with(R"("tools": [{"type": "function"}])"), "tools[0].function");
  EXPECT_EQ(with(R"("tools": [{"type": "function", "function": {"name": "a b"}}])"),
            "tools[0].function.name");
  EXPECT_EQ(with(R"("tools": [{"type": "function", "function": {"name": "f"}},
                              {"type": "function", "function": {"name": "f"}}])"),
            "tools[1].function.name");
  EXPECT_EQ(with(R"("tools": [{"type": "function", "function": {"name": "f", "parameters": 1}}])"),
            "tools[0].function.parameters");
  EXPECT_EQ(with(f + R"(, "parallel_tool_calls": "yes")"), "parallel_tool_calls");
}

// Assistant tool calls reach the template with their arguments as objects
// (the templates write them with tojson); tool results keep their call id.
TEST(ChatRequest, ToolCallMessages) {
  ChatRequest r;
  ASSERT_FALSE(Chat(R"({"messages": [{"role": "user", "content": "weather?"},
      {"role": "assistant", "content": null, "tool_calls": [{"id": "abcDEF123", "type": "function",
        "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]},
      {"role": "tool", "tool_call_id": "abcDEF123", "content": "{\"c\": 21}"}]})",
                    r));
  ASSERT_EQ(r.messages.size(), 3u);
  const Json& call = r.messages[1]["tool_calls"][0];
  EXPECT_EQ(call["id"], "abcDEF123");
  EXPECT_EQ(call["function"]["name"], "get_weather");
  EXPECT_EQ(call["function"]["arguments"], Json::parse(R"({"city": "Paris"})"));
  EXPECT_EQ(r.messages[1]["content"], "");
  EXPECT_EQ(r.messages[2]["tool_call_id"], "abcDEF123");

  const std::string head = R"({"messages": [{"role": "user", "content": "x"}, )";
  EXPECT_EQ(ChatParam(head + R"({"role": "assistant", "tool_calls": {}}]})"),
            "messages[1].tool_calls");
  EXPECT_EQ(ChatParam(head + R"({"role": "assistant", "tool_calls": [{"function":
      {"name": "f", "arguments": "{}"}}]}]})"),
            "messages[1].tool_calls[0].id");
  EXPECT_EQ(ChatParam(head + R"({"role": "assistant", "tool_calls": [{"id": "a", "function":
      {"arguments": "{}"}}]}]})"),
            "messages[1].tool_calls[0].function.name");
  EXPECT_EQ(ChatParam(head + R"({"role": "tool", "tool_call_id": 5, "content": "x"}]})"),
            "messages[1].tool_call_id");
  EXPECT_EQ(ChatParam(head + R"({"role": "user", "content": "y", "tool_calls": []}]})"),
            "messages[1]");
}

TEST(CompletionRequest, PromptShapes) {
  CompletionRequest r;
  ASSERT_FALSE(Completion(R"({"prompt": "Once", "logprobs": 2, "echo": true})", r));
  EXPECT_EQ(r.texts, std::vector<std::string>{"Once"});
  EXPECT_EQ(r.gen.logprobs, 2);
  EXPECT_TRUE(r.echo);
  CompletionRequest a;
  ASSERT_FALSE(Completion(R"({"prompt": ["a", "b"], "n": 2})", a));
  EXPECT_EQ(a.texts.size(), 2u);
  CompletionRequest ids;
  ASSERT_FALSE(Completion(R"({"prompt": [1, 450, 4996]})", ids));
  ASSERT_TRUE(ids.ids_given);
  EXPECT_EQ(ids.ids[0], (std::vector<int32_t>{1, 450, 4996}));
  CompletionRequest lists;
  ASSERT_FALSE(Completion(R"({"prompt": [[1, 2], [3]]})", lists));
  EXPECT_EQ(lists.ids.size(), 2u);

  for (const char* bad :
       {R"({})", R"({"prompt": 5})", R"({"prompt": [1, 32000]})", R"({"prompt": ["a", 1]})",
        R"({"prompt": [[1], []]})", R"({"prompt": ["a", "b", "c", "d", "e"], "n": 4})"}) {
    CompletionRequest c;
    std::optional<ApiError> e = Completion(bad, c);
    ASSERT_TRUE(e) << bad;
    EXPECT_EQ(e->param, "prompt") << bad;
  }
  CompletionRequest suffix;
  std::optional<ApiError> e = Completion(R"({"prompt": "a", "suffix": "b"})", suffix);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->param, "suffix");
}

TEST(Responses, ChatCompletionShape) {
  const ResponseMeta meta{"chatcmpl-x", 1700000000, "tiny"};
  std::vector<ChoiceOutput> choices = {
      {0, "Hello", {{"Hello", -0.5f, {{"Hello", -0.5f}}}}, "stop"}};
  Json j = ChatCompletionObject(meta, choices, true, {10, 1});
  EXPECT_EQ(j["object"], "chat.completion");
  EXPECT_EQ(j["choices"][0]["message"]["role"], "assistant");
  EXPECT_EQ(j["choices"][0]["message"]["content"], "Hello");
  EXPECT_EQ(j["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(j["choices"][0]["logprobs"]["content"][0]["bytes"],
            Json::array({72, 101, 108, 108, 111}));
  EXPECT_EQ(j["usage"]["total_tokens"], 11);
  Json t = TextCompletionObject(meta, choices, true, {10, 1});
  EXPECT_EQ(t["object"], "text_completion");
  EXPECT_EQ(t["choices"][0]["text"], "Hello");
  EXPECT_EQ(t["choices"][0]["logprobs"]["tokens"][0], "Hello");
}

}  // namespace
}  // namespace autan::server
