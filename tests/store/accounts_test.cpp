// Users, passwords, sessions (expiry on a test clock), API keys and the audit
// trail they leave.
#include <gtest/gtest.h>

#include "core/sha256.h"
#include "store/secret.h"
#include "store_test_util.h"

namespace autan::store {
namespace {

using testing::MakeUser;
using testing::Must;
using testing::RawDb;

constexpr int64_t kHour = 3600 * 1000;

class Accounts : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = testing::OpenOrDie(testing::TestOptions(tmp_.path(), &clock_));
    ASSERT_NE(store_, nullptr);
  }
  void Advance(int64_t ms) { clock_.ms->fetch_add(ms); }

  testing::TempDir tmp_;
  testing::TestClock clock_;
  std::unique_ptr<Store> store_;
};

TEST_F(Accounts, CreateFindAndListUsers) {
  User admin = MakeUser(*store_, "Root.Admin", Role::kAdmin);
  Advance(1);
  User alice = MakeUser(*store_, "alice");
  EXPECT_EQ(admin.role, Role::kAdmin);
  EXPECT_EQ(alice.role, Role::kUser);
  EXPECT_EQ(alice.created_at_ms, clock_.ms->load());
  EXPECT_FALSE(alice.disabled);
  // Names are unique whatever their case, and found whatever the case asked.
  Result<User> again = store_->CreateUser({"ALICE", "another password"}, kOperatorActor);
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message.find("already exists"), std::string::npos);
  std::optional<User> found = Must(store_->FindUserByName("root.admin"));
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->id, admin.id);
  EXPECT_EQ(found->username, "Root.Admin");
  std::vector<User> users = Must(store_->ListUsers());
  ASSERT_EQ(users.size(), 2u);
  EXPECT_EQ(users[0].username, "Root.Admin");
  EXPECT_EQ(users[1].username, "alice");
}

TEST_F(Accounts, RejectBadNamesAndPasswords) {
  for (const char* name : {"", "has space", "semi;colon", "é", "a/b"}) {
    Result<User> made = store_->CreateUser({name, "long enough"}, kOperatorActor);
    EXPECT_FALSE(made.ok()) << name;
  }
  EXPECT_FALSE(store_->CreateUser({std::string(65, 'a'), "long enough"}, kOperatorActor).ok());
  Result<User> weak = store_->CreateUser({"carol", "short"}, kOperatorActor);
  ASSERT_FALSE(weak.ok());
  EXPECT_NE(weak.error().message.find("at least 8"), std::string::npos);
  EXPECT_TRUE(Must(store_->ListUsers()).empty());
}

TEST_F(Accounts, FirstAdminOnlyOnce) {
  std::optional<User> first = Must(store_->CreateFirstAdmin({"boss", "boss password"}));
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->role, Role::kAdmin);
  EXPECT_FALSE(Must(store_->CreateFirstAdmin({"usurper", "usurper password"})).has_value());
  EXPECT_FALSE(Must(store_->FindUserByName("usurper")).has_value());
}

TEST_F(Accounts, PasswordChecks) {
  User alice = MakeUser(*store_, "alice");
  std::optional<User> ok = Must(store_->CheckPassword("Alice", "password-of-alice"));
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->id, alice.id);
  EXPECT_FALSE(Must(store_->CheckPassword("alice", "password-of-alicE")).has_value());
  EXPECT_FALSE(Must(store_->CheckPassword("nobody", "password-of-alice")).has_value());
  EXPECT_FALSE(Must(store_->CheckPassword("bad name!", "x")).has_value());

  EXPECT_TRUE(Must(store_->SetPassword(alice.id, "a new secret", kOperatorActor)));
  EXPECT_FALSE(Must(store_->CheckPassword("alice", "password-of-alice")).has_value());
  EXPECT_TRUE(Must(store_->CheckPassword("alice", "a new secret")).has_value());
  EXPECT_FALSE(Must(store_->SetPassword(Must(NewId()), "a new secret", kOperatorActor)));

  EXPECT_TRUE(Must(store_->SetUserDisabled(alice.id, true, kOperatorActor)));
  EXPECT_FALSE(Must(store_->CheckPassword("alice", "a new secret")).has_value());
  EXPECT_TRUE(Must(store_->GetUser(alice.id))->disabled);
  EXPECT_TRUE(Must(store_->SetUserDisabled(alice.id, false, kOperatorActor)));
  EXPECT_TRUE(Must(store_->CheckPassword("alice", "a new secret")).has_value());
}

