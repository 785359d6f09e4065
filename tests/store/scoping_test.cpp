// One user can never read, list, change or delete another's assistants,
// conversations, messages or keys: knowing the ids gives the same "not found"
// as ids that do not exist.
#include <gtest/gtest.h>

#include <set>

#include "store/secret.h"
#include "store_test_util.h"

namespace autan::store {
namespace {

using testing::MakeUser;
using testing::Must;

class Scoping : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = testing::OpenOrDie(testing::TestOptions(tmp_.path()));
    ASSERT_NE(store_, nullptr);
    alice_ = MakeUser(*store_, "alice");
    bob_ = MakeUser(*store_, "bob");
    assistant_ = Must(store_->CreateAssistant(alice_.id, {"Lawyer", "Cite the law.", "{}"}));
    conversation_ =
        *Must(store_->CreateConversation(alice_.id, {"Contract review", assistant_.id}));
    question_ = *Must(store_->AppendMessage(alice_.id, conversation_.id,
                                            {MessageRole::kUser, "Is clause 4 valid?"}));
    answer_ = *Must(store_->AppendMessage(
        alice_.id, conversation_.id, {MessageRole::kAssistant, "Cla", MessageStatus::kStreaming}));
    key_ = Must(store_->CreateApiKey(alice_.id, "laptop"));
  }

  // Alice's data, exactly as she left it.
  void ExpectAliceUntouched() {
    std::optional<Assistant> assistant = Must(store_->GetAssistant(alice_.id, assistant_.id));
    ASSERT_TRUE(assistant.has_value());
    EXPECT_EQ(assistant->name, "Lawyer");
    EXPECT_EQ(assistant->instructions, "Cite the law.");
    std::optional<Conversation> conversation =
        Must(store_->GetConversation(alice_.id, conversation_.id));
    ASSERT_TRUE(conversation.has_value());
    EXPECT_EQ(conversation->title, "Contract review");
    EXPECT_EQ(conversation->assistant_id, assistant_.id);
    std::optional<std::vector<Message>> messages =
        Must(store_->ListMessages(alice_.id, conversation_.id));
    ASSERT_TRUE(messages.has_value());
    ASSERT_EQ(messages->size(), 2u);
    EXPECT_EQ((*messages)[0].content, "Is clause 4 valid?");
    EXPECT_EQ((*messages)[1].content, "Cla");
    EXPECT_EQ((*messages)[1].status, MessageStatus::kStreaming);
    std::vector<ApiKey> keys = Must(store_->ListApiKeys(alice_.id));
    ASSERT_EQ(keys.size(), 1u);
    EXPECT_FALSE(keys[0].revoked);
    std::optional<User> owner = Must(store_->FindUserByApiKey(key_.secret));
    ASSERT_TRUE(owner.has_value());
    EXPECT_EQ(owner->id, alice_.id);
  }

  testing::TempDir tmp_;
  std::unique_ptr<Store> store_;
  User alice_, bob_;
  Assistant assistant_;
  Conversation conversation_;
  Message question_, answer_;
  NewApiKey key_;
};

TEST_F(Scoping, AnotherUserGetsNotFoundFromEveryMethod) {
  const std::string& b = bob_.id;
  EXPECT_FALSE(Must(store_->GetAssistant(b, assistant_.id)).has_value());
  EXPECT_TRUE(Must(store_->ListAssistants(b)).empty());
  EXPECT_FALSE(Must(store_->UpdateAssistant(b, assistant_.id, {"Mine", "", "{}"})));
  EXPECT_FALSE(Must(store_->DeleteAssistant(b, assistant_.id)));
  // Bob cannot attach Alice's assistant to a conversation of his.
  EXPECT_FALSE(Must(store_->CreateConversation(b, {"x", assistant_.id})).has_value());

  EXPECT_FALSE(Must(store_->GetConversation(b, conversation_.id)).has_value());
  EXPECT_TRUE(Must(store_->ListConversations(b, 100)).empty());
  EXPECT_TRUE(Must(store_->SearchConversations(b, "clause", 100)).empty());
  EXPECT_TRUE(Must(store_->SearchConversations(b, "Contract", 100)).empty());
  EXPECT_TRUE(Must(store_->SearchConversations(b, "4", 100)).empty());
  EXPECT_FALSE(Must(store_->RenameConversation(b, conversation_.id, "pwned")));
  EXPECT_FALSE(Must(store_->DeleteConversation(b, conversation_.id)));

  EXPECT_FALSE(
      Must(store_->AppendMessage(b, conversation_.id, {MessageRole::kUser, "hi"})).has_value());
  EXPECT_FALSE(Must(store_->ListMessages(b, conversation_.id)).has_value());
  EXPECT_FALSE(Must(store_->GetMessage(b, question_.id)).has_value());
  EXPECT_FALSE(Must(store_->GetMessage(b, answer_.id)).has_value());
  EXPECT_FALSE(Must(store_->AppendMessageContent(b, answer_.id, "use")));
  EXPECT_FALSE(Must(store_->FinishMessage(b, answer_.id, MessageStatus::kComplete, {})));

  EXPECT_TRUE(Must(store_->ListApiKeys(b)).empty());
  EXPECT_FALSE(Must(store_->RevokeApiKey(b, key_.key.id)));

  ExpectAliceUntouched();
}

