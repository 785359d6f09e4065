// Several threads on one store, and two connections on one file (the CLI
// beside a running server): writes serialize, none is lost, order holds.
#include <gtest/gtest.h>

#include <map>
#include <thread>
#include <vector>

#include "store_test_util.h"

namespace autan::store {
namespace {

using testing::Must;

// Appends `count` messages "<tag> <i>" to the conversation.
void Append(Store& store, const std::string& user, const std::string& conversation,
            const std::string& tag, int count) {
  for (int i = 0; i < count; ++i) {
    Result<std::optional<Message>> m = store.AppendMessage(
        user, conversation, {MessageRole::kUser, tag + " " + std::to_string(i)});
    ASSERT_TRUE(m.ok()) << m.error().message;
    ASSERT_TRUE(m->has_value());
  }
}

void ExpectAllInOrder(Store& store, const std::string& user, const std::string& conversation,
                      const std::vector<std::string>& tags, int count) {
  std::vector<Message> messages = *Must(store.ListMessages(user, conversation));
  ASSERT_EQ(messages.size(), tags.size() * count);
  std::map<std::string, int> next;  // each writer's messages keep their order
  for (size_t i = 0; i < messages.size(); ++i) {
    EXPECT_EQ(messages[i].seq, static_cast<int64_t>(i + 1));
    const std::string& text = messages[i].content;
    const std::string tag = text.substr(0, text.find(' '));
    EXPECT_EQ(text, tag + " " + std::to_string(next[tag]++));
  }
  for (const std::string& tag : tags) EXPECT_EQ(next[tag], count) << tag;
}

TEST(Concurrency, ThreadsShareOneStore) {
  testing::TempDir tmp;
  auto store = testing::OpenOrDie(testing::TestOptions(tmp.path()));
  ASSERT_NE(store, nullptr);
  const User user = testing::MakeUser(*store, "alice");
  const Conversation c = *Must(store->CreateConversation(user.id, {"busy", std::nullopt}));
  const std::vector<std::string> tags = {"a", "b", "c", "d"};
  std::vector<std::thread> threads;
  for (const std::string& tag : tags) {
    threads.emplace_back([&, tag] { Append(*store, user.id, c.id, tag, 25); });
  }
  for (std::thread& t : threads) t.join();
  ExpectAllInOrder(*store, user.id, c.id, tags, 25);
}

TEST(Concurrency, TwoConnectionsOnOneFile) {
  testing::TempDir tmp;
  auto first = testing::OpenOrDie(testing::TestOptions(tmp.path()));
  auto second = testing::OpenOrDie(testing::TestOptions(tmp.path()));
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  const User user = testing::MakeUser(*first, "alice");
  const Conversation c = *Must(first->CreateConversation(user.id, {"shared", std::nullopt}));
  std::thread a([&] { Append(*first, user.id, c.id, "first", 30); });
  std::thread b([&] { Append(*second, user.id, c.id, "second", 30); });
  a.join();
  b.join();
  ExpectAllInOrder(*first, user.id, c.id, {"first", "second"}, 30);
  ExpectAllInOrder(*second, user.id, c.id, {"first", "second"}, 30);
}

}  // namespace
}  // namespace autan::store