TEST_F(Accounts, PasswordHashIsArgon2idInTheDatabase) {
  User alice = MakeUser(*store_, "alice");
  RawDb raw(tmp_.Sub("autan.db"));
  const std::string hash =
      raw.Text(("SELECT password_hash FROM users WHERE id = '" + alice.id + "'").c_str());
  EXPECT_TRUE(hash.starts_with("$argon2id$v=19$m=64,t=1,p=1$")) << hash;
  EXPECT_EQ(hash.find("password-of-alice"), std::string::npos);
}

TEST_F(Accounts, SessionsExpire) {
  User alice = MakeUser(*store_, "alice");
  NewSession session = Must(store_->CreateSession(alice.id, 2 * kHour));
  EXPECT_EQ(session.token.size(), 64u);
  EXPECT_EQ(session.csrf_token.size(), 64u);
  EXPECT_NE(session.token, session.csrf_token);
  EXPECT_EQ(session.expires_at_ms, clock_.ms->load() + 2 * kHour);

  std::optional<Session> live = Must(store_->FindSession(session.token));
  ASSERT_TRUE(live.has_value());
  EXPECT_EQ(live->user.id, alice.id);
  EXPECT_EQ(live->csrf_token, session.csrf_token);

  Advance(2 * kHour - 1);
  EXPECT_TRUE(Must(store_->FindSession(session.token)).has_value());
  Advance(1);  // expires_at itself is past the end
  EXPECT_FALSE(Must(store_->FindSession(session.token)).has_value());
  EXPECT_EQ(Must(store_->DeleteExpiredSessions()), 1);
  EXPECT_EQ(Must(store_->DeleteExpiredSessions()), 0);
}

TEST_F(Accounts, SessionsEndOnLogoutPasswordChangeAndDisable) {
  User alice = MakeUser(*store_, "alice");
  NewSession a = Must(store_->CreateSession(alice.id, kHour));
  NewSession b = Must(store_->CreateSession(alice.id, kHour));
  EXPECT_TRUE(Must(store_->DeleteSession(a.token)));
  EXPECT_FALSE(Must(store_->FindSession(a.token)).has_value());
  EXPECT_TRUE(Must(store_->FindSession(b.token)).has_value());
  EXPECT_TRUE(Must(store_->SetPassword(alice.id, "changed password", alice.id)));
  EXPECT_FALSE(Must(store_->FindSession(b.token)).has_value());

  NewSession c = Must(store_->CreateSession(alice.id, kHour));
  EXPECT_TRUE(Must(store_->SetUserDisabled(alice.id, true, kOperatorActor)));
  EXPECT_FALSE(Must(store_->FindSession(c.token)).has_value());
  EXPECT_FALSE(store_->CreateSession(alice.id, kHour).ok());
  EXPECT_FALSE(store_->CreateSession(alice.id, 0).ok());
}

TEST_F(Accounts, SessionTokensAreStoredHashed) {
  User alice = MakeUser(*store_, "alice");
  NewSession session = Must(store_->CreateSession(alice.id, kHour));
  RawDb raw(tmp_.Sub("autan.db"));
  EXPECT_EQ(raw.Text("SELECT token_hash FROM sessions"), Sha256Hex(session.token));
  EXPECT_EQ(
      raw.Int(("SELECT count(*) FROM sessions WHERE token_hash = '" + session.token + "'").c_str()),
      0);
  // A token that is only one character off finds nothing.
  std::string near = session.token;
  near[10] = near[10] == 'a' ? 'b' : 'a';
  EXPECT_FALSE(Must(store_->FindSession(near)).has_value());
  EXPECT_FALSE(Must(store_->FindSession(Sha256Hex(session.token))).has_value());
}

