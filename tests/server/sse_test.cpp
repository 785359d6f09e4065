#include "server/sse.h"

#include <gtest/gtest.h>

#include "server/api_error.h"
#include "server/openai_schema.h"

namespace autan::server {
namespace {

// Splits an SSE stream into the payloads of its events, as a client does
// (the EventSource algorithm: data lines joined by '\n', blank line ends one).
std::vector<std::string> ParseEvents(const std::string& stream) {
  std::vector<std::string> events;
  std::string data;
  bool has_data = false;
  size_t at = 0;
  while (at < stream.size()) {
    const size_t eol = stream.find('\n', at);
    const std::string line = stream.substr(at, eol - at);
    at = eol == std::string::npos ? stream.size() : eol + 1;
    if (line.empty()) {
      if (has_data) events.push_back(data);
      data.clear();
      has_data = false;
    } else if (line.rfind("data: ", 0) == 0) {
      if (has_data) data += '\n';
      data += line.substr(6);
      has_data = true;
    }
  }
  return events;
}

TEST(Sse, EventsRoundTripThroughAClientParser) {
  const std::string stream = SseEvent(R"({"a":1})") + SseEvent("two\nlines") + SseDone();
  EXPECT_EQ(stream.substr(0, 16), "data: {\"a\":1}\n\nd");
  const std::vector<std::string> events = ParseEvents(stream);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0], R"({"a":1})");
  EXPECT_EQ(events[1], "two\nlines");
  EXPECT_EQ(events[2], "[DONE]");
}

TEST(Sse, ChunksFollowOpenAiShapes) {
  const ResponseMeta meta{"chatcmpl-1", 1700000000, "m"};
  Json role = ChatRoleChunk(meta, 0, false);
  EXPECT_EQ(role["object"], "chat.completion.chunk");
  EXPECT_EQ(role["choices"][0]["delta"]["role"], "assistant");
  EXPECT_TRUE(role["choices"][0]["finish_reason"].is_null());
  EXPECT_FALSE(role.contains("usage"));

  std::vector<Json> chunks = ChatDeltaChunks(meta, {0, "", {}, "stop"}, false, true);
  ASSERT_EQ(chunks.size(), 1u);
  Json last = chunks[0];
  EXPECT_EQ(last["choices"][0]["delta"], Json::object());
  EXPECT_EQ(last["choices"][0]["finish_reason"], "stop");
  EXPECT_TRUE(last.contains("usage") && last["usage"].is_null());

  Json usage = UsageChunk(meta, "chat.completion.chunk", {7, 5});
  EXPECT_TRUE(usage["choices"].empty());
  EXPECT_EQ(usage["usage"]["total_tokens"], 12);
  // The energy fields ride in the usage chunk too.
  EXPECT_EQ(usage["usage"]["energy_joules"], 0.0);
  EXPECT_EQ(usage["usage"]["energy_source"], "estimate");
  EXPECT_TRUE(usage["usage"].contains("co2e_grams") && usage["usage"].contains("cost"));

  // Partial UTF-8 from a byte token must not break the JSON.
  Json piece = ChatDeltaChunks(meta, {1, "\xE2\x82", {}, ""}, false, false).at(0);
  const std::string text = SseEvent(piece.dump(-1, ' ', false, Json::error_handler_t::replace));
  EXPECT_NE(text.find("\xEF\xBF\xBD"), std::string::npos);
}

// OpenAI's stream of a call: its head, then argument fragments, one delta
// per chunk; the finish_reason in the last chunk only.
TEST(Sse, ToolCallDeltasOnePerChunk) {
  const ResponseMeta meta{"chatcmpl-1", 1700000000, "m"};
  ChoiceDelta d{0, "Sure.", {}, "tool_calls"};
  d.tool_calls = {{0, "abcDEF123", "f", ""}, {0, "", "", "{\"a\""}, {0, "", "", ": 1}"}};
  const std::vector<Json> chunks = ChatDeltaChunks(meta, d, false, false);
  ASSERT_EQ(chunks.size(), 4u);
  EXPECT_EQ(chunks[0]["choices"][0]["delta"], Json::parse(R"({"content": "Sure."})"));
  EXPECT_EQ(chunks[1]["choices"][0]["delta"], Json::parse(R"({"tool_calls": [{"index": 0,
      "id": "abcDEF123", "type": "function", "function": {"name": "f", "arguments": ""}}]})"));
  EXPECT_EQ(
      chunks[2]["choices"][0]["delta"],
      Json::parse(
          R"({"tool_calls": [{"index": 0, "function": {"name": "", "arguments": "{\"a\""}}]})"));
  EXPECT_EQ(chunks[3]["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"], ": 1}");
  for (size_t i = 0; i < 3; ++i) EXPECT_TRUE(chunks[i]["choices"][0]["finish_reason"].is_null());
  EXPECT_EQ(chunks[3]["choices"][0]["finish_reason"], "tool_calls");
}

TEST(ChatCompletionObject, ToolCallsWithNullContent) {
  ChoiceOutput c{0, " ", {}, "tool_calls", {{"abcDEF123", "f", R"({"a": 1})"}}};
  const Json j = ChatCompletionObject({"chatcmpl-1", 1, "m"}, {c}, false, {3, 4});
  const Json& message = j["choices"][0]["message"];
  EXPECT_TRUE(message["content"].is_null());
  EXPECT_EQ(message["tool_calls"], Json::parse(R"([{"id": "abcDEF123", "type": "function",
      "function": {"name": "f", "arguments": "{\"a\": 1}"}}])"));
  EXPECT_EQ(j["choices"][0]["finish_reason"], "tool_calls");
  c.text = "Let me look.";
  EXPECT_EQ(ChatCompletionObject({"chatcmpl-1", 1, "m"}, {c}, false,
                                 {3, 4})["choices"][0]["message"]["content"],
            "Let me look.");
  c.tool_calls.clear();
  EXPECT_FALSE(
      ChatCompletionObject({"chatcmpl-1", 1, "m"}, {c}, false, {3, 4})["choices"][0]["message"]
          .contains("tool_calls"));
}

TEST(ErrorResponse, HasOpenAiShapeAndHeaders) {
  HttpResponse r = ErrorResponse(BadRequest("'temperature' must be a number", "temperature"));
  EXPECT_EQ(r.status, 400);
  Json body = Json::parse(r.body);
  EXPECT_EQ(body["error"]["message"], "'temperature' must be a number");
  EXPECT_EQ(body["error"]["type"], "invalid_request_error");
  EXPECT_EQ(body["error"]["param"], "temperature");
  EXPECT_TRUE(body["error"]["code"].is_null());

  HttpResponse busy = ErrorResponse(TooManyRequests("busy"));
  EXPECT_EQ(busy.status, 429);
  bool retry_after = false;
  for (const auto& [k, v] : busy.headers) retry_after |= k == "Retry-After" && std::stoi(v) > 0;
  EXPECT_TRUE(retry_after);

  HttpResponse method = ErrorResponse(MethodNotAllowed("POST"));
  EXPECT_EQ(method.status, 405);
  EXPECT_TRUE(Json::parse(method.body)["error"]["param"].is_null());
  ASSERT_FALSE(method.headers.empty());
  EXPECT_EQ(method.headers[0].first, "Allow");
}

}  // namespace
}  // namespace autan::server
