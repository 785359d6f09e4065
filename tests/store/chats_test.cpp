// Assistants, conversations, messages (streaming included), search and usage.
#include <gtest/gtest.h>

#include <algorithm>

#include "store_test_util.h"

namespace autan::store {
namespace {

using testing::MakeUser;
using testing::Must;

class Chats : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = testing::OpenOrDie(testing::TestOptions(tmp_.path(), &clock_));
    ASSERT_NE(store_, nullptr);
    alice_ = MakeUser(*store_, "alice");
  }
  void Advance(int64_t ms) { clock_.ms->fetch_add(ms); }
  Conversation NewChat(const std::string& title) {
    Advance(1);
    return *Must(store_->CreateConversation(alice_.id, {title, std::nullopt}));
  }
  Message Say(const Conversation& c, const std::string& text,
              MessageRole role = MessageRole::kUser) {
    Advance(1);
    return *Must(store_->AppendMessage(alice_.id, c.id, {role, text}));
  }
  std::vector<std::string> Titles(const std::vector<Conversation>& conversations) {
    std::vector<std::string> titles;
    for (const Conversation& c : conversations) titles.push_back(c.title);
    return titles;
  }
  std::vector<std::string> Search(const std::string& query) {
    return Titles(Must(store_->SearchConversations(alice_.id, query, 100)));
  }

  testing::TempDir tmp_;
  testing::TestClock clock_;
  std::unique_ptr<Store> store_;
  User alice_;
};

TEST_F(Chats, ConversationsOfTheSameMillisecondListLastCreatedFirst) {
  using V = std::vector<std::string>;
  std::vector<std::string> titles;
  for (int i = 0; i < 8; ++i) {  // random ids: eight in id order by chance is 1 in 40320
    titles.insert(titles.begin(), "same ms " + std::to_string(i));
    Must(store_->CreateConversation(alice_.id, {"same ms " + std::to_string(i), std::nullopt}));
  }
  EXPECT_EQ(Titles(Must(store_->ListConversations(alice_.id, 10))), V(titles));
  EXPECT_EQ(Search("same ms"), V(titles));
}

TEST_F(Chats, ConversationsListNewestFirstRenameAndDelete) {
  Conversation a = NewChat("first");
  Conversation b = NewChat("second");
  Conversation c = NewChat("third");
  using V = std::vector<std::string>;
  EXPECT_EQ(Titles(Must(store_->ListConversations(alice_.id, 10))),
            (V{"third", "second", "first"}));
  Say(a, "back to the first one");  // a message moves its conversation to the top
  EXPECT_EQ(Titles(Must(store_->ListConversations(alice_.id, 10))),
            (V{"first", "third", "second"}));
  EXPECT_EQ(Titles(Must(store_->ListConversations(alice_.id, 2))), (V{"first", "third"}));
  EXPECT_FALSE(store_->ListConversations(alice_.id, 0).ok());

  EXPECT_TRUE(Must(store_->RenameConversation(alice_.id, b.id, "Deuxième — renamed")));
  EXPECT_EQ(Must(store_->GetConversation(alice_.id, b.id))->title, "Deuxième — renamed");
  EXPECT_FALSE(store_->RenameConversation(alice_.id, b.id, "bad \xff utf-8").ok());

  Message m = Say(c, "soon gone");
  EXPECT_TRUE(Must(store_->DeleteConversation(alice_.id, c.id)));
  EXPECT_FALSE(Must(store_->GetConversation(alice_.id, c.id)).has_value());
  EXPECT_FALSE(Must(store_->GetMessage(alice_.id, m.id)).has_value());
  EXPECT_FALSE(Must(store_->DeleteConversation(alice_.id, c.id)));
  EXPECT_EQ(Must(store_->ListConversations(alice_.id, 10)).size(), 2u);
}