TEST_F(Accounts, ApiKeysShownOnceStoredHashedRevocable) {
  User alice = MakeUser(*store_, "alice");
  NewApiKey key = Must(store_->CreateApiKey(alice.id, "build server"));
  EXPECT_TRUE(key.secret.starts_with("sk-autan-"));
  EXPECT_EQ(key.secret.size(), 9u + 64u);
  EXPECT_EQ(key.key.prefix, key.secret.substr(0, 13));
  RawDb raw(tmp_.Sub("autan.db"));
  EXPECT_EQ(raw.Text("SELECT key_hash FROM api_keys"), Sha256Hex(key.secret));

  std::vector<ApiKey> keys = Must(store_->ListApiKeys(alice.id));
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys[0].label, "build server");
  EXPECT_FALSE(keys[0].last_used_at_ms.has_value());

  Advance(1000);
  ASSERT_TRUE(Must(store_->FindUserByApiKey(key.secret)).has_value());
  const int64_t first_use = clock_.ms->load();
  EXPECT_EQ(Must(store_->ListApiKeys(alice.id))[0].last_used_at_ms, first_use);
  // Within a minute the recorded use does not move (no write per request)...
  Advance(30'000);
  ASSERT_TRUE(Must(store_->FindUserByApiKey(key.secret)).has_value());
  EXPECT_EQ(Must(store_->ListApiKeys(alice.id))[0].last_used_at_ms, first_use);
  // ... after it, it does.
  Advance(31'000);
  ASSERT_TRUE(Must(store_->FindUserByApiKey(key.secret)).has_value());
  EXPECT_EQ(Must(store_->ListApiKeys(alice.id))[0].last_used_at_ms, clock_.ms->load());

  EXPECT_FALSE(Must(store_->FindUserByApiKey(key.secret + "0")).has_value());
  EXPECT_FALSE(Must(store_->FindUserByApiKey("sk-autan-" + std::string(64, '0'))).has_value());
  EXPECT_TRUE(Must(store_->SetUserDisabled(alice.id, true, kOperatorActor)));
  EXPECT_FALSE(Must(store_->FindUserByApiKey(key.secret)).has_value());
  EXPECT_TRUE(Must(store_->SetUserDisabled(alice.id, false, kOperatorActor)));
  EXPECT_TRUE(Must(store_->RevokeApiKey(alice.id, key.key.id)));
  EXPECT_FALSE(Must(store_->FindUserByApiKey(key.secret)).has_value());
  EXPECT_TRUE(Must(store_->ListApiKeys(alice.id))[0].revoked);
}

TEST_F(Accounts, AuditTrailNamesActorsAndTargets) {
  User alice = MakeUser(*store_, "alice");
  Advance(5);
  NewApiKey key = Must(store_->CreateApiKey(alice.id, "k"));
  EXPECT_TRUE(Must(store_->RevokeApiKey(alice.id, key.key.id)));
  EXPECT_TRUE(Must(store_->SetUserDisabled(alice.id, true, kOperatorActor)));
  ASSERT_TRUE(store_->RecordAudit({alice.id, "export", "everything"}).ok());
  EXPECT_FALSE(store_->RecordAudit({"", "x", "y"}).ok());

  std::vector<AuditEntry> entries = Must(store_->ListAudit(10, 0));
  ASSERT_EQ(entries.size(), 5u);
  const std::pair<std::string, std::string> expected[] = {
      {"export", "everything"},      {"user.disable", alice.id}, {"apikey.revoke", key.key.id},
      {"apikey.create", key.key.id}, {"user.create", alice.id},
  };
  for (size_t i = 0; i < entries.size(); ++i) {
    EXPECT_EQ(entries[i].event.action, expected[i].first);
    EXPECT_EQ(entries[i].event.target, expected[i].second);
  }
  EXPECT_EQ(entries[4].event.actor, kOperatorActor);
  EXPECT_EQ(entries[3].event.actor, alice.id);
  EXPECT_EQ(entries[3].at_ms, clock_.ms->load());
  EXPECT_GT(entries[0].id, entries[1].id);
  std::vector<AuditEntry> older = Must(store_->ListAudit(2, entries[1].id));
  ASSERT_EQ(older.size(), 2u);
  EXPECT_EQ(older[0].event.action, "apikey.revoke");
}

}  // namespace
}  // namespace autan::store
