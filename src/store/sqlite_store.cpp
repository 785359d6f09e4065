// SqliteStore: opening, accounts, sessions, API keys, usage and audit.
#include "store/sqlite_store.h"

#include <sys/stat.h>

#include <chrono>
#include <cstdio>

#include "core/sha256.h"
#include "store/data_dir.h"
#include "store/secret.h"
#include "store/sqlite_schema.h"
#include "store/sqlite_store_impl.h"
#include "store/validate.h"

namespace autan::store {

Result<std::unique_ptr<Store>> OpenSqliteStore(const SqliteStoreOptions& options) {
  AUTAN_TRY(options.password.Validate());
  AUTAN_TRY(PrepareDataDir(options.data_dir, options.create));
  const std::string path = options.data_dir + "/" + kDatabaseFileName;
  struct stat st;
  if (!options.create && stat(path.c_str(), &st) != 0) {
    return Fail("no autan database in '%s' ('autan user add' creates one)",
                options.data_dir.c_str());
  }
  Result<std::unique_ptr<sqlite::Db>> db = sqlite::Db::Open(path, options.create);
  AUTAN_TRY_HELD(db);
  AUTAN_TRY(sqlite::Migrate(**db));
  return std::unique_ptr<Store>(new sqlite::SqliteStore(std::move(db).value(), options));
}

namespace sqlite {
namespace {

constexpr std::string_view kApiKeyPrefix = "sk-autan-";
constexpr size_t kSecretHexLength = 64;  // 256 bits
// A key's last use is written at most once a minute: not a disk write per request.
constexpr int64_t kLastUsedResolutionMs = 60'000;
constexpr int64_t kMaxSessionTtlMs = 400ll * 24 * 3600 * 1000;

bool IsLowerHex(std::string_view text, size_t length) {
  if (text.size() != length) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

int64_t SystemNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

User ReadUser(const Query& q, int c) {
  User user;
  user.id = q.Text(c);
  user.username = q.Text(c + 1);
  user.role = ParseRole(q.Text(c + 2)).value_or(Role::kUser);
  user.created_at_ms = q.Int(c + 3);
  user.disabled = q.Int(c + 4) != 0;
  return user;
}

std::string UtcDay(int64_t ms) {
  using namespace std::chrono;
  const year_month_day ymd{floor<days>(sys_time<milliseconds>(milliseconds(ms)))};
  char text[32];
  std::snprintf(text, sizeof(text), "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return text;
}

SqliteStore::SqliteStore(std::unique_ptr<Db> db, const SqliteStoreOptions& options)
    : db_(std::move(db)),
      password_params_(options.password),
      now_ms_(options.now_ms ? options.now_ms : SystemNowMs) {}

Status SqliteStore::AuditLocked(std::string_view actor, std::string_view action,
                                std::string_view target) {
  Result<Query> q =
      db_->Prepare("INSERT INTO audit_log (at, actor, action, target) VALUES (?, ?, ?, ?)");
  AUTAN_TRY_HELD(q);
  return q->Bind(Now()).Bind(actor).Bind(action).Bind(target).Run();
}

// --- Accounts ---

Result<std::optional<User>> SqliteStore::UserWhere(const char* sql, std::string_view key) {
  std::lock_guard lock(mu_);
  Result<Query> q = db_->Prepare(sql);
  AUTAN_TRY_HELD(q);
  Result<bool> row = q->Bind(key).Step();
  AUTAN_TRY_HELD(row);
  if (!*row) return std::optional<User>();
  return std::optional<User>(ReadUser(*q, 0));
}

Result<User> SqliteStore::InsertUser(const NewUser& user, const std::string& password_hash,
                                     std::string_view actor) {
  Result<Query> taken = db_->Prepare("SELECT 1 FROM users WHERE username = ?");
  AUTAN_TRY_HELD(taken);
  Result<bool> exists = taken->Bind(user.username).Step();
  AUTAN_TRY_HELD(exists);
  if (*exists) return Fail("user '%s' already exists", user.username.c_str());
  Result<std::string> id = NewId();
  AUTAN_TRY_HELD(id);
  User made{*id, user.username, user.role, Now(), false};
  Result<Query> q = db_->Prepare(
      "INSERT INTO users (id, username, password_hash, role, created_at, disabled) "
      "VALUES (?, ?, ?, ?, ?, 0)");
  AUTAN_TRY_HELD(q);
  AUTAN_TRY(q->Bind(made.id)
                .Bind(made.username)
                .Bind(password_hash)
                .Bind(RoleName(made.role))
                .Bind(made.created_at_ms)
                .Run());
  AUTAN_TRY(AuditLocked(actor, "user.create", made.id));
  return made;
}

Result<User> SqliteStore::CreateUser(const NewUser& user, std::string_view actor) {
  AUTAN_TRY(ValidateUsername(user.username));
  AUTAN_TRY(ValidatePassword(user.password));
  Result<std::string> hash = HashPassword(user.password, password_params_);
  AUTAN_TRY_HELD(hash);
  std::lock_guard lock(mu_);
  Result<Transaction> tx = Transaction::Begin(*db_);
  AUTAN_TRY_HELD(tx);
  Result<User> made = InsertUser(user, *hash, actor);
  AUTAN_TRY_HELD(made);
  AUTAN_TRY(tx->Commit());
  return made;
}

Result<std::optional<User>> SqliteStore::CreateFirstAdmin(const NewUser& user) {
  AUTAN_TRY(ValidateUsername(user.username));
  AUTAN_TRY(ValidatePassword(user.password));
  Result<std::string> hash = HashPassword(user.password, password_params_);
  AUTAN_TRY_HELD(hash);
  std::lock_guard lock(mu_);
  Result<Transaction> tx = Transaction::Begin(*db_);
  AUTAN_TRY_HELD(tx);
  Result<Query> admins = db_->Prepare("SELECT 1 FROM users WHERE role = 'admin' LIMIT 1");
  AUTAN_TRY_HELD(admins);
  Result<bool> has_admin = admins->Step();
  AUTAN_TRY_HELD(has_admin);
  if (*has_admin) return std::optional<User>();
  NewUser admin = user;
  admin.role = Role::kAdmin;
  Result<User> made = InsertUser(admin, *hash, kOperatorActor);
  AUTAN_TRY_HELD(made);
  AUTAN_TRY(tx->Commit());
  return std::optional<User>(std::move(made).value());
}

Result<std::optional<User>> SqliteStore::GetUser(std::string_view user_id) {
  if (!IsId(user_id)) return std::optional<User>();
  return UserWhere("SELECT id, username, role, created_at, disabled FROM users WHERE id = ?",
                   user_id);
}

Result<std::optional<User>> SqliteStore::FindUserByName(std::string_view username) {
  if (!ValidateUsername(username).ok()) return std::optional<User>();
  return UserWhere("SELECT id, username, role, created_at, disabled FROM users WHERE username = ?",
                   username);
}

Result<std::vector<User>> SqliteStore::ListUsers() {
  std::lock_guard lock(mu_);
  Result<Query> q = db_->Prepare(
      "SELECT id, username, role, created_at, disabled FROM users "
      "ORDER BY created_at, username");
  AUTAN_TRY_HELD(q);
  std::vector<User> users;
  for (;;) {
    Result<bool> row = q->Step();
    AUTAN_TRY_HELD(row);
    if (!*row) return users;
    users.push_back(ReadUser(*q, 0));
  }
}

Result<std::optional<User>> SqliteStore::CheckPassword(std::string_view username,
                                                       std::string_view password) {
  std::optional<User> user;
  std::string hash;
  if (ValidateUsername(username).ok()) {
    std::lock_guard lock(mu_);
    Result<Query> q = db_->Prepare(
        "SELECT id, username, role, created_at, disabled, password_hash FROM users "
        "WHERE username = ?");
    AUTAN_TRY_HELD(q);
    Result<bool> row = q->Bind(username).Step();
    AUTAN_TRY_HELD(row);
    if (*row) {
      user = ReadUser(*q, 0);
      hash = q->Text(5);
    }
  }
  if (!user) {
    std::call_once(dummy_hash_once_, [this] {
      Result<std::string> dummy = HashPassword("not a password", password_params_);
      if (dummy.ok()) dummy_hash_ = *dummy;
    });
    (void)VerifyPassword(dummy_hash_, password);
    return std::optional<User>();
  }
  // Verified outside the lock: Argon2 takes a while on purpose.
  if (!VerifyPassword(hash, password) || user->disabled) return std::optional<User>();
  return user;
}

Result<bool> SqliteStore::SetPassword(std::string_view user_id, std::string_view password,
                                      std::string_view actor) {
  AUTAN_TRY(ValidatePassword(password));
  if (!IsId(user_id)) return false;
  Result<std::string> hash = HashPassword(password, password_params_);
  AUTAN_TRY_HELD(hash);
  std::lock_guard lock(mu_);
  Result<Transaction> tx = Transaction::Begin(*db_);
  AUTAN_TRY_HELD(tx);
  Result<Query> q = db_->Prepare("UPDATE users SET password_hash = ? WHERE id = ?");
  AUTAN_TRY_HELD(q);
  AUTAN_TRY(q->Bind(*hash).Bind(user_id).Run());
  if (db_->Changes() == 0) return false;
  // A new password ends every session the old one opened.
  Result<Query> sessions = db_->Prepare("DELETE FROM sessions WHERE user_id = ?");
  AUTAN_TRY_HELD(sessions);
  AUTAN_TRY(sessions->Bind(user_id).Run());
  AUTAN_TRY(AuditLocked(actor, "user.passwd", user_id));
  AUTAN_TRY(tx->Commit());
  return true;
}

Result<bool> SqliteStore::SetUserDisabled(std::string_view user_id, bool disabled,
                                          std::string_view actor) {
  if (!IsId(user_id)) return false;
  std::lock_guard lock(mu_);
  Result<Transaction> tx = Transaction::Begin(*db_);
  AUTAN_TRY_HELD(tx);
  Result<Query> q = db_->Prepare("UPDATE users SET disabled = ? WHERE id = ?");
  AUTAN_TRY_HELD(q);
  AUTAN_TRY(q->Bind(disabled).Bind(user_id).Run());
  if (db_->Changes() == 0) return false;
  if (disabled) {
    Result<Query> sessions = db_->Prepare("DELETE FROM sessions WHERE user_id = ?");
    AUTAN_TRY_HELD(sessions);
    AUTAN_TRY(sessions->Bind(user_id).Run());
  }
  AUTAN_TRY(AuditLocked(actor, disabled ? "user.disable" : "user.enable", user_id));
  AUTAN_TRY(tx->Commit());
  return true;
}

// --- Sessions ---

Result<NewSession> SqliteStore::CreateSession(std::string_view user_id, int64_t ttl_ms) {
  if (ttl_ms <= 0 || ttl_ms > kMaxSessionTtlMs) {
    return Fail("session lifetime must be between 1 ms and 400 days, not %lld ms",
                static_cast<long long>(ttl_ms));
  }
  Result<std::string> token = RandomHex(kSecretHexLength / 2);
  AUTAN_TRY_HELD(token);
  Result<std::string> csrf = RandomHex(kSecretHexLength / 2);
  AUTAN_TRY_HELD(csrf);
  std::lock_guard lock(mu_);
  Result<Transaction> tx = Transaction::Begin(*db_);
  AUTAN_TRY_HELD(tx);
  Result<Query> user = db_->Prepare("SELECT disabled FROM users WHERE id = ?");
  AUTAN_TRY_HELD(user);
  Result<bool> found = user->Bind(user_id).Step();
  AUTAN_TRY_HELD(found);
  if (!*found) {
    return Fail("no user with id '%.*s'", static_cast<int>(user_id.size()), user_id.data());
  }
  if (user->Int(0) != 0) return Fail("user '%s' is disabled", std::string(user_id).c_str());
  const int64_t now = Now();
  NewSession session{*token, *csrf, now + ttl_ms};
  Result<Query> q = db_->Prepare(
      "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) "
      "VALUES (?, ?, ?, ?, ?)");
  AUTAN_TRY_HELD(q);
  AUTAN_TRY(q->Bind(Sha256Hex(session.token))
                .Bind(user_id)
                .Bind(session.csrf_token)
                .Bind(now)
                .Bind(session.expires_at_ms)
                .Run());
  AUTAN_TRY(AuditLocked(user_id, "session.create", user_id));
  AUTAN_TRY(tx->Commit());
  return session;
}

Result<std::optional<Session>> SqliteStore::FindSession(std::string_view token) {
  if (!IsLowerHex(token, kSecretHexLength)) return std::optional<Session>();
  std::lock_guard lock(mu_);
  Result<Query> q = db_->Prepare(
      "SELECT u.id, u.username, u.role, u.created_at, u.disabled, "
      "s.csrf_token, s.created_at, s.expires_at "
      "FROM sessions s JOIN users u ON u.id = s.user_id "
      "WHERE s.token_hash = ? AND s.expires_at > ? AND u.disabled = 0");
  AUTAN_TRY_HELD(q);
  Result<bool> row = q->Bind(Sha256Hex(token)).Bind(Now()).Step();
  AUTAN_TRY_HELD(row);
  if (!*row) return std::optional<Session>();
  return std::optional<Session>(Session{ReadUser(*q, 0), q->Text(5), q->Int(6), q->Int(7)});
}

Result<bool> SqliteStore::DeleteSession(std::string_view token) {
  if (!IsLowerHex(token, kSecretHexLength)) return false;
  std::lock_guard lock(mu_);
  Result<Query> q = db_->Prepare("DELETE FROM sessions WHERE token_hash = ?");
  AUTAN_TRY_HELD(q);
  AUTAN_TRY(q->Bind(Sha256Hex(token)).Run());
  return db_->Changes() > 0;
}

Result<int64_t> SqliteStore::DeleteExpiredSessions() {
  std::lock_guard lock(mu_);
  Result<Query> q = db_->Prepare("DELETE FROM sessions WHERE expires_at <= ?");
  AUTAN_TRY_HELD(q);
  AUTAN_TRY(q->Bind(Now()).Run());
  return db_->Changes();
}

// --- API keys ---

Result<NewApiKey> SqliteStore::CreateApiKey(std::string_view user_id, std::string_view label) {
  AUTAN_TRY(ValidateText("API key label", label, kMaxNameLength, true));
  if (!IsId(user_id)) {
    return Fail("no user with id '%.*s'", static_cast<int>(user_id.size()), user_id.data());
  }
  Result<std::string> id = NewId();
  AUTAN_TRY_HELD(id);
  Result<std::string> random = RandomHex(kSecretHexLength / 2);
  AUTAN_TRY_HELD(random);
  NewApiKey made;
  made.secret = std::string(kApiKeyPrefix) + *random;
  made.key = ApiKey{*id,   std::string(label), made.secret.substr(0, kApiKeyPrefix.size() + 4),
                    Now(), std::nullopt,       false};
  std::lock_guard lock(mu_);
  Result<Transaction> tx = Transaction::Begin(*db_);
  AUTAN_TRY_HELD(tx);
  Result<Query> user = db_->Prepare("SELECT 1 FROM users WHERE id = ?");
  AUTAN_TRY_HELD(user);
  Result<bool> found = user->Bind(user_id).Step();
  AUTAN_TRY_HELD(found);
  if (!*found) {
    return Fail("no user with id '%.*s'", static_cast<int>(user_id.size()), user_id.data());
  }
  Result<Query> q = db_->Prepare(
      "INSERT INTO api_keys (id, user_id, key_hash, prefix, label, created_at, revoked) "
      "VALUES (?, ?, ?, ?, ?, ?, 0)");
  AUTAN_TRY_HELD(q);
  AUTAN_TRY(q->Bind(made.key.id)
                .Bind(user_id)
                .Bind(Sha256Hex(made.secret))
                .Bind(made.key.prefix)
                .Bind(made.key.label)
                .Bind(made.key.created_at_ms)
                .Run());
  AUTAN_TRY(AuditLocked(user_id, "apikey.create", made.key.id));
  AUTAN_TRY(tx->Commit());
  return made;
}

Result<std::vector<ApiKey>> SqliteStore::ListApiKeys(std::string_view user_id) {
  std::vector<ApiKey> keys;
  if (!IsId(user_id)) return keys;
  std::lock_guard lock(mu_);
  Result<Query> q = db_->Prepare(
      "SELECT id, label, prefix, created_at, last_used_at, revoked FROM api_keys "
      "WHERE user_id = ? ORDER BY created_at, id");
  AUTAN_TRY_HELD(q);
  q->Bind(user_id);
  for (;;) {
    Result<bool> row = q->Step();
    AUTAN_TRY_HELD(row);
    if (!*row) return keys;
    keys.push_back(
        ApiKey{q->Text(0), q->Text(1), q->Text(2), q->Int(3), q->OptionalInt(4), q->Int(5) != 0});
  }
}

Result<bool> SqliteStore::RevokeApiKey(std::string_view user_id, std::string_view key_id) {
  if (!IsId(user_id) || !IsId(key_id)) return false;
  std::lock_guard lock(mu_);
  Result<Transaction> tx = Transaction::Begin(*db_);
  AUTAN_TRY_HELD(tx);
  Result<Query> q = db_->Prepare("UPDATE api_keys SET revoked = 1 WHERE id = ? AND user_id = ?");
  AUTAN_TRY_HELD(q);
  AUTAN_TRY(q->Bind(key_id).Bind(user_id).Run());
  if (db_->Changes() == 0) return false;
  AUTAN_TRY(AuditLocked(user_id, "apikey.revoke", key_id));
  AUTAN_TRY(tx->Commit());
  return true;
}

Result<std::optional<User>> SqliteStore::FindUserByApiKey(std::string_view secret,
                                                          std::string* found_key_id) {
  if (!secret.starts_with(kApiKeyPrefix) ||
      !IsLowerHex(secret.substr(kApiKeyPrefix.size()), kSecretHexLength)) {
    return std::optional<User>();
  }
  std::lock_guard lock(mu_);
  Result<Query> q = db_->Prepare(
      "SELECT u.id, u.username, u.role, u.created_at, u.disabled, k.id "
      "FROM api_keys k JOIN users u ON u.id = k.user_id "
      "WHERE k.key_hash = ? AND k.revoked = 0 AND u.disabled = 0");
  AUTAN_TRY_HELD(q);
  Result<bool> row = q->Bind(Sha256Hex(secret)).Step();
  AUTAN_TRY_HELD(row);
  if (!*row) return std::optional<User>();
  User user = ReadUser(*q, 0);
  const std::string key_id = q->Text(5);
  const int64_t now = Now();
  Result<Query> used = db_->Prepare(
      "UPDATE api_keys SET last_used_at = ? "
      "WHERE id = ? AND (last_used_at IS NULL OR last_used_at <= ?)");
  AUTAN_TRY_HELD(used);
  AUTAN_TRY(used->Bind(now).Bind(key_id).Bind(now - kLastUsedResolutionMs).Run());
  if (found_key_id != nullptr) *found_key_id = key_id;
  return std::optional<User>(std::move(user));
}

// --- Usage and audit ---

Status SqliteStore::AddUsage(std::string_view user_id, const UsageDelta& delta) {
  if (delta.prompt_tokens < 0 || delta.completion_tokens < 0 || !(delta.energy_joules >= 0)) {
    return Fail("usage figures must be non-negative");
  }
  if (!IsId(user_id)) {
    return Fail("no user with id '%.*s'", static_cast<int>(user_id.size()), user_id.data());
  }
  std::lock_guard lock(mu_);
  Result<Query> q = db_->Prepare(
      "INSERT INTO usage_daily "
      "(user_id, day, requests, prompt_tokens, completion_tokens, energy_joules) "
      "VALUES (?, ?, 1, ?, ?, ?) ON CONFLICT (user_id, day) DO UPDATE SET "
      "requests = requests + 1, prompt_tokens = prompt_tokens + excluded.prompt_tokens, "
      "completion_tokens = completion_tokens + excluded.completion_tokens, "
      "energy_joules = energy_joules + excluded.energy_joules");
  AUTAN_TRY_HELD(q);
  return q->Bind(user_id)
      .Bind(UtcDay(Now()))
      .Bind(delta.prompt_tokens)
      .Bind(delta.completion_tokens)
      .Bind(delta.energy_joules)
      .Run();
}

Result<std::vector<UsageDay>> SqliteStore::ListUsage(std::string_view user_id,
                                                     std::string_view first_day,
                                                     std::string_view last_day) {
  if (!IsUtcDay(first_day) || !IsUtcDay(last_day)) {
    return Fail("usage days must be written YYYY-MM-DD, not '%.*s' and '%.*s'",
                static_cast<int>(first_day.size()), first_day.data(),
                static_cast<int>(last_day.size()), last_day.data());
  }
  std::vector<UsageDay> days;
  if (!IsId(user_id)) return days;
  std::lock_guard lock(mu_);
  Result<Query> q = db_->Prepare(
      "SELECT day, requests, prompt_tokens, completion_tokens, energy_joules FROM usage_daily "
      "WHERE user_id = ? AND day BETWEEN ? AND ? ORDER BY day");
  AUTAN_TRY_HELD(q);
  q->Bind(user_id).Bind(first_day).Bind(last_day);
  for (;;) {
    Result<bool> row = q->Step();
    AUTAN_TRY_HELD(row);
    if (!*row) return days;
    days.push_back(UsageDay{q->Text(0), q->Int(1), q->Int(2), q->Int(3), q->Real(4)});
  }
}

Status SqliteStore::RecordAudit(const AuditEvent& event) {
  AUTAN_TRY(ValidateText("audit actor", event.actor, kMaxAuditFieldLength, false));
  AUTAN_TRY(ValidateText("audit action", event.action, kMaxAuditFieldLength, false));
  AUTAN_TRY(ValidateText("audit target", event.target, kMaxAuditFieldLength, true));
  std::lock_guard lock(mu_);
  return AuditLocked(event.actor, event.action, event.target);
}

Result<std::vector<AuditEntry>> SqliteStore::ListAudit(int64_t limit, int64_t before_id) {
  if (limit < 1 || limit > 10000) {
    return Fail("audit listing limit must be in [1, 10000], not %lld",
                static_cast<long long>(limit));
  }
  std::lock_guard lock(mu_);
  Result<Query> q = db_->Prepare(
      "SELECT id, at, actor, action, target FROM audit_log "
      "WHERE ? <= 0 OR id < ? ORDER BY id DESC LIMIT ?");
  AUTAN_TRY_HELD(q);
  q->Bind(before_id).Bind(before_id).Bind(limit);
  std::vector<AuditEntry> entries;
  for (;;) {
    Result<bool> row = q->Step();
    AUTAN_TRY_HELD(row);
    if (!*row) return entries;
    entries.push_back(AuditEntry{q->Int(0), q->Int(1), {q->Text(2), q->Text(3), q->Text(4)}});
  }
}

Status SqliteStore::CheckIntegrity() {
  std::lock_guard lock(mu_);
  Result<Query> q = db_->Prepare("PRAGMA integrity_check");
  AUTAN_TRY_HELD(q);
  std::string problems;
  for (;;) {
    Result<bool> row = q->Step();
    AUTAN_TRY_HELD(row);
    if (!*row) break;
    const std::string line = q->Text(0);
    if (line != "ok") problems += (problems.empty() ? "" : "; ") + line;
  }
  if (!problems.empty()) {
    return Fail("database '%s' is damaged: %s", db_->path().c_str(), problems.c_str());
  }
  Result<Query> fk = db_->Prepare("PRAGMA foreign_key_check");
  AUTAN_TRY_HELD(fk);
  Result<bool> dangling = fk->Step();
  AUTAN_TRY_HELD(dangling);
  if (*dangling) {
    return Fail("database '%s' has a row in table '%s' that refers to a missing row",
                db_->path().c_str(), fk->Text(0).c_str());
  }
  return {};
}

}  // namespace sqlite
}  // namespace autan::store