TEST_F(Chats, MessagesKeepOrderAndFields) {
  Conversation c = NewChat("chat");
  Message q = Say(c, "Bonjour ! Qu'est-ce que l'été ?");
  Advance(1);
  NewMessage answer{MessageRole::kAssistant, "L'été est une saison.", MessageStatus::kComplete,
                    MessageStats{12, 85, 640, 3.25}};
  Message a = *Must(store_->AppendMessage(alice_.id, c.id, answer));
  std::vector<Message> messages = *Must(store_->ListMessages(alice_.id, c.id));
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].id, q.id);
  EXPECT_EQ(messages[0].seq, 1);
  EXPECT_EQ(messages[0].role, MessageRole::kUser);
  EXPECT_EQ(messages[0].content, "Bonjour ! Qu'est-ce que l'été ?");
  EXPECT_FALSE(messages[0].stats.tokens.has_value());
  EXPECT_FALSE(messages[0].stats.energy_joules.has_value());
  EXPECT_EQ(messages[1].id, a.id);
  EXPECT_EQ(messages[1].seq, 2);
  EXPECT_EQ(messages[1].role, MessageRole::kAssistant);
  EXPECT_EQ(messages[1].stats.tokens, 12);
  EXPECT_EQ(messages[1].stats.time_to_first_token_ms, 85);
  EXPECT_EQ(messages[1].stats.duration_ms, 640);
  EXPECT_EQ(messages[1].stats.energy_joules, 3.25);
  EXPECT_EQ(messages[1].created_at_ms, clock_.ms->load());
  EXPECT_EQ(Must(store_->GetConversation(alice_.id, c.id))->updated_at_ms, clock_.ms->load());

  EXPECT_FALSE(store_->AppendMessage(alice_.id, c.id, {MessageRole::kUser, "\xc3("}).ok());
  EXPECT_FALSE(
      store_->AppendMessage(alice_.id, c.id, {MessageRole::kUser, std::string("a\0b", 3)}).ok());
  NewMessage negative{MessageRole::kAssistant, "x", MessageStatus::kComplete, {-1}};
  EXPECT_FALSE(store_->AppendMessage(alice_.id, c.id, negative).ok());
}

TEST_F(Chats, StreamingMessagesGrowInPlaceThenFinish) {
  Conversation c = NewChat("chat");
  Say(c, "Count to three.");
  Message a = *Must(store_->AppendMessage(
      alice_.id, c.id, {MessageRole::kAssistant, "", MessageStatus::kStreaming}));
  for (const char* piece : {"One", ", two", ", three."}) {
    EXPECT_TRUE(Must(store_->AppendMessageContent(alice_.id, a.id, piece)));
  }
  Message now = *Must(store_->GetMessage(alice_.id, a.id));
  EXPECT_EQ(now.content, "One, two, three.");
  EXPECT_EQ(now.status, MessageStatus::kStreaming);
  EXPECT_FALSE(store_->FinishMessage(alice_.id, a.id, MessageStatus::kStreaming, {}).ok());
  EXPECT_TRUE(Must(store_->FinishMessage(alice_.id, a.id, MessageStatus::kComplete,
                                         {7, 20, 300, std::nullopt})));
  now = *Must(store_->GetMessage(alice_.id, a.id));
  EXPECT_EQ(now.status, MessageStatus::kComplete);
  EXPECT_EQ(now.stats.tokens, 7);
  EXPECT_FALSE(now.stats.energy_joules.has_value());
  // A finished message no longer changes.
  EXPECT_FALSE(Must(store_->AppendMessageContent(alice_.id, a.id, " Four.")));
  EXPECT_FALSE(Must(store_->FinishMessage(alice_.id, a.id, MessageStatus::kIncomplete, {})));
  EXPECT_EQ(Must(store_->GetMessage(alice_.id, a.id))->content, "One, two, three.");
}

TEST_F(Chats, RestartMarksStreamingMessagesIncomplete) {
  Conversation c = NewChat("chat");
  Message done = Say(c, "question");
  Message cut = *Must(store_->AppendMessage(
      alice_.id, c.id, {MessageRole::kAssistant, "half an ans", MessageStatus::kStreaming}));
  store_.reset();  // the server stops mid-answer
  store_ = testing::OpenOrDie(testing::TestOptions(tmp_.path(), &clock_));
  ASSERT_NE(store_, nullptr);
  EXPECT_EQ(Must(store_->GetMessage(alice_.id, cut.id))->status, MessageStatus::kStreaming);
  EXPECT_EQ(Must(store_->MarkStreamingIncomplete()), 1);
  Message after = *Must(store_->GetMessage(alice_.id, cut.id));
  EXPECT_EQ(after.status, MessageStatus::kIncomplete);
  EXPECT_EQ(after.content, "half an ans");
  EXPECT_EQ(Must(store_->GetMessage(alice_.id, done.id))->status, MessageStatus::kComplete);
  EXPECT_EQ(Must(store_->MarkStreamingIncomplete()), 0);
  // Incomplete answers are searchable like finished ones.
  EXPECT_EQ(Search("an ans"), std::vector<std::string>{"chat"});
}

