// Opening: migrations from an empty directory, idempotent re-opening, file
// modes, and refusal of files that are not ours or are newer than this build.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <set>
#include <string>

#include "store/sqlite_schema.h"
#include "store_test_util.h"

namespace autan::store {
namespace {

using testing::Must;
using testing::OpenOrDie;
using testing::RawDb;
using testing::TempDir;
using testing::TestOptions;

mode_t ModeOf(const std::string& path) {
  struct stat st;
  EXPECT_EQ(stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 0777;
}

TEST(Migrations, CreateTheWholeSchemaInAnEmptyDirectory) {
  TempDir tmp;
  const std::string dir = tmp.Sub("nested/data");  // parents are created too
  { ASSERT_NE(OpenOrDie(TestOptions(dir)), nullptr); }
  const std::string db_path = dir + "/autan.db";
  RawDb raw(db_path);
  EXPECT_EQ(raw.Int("PRAGMA user_version"), sqlite::SchemaVersion());
  EXPECT_EQ(raw.Int("PRAGMA application_id"), 0x6175746e);
  EXPECT_EQ(raw.Names("table"),
            (std::set<std::string>{"api_keys", "assistants", "audit_log", "conversations",
                                   "key_usage_daily", "messages", "messages_fts", "quotas",
                                   "sessions", "usage_daily", "users"}));
  EXPECT_EQ(raw.Names("trigger"),
            (std::set<std::string>{"messages_search_delete", "messages_search_insert",
                                   "messages_search_update"}));
  EXPECT_EQ(raw.Text("PRAGMA journal_mode"), "wal");  // WAL is a property of the file
  EXPECT_EQ(ModeOf(dir), 0700u);
  EXPECT_EQ(ModeOf(tmp.Sub("nested")), 0700u);
  EXPECT_EQ(ModeOf(db_path), 0600u);
}

TEST(Migrations, WalAndShmFilesAreOwnerOnly) {
  TempDir tmp;
  auto store = OpenOrDie(TestOptions(tmp.path()));
  ASSERT_NE(store, nullptr);
  testing::MakeUser(*store, "alice");  // a write creates the -wal and -shm files
  EXPECT_EQ(ModeOf(tmp.Sub("autan.db-wal")), 0600u);
  EXPECT_EQ(ModeOf(tmp.Sub("autan.db-shm")), 0600u);
}

TEST(Migrations, ReopeningKeepsDataAndChangesNothing) {
  TempDir tmp;
  std::string alice_id;
  {
    auto store = OpenOrDie(TestOptions(tmp.path()));
    ASSERT_NE(store, nullptr);
    alice_id = testing::MakeUser(*store, "alice").id;
  }
  for (int i = 0; i < 3; ++i) {
    auto store = OpenOrDie(TestOptions(tmp.path()));
    ASSERT_NE(store, nullptr);
    std::optional<User> alice = Must(store->GetUser(alice_id));
    ASSERT_TRUE(alice.has_value());
    EXPECT_EQ(alice->username, "alice");
    EXPECT_EQ(Must(store->ListUsers()).size(), 1u);
    EXPECT_TRUE(store->CheckIntegrity().ok());
  }
  RawDb raw(tmp.Sub("autan.db"));
  EXPECT_EQ(raw.Int("PRAGMA user_version"), sqlite::SchemaVersion());
  EXPECT_EQ(raw.Int("SELECT count(*) FROM audit_log"), 1);  // one user.create, no more
}

// A database made before quotas (schema 1) gains their tables and keeps its rows.
TEST(Migrations, UpgradeAVersionOneDatabase) {
  TempDir tmp;
  std::string alice_id;
  {
    auto store = OpenOrDie(TestOptions(tmp.path()));
    ASSERT_NE(store, nullptr);
    alice_id = testing::MakeUser(*store, "alice").id;
    ASSERT_TRUE(store->AddUsage(alice_id, {1, 2, 3.0}).ok());
  }
  RawDb(tmp.Sub("autan.db"))
      .Exec("DROP TABLE key_usage_daily; DROP TABLE quotas; PRAGMA user_version = 1");
  auto store = OpenOrDie(TestOptions(tmp.path()));
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(RawDb(tmp.Sub("autan.db")).Int("PRAGMA user_version"), sqlite::SchemaVersion());
  ASSERT_TRUE(store->SetQuota({"user:" + alice_id, 10, std::nullopt}).ok());
  store::QuotaState state = Must(store->GetQuotaState("user:" + alice_id));
  EXPECT_EQ(state.today.completion_tokens, 2);
  EXPECT_EQ(*state.quota->tokens_per_day, 10);
}

TEST(Migrations, RefuseANewerSchema) {
  TempDir tmp;
  { ASSERT_NE(OpenOrDie(TestOptions(tmp.path())), nullptr); }
  RawDb(tmp.Sub("autan.db")).Exec("PRAGMA user_version = 99");
  Result<std::unique_ptr<Store>> store = OpenSqliteStore(TestOptions(tmp.path()));
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.error().message.find("schema version 99, newer"), std::string::npos)
      << store.error().message;
  EXPECT_NE(store.error().message.find(tmp.Sub("autan.db")), std::string::npos);
}

TEST(Migrations, RefuseAnotherProgramsDatabase) {
  TempDir tmp;
  RawDb(tmp.Sub("autan.db")).Exec("CREATE TABLE notes (x); PRAGMA user_version = 3");
  Result<std::unique_ptr<Store>> store = OpenSqliteStore(TestOptions(tmp.path()));
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.error().message.find("is not an autan database"), std::string::npos)
      << store.error().message;
}

TEST(Migrations, RefuseAFileThatIsNotSqlite) {
  TempDir tmp;
  FILE* f = std::fopen(tmp.Sub("autan.db").c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fputs("this is not a database, just some text long enough to fill a header.....", f);
  std::fclose(f);
  Result<std::unique_ptr<Store>> store = OpenSqliteStore(TestOptions(tmp.path()));
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.error().message.find("not a database"), std::string::npos)
      << store.error().message;
}

}  // namespace
}  // namespace autan::store
