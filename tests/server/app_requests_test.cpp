#include "server/app_requests.h"

#include <gtest/gtest.h>

namespace autan::server {
namespace {

using Json = nlohmann::ordered_json;

TEST(ReadChatParams, ReadsOverEarlierValues) {
  ChatParams p;
  p.temperature = 0.5f;
  p.max_tokens = 7;
  EXPECT_FALSE(ReadChatParams(Json::parse(R"({"top_p": 0.25, "max_tokens": 9})"), "parameters", p));
  EXPECT_EQ(p.temperature, 0.5f);  // kept
  EXPECT_EQ(p.top_p, 0.25f);
  EXPECT_EQ(p.max_tokens, 9);
  EXPECT_FALSE(ReadChatParams(Json(), "parameters", p));  // null: nothing changes
  EXPECT_EQ(p.max_tokens, 9);
}

TEST(ReadChatParams, ABadValueNamesItsFieldAndIsNotUsed) {
  ChatParams p;
  std::optional<ApiError> e =
      ReadChatParams(Json::parse(R"({"temperature": 3, "top_p": 0.5})"), "parameters", p);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->param, "parameters.temperature");
  EXPECT_EQ(e->message, "'temperature' must be between 0 and 2");
  EXPECT_FALSE(p.temperature);  // neither the bad value nor a default
  EXPECT_FALSE(p.top_p);        // nothing after the first error
  e = ReadChatParams(Json::parse(R"({"max_tokens": 1.5})"), "assistant", p);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->param, "assistant.max_tokens");
  EXPECT_FALSE(p.max_tokens);
  e = ReadChatParams(Json::parse("[1]"), "parameters", p);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->message, "'parameters' must be an object");
}

TEST(CheckChatParams, RefusesNullAndWhatReadRefuses) {
  EXPECT_TRUE(CheckChatParams(Json(), "parameters"));
  EXPECT_TRUE(CheckChatParams(Json::parse(R"({"top_p": -0.1})"), "parameters"));
  EXPECT_FALSE(CheckChatParams(Json::parse(R"({"top_p": 1, "extra": "kept"})"), "parameters"));
}

TEST(ParseConversationImport, ReadsAnExport) {
  ConversationImport out;
  ASSERT_FALSE(ParseConversationImport(Json::parse(R"({"version": 1,
      "conversation": {"title": "Trip", "id": "ignored"},
      "messages": [{"role": "system", "content": "Be brief."},
                   {"role": "user", "content": "Hi"}, {"role": "assistant", "content": ""}]})"),
                                       out));
  EXPECT_EQ(out.conversation.title, "Trip");
  ASSERT_EQ(out.messages.size(), 3u);
  EXPECT_EQ(out.messages[0].role, store::MessageRole::kSystem);
  EXPECT_EQ(out.messages[1].content, "Hi");
  EXPECT_EQ(out.messages[2].role, store::MessageRole::kAssistant);
}

TEST(ParseConversationImport, ErrorsNameTheField) {
  auto error = [](const char* body) {
    ConversationImport out;
    std::optional<ApiError> e = ParseConversationImport(Json::parse(body), out);
    return e ? e->param : std::string("none");
  };
  EXPECT_EQ(error(R"({"version": 2, "messages": []})"), "version");
  EXPECT_EQ(error(R"([1])"), "version");
  EXPECT_EQ(error(R"({"version": 1, "conversation": 3, "messages": []})"), "conversation");
  EXPECT_EQ(error(R"({"version": 1, "conversation": {"title": 3}, "messages": []})"),
            "conversation.title");
  EXPECT_EQ(error(R"({"version": 1})"), "messages");
  EXPECT_EQ(error(R"({"version": 1, "messages": [{"role": "user", "content": "a"}, 5]})"),
            "messages[1].role");
  EXPECT_EQ(error(R"({"version": 1, "messages": [{"role": "tool", "content": "a"}]})"),
            "messages[0].role");
  EXPECT_EQ(error(R"({"version": 1, "messages": [{"role": "user"}]})"), "messages[0].content");
  EXPECT_EQ(error(R"({"version": 1, "messages": []})"), "none");
}

}  // namespace
}  // namespace autan::server