TEST_F(Chats, SearchFindsTitlesAndContent) {
  Conversation trip = NewChat("Trip to Lyon");
  Say(trip, "Which train goes to Lyon Part-Dieu?");
  Conversation cook = NewChat("Cooking");
  Say(cook, "A recipe for crème brûlée, please.");
  Say(cook, "It needs 50% sugar_free cream and \"vanilla\".", MessageRole::kAssistant);
  Conversation tax = NewChat("Taxes");
  Say(tax, "How is VAT computed?");
  using V = std::vector<std::string>;
  EXPECT_EQ(Search("lyon"), (V{"Trip to Lyon"}));                   // title and content, once
  EXPECT_EQ(Search("PART-dieu"), (V{"Trip to Lyon"}));              // ASCII case folded
  EXPECT_EQ(Search("brûlée"), (V{"Cooking"}));                      // UTF-8 inside the index
  EXPECT_EQ(Search("rain"), (V{"Trip to Lyon"}));                   // substrings, not only words
  EXPECT_EQ(Search("50% sugar_f"), (V{"Cooking"}));                 // no wildcard meaning
  EXPECT_EQ(Search("\"vanilla\""), (V{"Cooking"}));                 // quotes are text
  EXPECT_EQ(Search("VA"), (V{"Taxes", "Cooking"}));                 // short: scanned, not indexed
  EXPECT_EQ(Search("o"), (V{"Taxes", "Cooking", "Trip to Lyon"}));  // newest first
  EXPECT_EQ(Search("zzz"), V{});
  EXPECT_EQ(Search("%"), (V{"Cooking"}));
  EXPECT_FALSE(store_->SearchConversations(alice_.id, "", 10).ok());
  // Deleted conversations leave the index with their messages.
  EXPECT_TRUE(Must(store_->DeleteConversation(alice_.id, cook.id)));
  EXPECT_EQ(Search("brûlée"), V{});
  EXPECT_TRUE(store_->CheckIntegrity().ok());
}

TEST_F(Chats, StreamingTextIsSearchableOnceFinished) {
  Conversation c = NewChat("chat");
  Message a = *Must(store_->AppendMessage(
      alice_.id, c.id, {MessageRole::kAssistant, "", MessageStatus::kStreaming}));
  EXPECT_TRUE(Must(store_->AppendMessageContent(alice_.id, a.id, "photosynthesis")));
  EXPECT_EQ(Search("synthesis"), std::vector<std::string>{});
  EXPECT_TRUE(Must(store_->FinishMessage(alice_.id, a.id, MessageStatus::kComplete, {})));
  EXPECT_EQ(Search("synthesis"), std::vector<std::string>{"chat"});
}

TEST_F(Chats, AssistantsHoldJsonParameters) {
  AssistantFields fields{"Translator", "Translate to French.", R"({"temperature": 0.2})"};
  Assistant t = Must(store_->CreateAssistant(alice_.id, fields));
  EXPECT_EQ(Must(store_->GetAssistant(alice_.id, t.id))->parameters, fields.parameters);
  for (const char* bad : {"", "not json", "[1, 2]", "{\"a\": }"}) {
    EXPECT_FALSE(store_->CreateAssistant(alice_.id, {"X", "", bad}).ok()) << bad;
  }
  EXPECT_FALSE(store_->CreateAssistant(alice_.id, {"", "", "{}"}).ok());
  Advance(10);
  EXPECT_TRUE(Must(store_->UpdateAssistant(alice_.id, t.id, {"Traducteur", "En français.", "{}"})));
  Assistant updated = *Must(store_->GetAssistant(alice_.id, t.id));
  EXPECT_EQ(updated.name, "Traducteur");
  EXPECT_EQ(updated.updated_at_ms, clock_.ms->load());
  EXPECT_EQ(updated.created_at_ms, t.created_at_ms);

  Conversation c = *Must(store_->CreateConversation(alice_.id, {"with t", t.id}));
  Say(c, "Hello");
  EXPECT_EQ(Must(store_->ListAssistants(alice_.id)).size(), 1u);
  EXPECT_TRUE(Must(store_->DeleteAssistant(alice_.id, t.id)));
  std::optional<Conversation> kept = Must(store_->GetConversation(alice_.id, c.id));
  ASSERT_TRUE(kept.has_value());
  EXPECT_FALSE(kept->assistant_id.has_value());
  EXPECT_EQ(Must(store_->ListMessages(alice_.id, c.id))->size(), 1u);
}