TEST_F(Scoping, UnknownAndMalformedIdsGetTheSameAnswer) {
  const std::string unknown = Must(NewId());
  for (const std::string& id :
       {unknown, std::string(), std::string("' OR 1=1 --"), conversation_.id + "0",
        std::string(32, 'G'), std::string(1000, 'a')}) {
    SCOPED_TRACE(id.substr(0, 40));
    EXPECT_FALSE(Must(store_->GetConversation(alice_.id, id)).has_value());
    EXPECT_FALSE(Must(store_->GetMessage(alice_.id, id)).has_value());
    EXPECT_FALSE(Must(store_->GetAssistant(alice_.id, id)).has_value());
    EXPECT_FALSE(Must(store_->RenameConversation(alice_.id, id, "x")));
    EXPECT_FALSE(Must(store_->DeleteConversation(alice_.id, id)));
    EXPECT_FALSE(Must(store_->RevokeApiKey(alice_.id, id)));
    EXPECT_FALSE(Must(store_->ListMessages(alice_.id, id)).has_value());
    // As the acting user, an unknown id sees nothing at all.
    EXPECT_FALSE(Must(store_->GetConversation(id, conversation_.id)).has_value());
    EXPECT_TRUE(Must(store_->ListConversations(id, 10)).empty());
    EXPECT_FALSE(Must(store_->GetUser(id)).has_value());
  }
  ExpectAliceUntouched();
}

TEST_F(Scoping, IdsAreRandom128BitHex) {
  const std::string ids[] = {alice_.id,    bob_.id,    assistant_.id, conversation_.id,
                             question_.id, answer_.id, key_.key.id};
  std::set<std::string> distinct;
  for (const std::string& id : ids) {
    EXPECT_TRUE(IsId(id)) << id;
    distinct.insert(id);
  }
  EXPECT_EQ(distinct.size(), std::size(ids));
  // Consecutive rows share no long prefix, as sequential ids would.
  EXPECT_NE(question_.id.substr(0, 8), answer_.id.substr(0, 8));
}

TEST_F(Scoping, OwnersCanDoAllOfIt) {
  const std::string& a = alice_.id;
  EXPECT_TRUE(Must(store_->AppendMessageContent(a, answer_.id, "use 4 is void.")));
  EXPECT_TRUE(Must(store_->FinishMessage(a, answer_.id, MessageStatus::kComplete, {})));
  EXPECT_EQ(Must(store_->GetMessage(a, answer_.id))->content, "Clause 4 is void.");
  EXPECT_TRUE(Must(store_->RenameConversation(a, conversation_.id, "Clause 4")));
  EXPECT_TRUE(Must(store_->RevokeApiKey(a, key_.key.id)));
  EXPECT_FALSE(Must(store_->FindUserByApiKey(key_.secret)).has_value());
  EXPECT_TRUE(Must(store_->DeleteConversation(a, conversation_.id)));
  EXPECT_FALSE(Must(store_->GetMessage(a, question_.id)).has_value());  // cascade
  EXPECT_TRUE(Must(store_->DeleteAssistant(a, assistant_.id)));
}

}  // namespace
}  // namespace autan::store