TEST_F(Chats, UsageAddsUpPerUtcDay) {
  User bob = MakeUser(*store_, "bob");
  clock_.ms->store(1735775999000);  // 2025-01-01T23:59:59Z
  ASSERT_TRUE(store_->AddUsage(alice_.id, {100, 20, 1.5}).ok());
  ASSERT_TRUE(store_->AddUsage(alice_.id, {50, 5, 0.25}).ok());
  ASSERT_TRUE(store_->AddUsage(bob.id, {7, 7, 7}).ok());
  Advance(1000);  // 2025-01-02T00:00:00Z
  ASSERT_TRUE(store_->AddUsage(alice_.id, {1, 2, 0}).ok());
  EXPECT_FALSE(store_->AddUsage(alice_.id, {-1, 0, 0}).ok());

  std::vector<UsageDay> days = Must(store_->ListUsage(alice_.id, "2025-01-01", "2025-01-31"));
  ASSERT_EQ(days.size(), 2u);
  EXPECT_EQ(days[0].day, "2025-01-01");
  EXPECT_EQ(days[0].requests, 2);
  EXPECT_EQ(days[0].prompt_tokens, 150);
  EXPECT_EQ(days[0].completion_tokens, 25);
  EXPECT_DOUBLE_EQ(days[0].energy_joules, 1.75);
  EXPECT_EQ(days[1].day, "2025-01-02");
  EXPECT_EQ(days[1].requests, 1);
  EXPECT_EQ(Must(store_->ListUsage(alice_.id, "2025-01-02", "2025-01-02")).size(), 1u);
  EXPECT_FALSE(store_->ListUsage(alice_.id, "2025-1-1", "2025-01-02").ok());
  EXPECT_EQ(Must(store_->ListUsage(bob.id, "2025-01-01", "2025-12-31"))[0].prompt_tokens, 7);
}

TEST_F(Chats, EditAndTruncateKeepOnlyTheUsersOwnMessages) {
  Conversation c = NewChat("edit");
  Message q1 = Say(c, "first question");
  Say(c, "first answer", MessageRole::kAssistant);
  Say(c, "second question");
  Say(c, "second answer", MessageRole::kAssistant);
  User bob = MakeUser(*store_, "bob");
  EXPECT_FALSE(Must(store_->SetMessageContent(bob.id, q1.id, "stolen")));
  EXPECT_EQ(Must(store_->DeleteMessagesAfter(bob.id, c.id, 0)), std::nullopt);
  EXPECT_TRUE(Must(store_->SetMessageContent(alice_.id, q1.id, "edited question")));
  EXPECT_EQ(Must(store_->DeleteMessagesAfter(alice_.id, c.id, q1.seq)), 3);
  auto rest = *Must(store_->ListMessages(alice_.id, c.id));
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0].content, "edited question");
  // The search index follows the edit and the deletions.
  EXPECT_EQ(Search("edited"), std::vector<std::string>{"edit"});
  EXPECT_TRUE(Search("second answer").empty());
  // The next message takes the next free position.
  EXPECT_EQ(Say(c, "again").seq, q1.seq + 1);
}

TEST_F(Chats, ConversationAssistantLinkIsScopedToTheUser) {
  Conversation c = NewChat("linked");
  Assistant mine = Must(store_->CreateAssistant(alice_.id, {"helper", "be brief", "{}"}));
  User bob = MakeUser(*store_, "bob");
  Assistant his = Must(store_->CreateAssistant(bob.id, {"other", "", "{}"}));
  EXPECT_FALSE(Must(store_->SetConversationAssistant(alice_.id, c.id, his.id)));
  EXPECT_FALSE(Must(store_->SetConversationAssistant(bob.id, c.id, his.id)));
  EXPECT_EQ(Must(store_->GetConversation(alice_.id, c.id))->assistant_id, std::nullopt);
  EXPECT_TRUE(Must(store_->SetConversationAssistant(alice_.id, c.id, mine.id)));
  EXPECT_EQ(Must(store_->GetConversation(alice_.id, c.id))->assistant_id, mine.id);
  EXPECT_TRUE(Must(store_->SetConversationAssistant(alice_.id, c.id, std::nullopt)));
  EXPECT_EQ(Must(store_->GetConversation(alice_.id, c.id))->assistant_id, std::nullopt);
}

}  // namespace
}  // namespace autan::store
