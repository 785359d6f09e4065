#include "store/sqlite_schema.h"

#include <iterator>

namespace autan::store::sqlite {
namespace {

// "autn": marks the file as ours, so a wrong --data-dir pointing at another
// program's SQLite file is refused instead of migrated.
constexpr int64_t kApplicationId = 0x6175746e;

// Migration i (from 0) takes the schema from version i to i + 1. Never edit
// one that has shipped: add a new one.
//
// Times are milliseconds since the Unix epoch. Every row a user owns carries
// user_id, so each query can be scoped by a plain equality on it.
constexpr const char* kMigrations[] = {
    R"sql(
CREATE TABLE users (
  id TEXT PRIMARY KEY,
  username TEXT NOT NULL UNIQUE COLLATE NOCASE,
  password_hash TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('admin', 'user')),
  created_at INTEGER NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1))
) STRICT;

CREATE TABLE sessions (
  token_hash TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  csrf_token TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);

CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  key_hash TEXT NOT NULL UNIQUE,
  prefix TEXT NOT NULL,
  label TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER,
  revoked INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1))
) STRICT;
CREATE INDEX api_keys_user ON api_keys (user_id);

CREATE TABLE assistants (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  instructions TEXT NOT NULL,
  parameters TEXT NOT NULL,  -- a JSON object, checked before it is written
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX assistants_user ON assistants (user_id);

CREATE TABLE conversations (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  assistant_id TEXT REFERENCES assistants (id) ON DELETE SET NULL,
  title TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX conversations_user ON conversations (user_id, updated_at);
CREATE INDEX conversations_assistant ON conversations (assistant_id);

CREATE TABLE messages (
  id TEXT PRIMARY KEY,
  conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant', 'tool')),
  content TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('complete', 'streaming', 'incomplete')),
  tokens INTEGER,
  time_to_first_token_ms INTEGER,
  duration_ms INTEGER,
  energy_joules REAL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (conversation_id, seq)
) STRICT;
CREATE INDEX messages_user ON messages (user_id);
CREATE INDEX messages_streaming ON messages (status) WHERE status = 'streaming';

-- Substring search over finished messages. Streaming ones join the index when
-- they end, so a growing answer is not re-indexed at every token.
CREATE VIRTUAL TABLE messages_fts USING fts5 (
  content, content = 'messages', content_rowid = 'rowid', tokenize = 'trigram');
CREATE TRIGGER messages_search_insert AFTER INSERT ON messages
WHEN new.status != 'streaming' BEGIN
  INSERT INTO messages_fts (rowid, content) VALUES (new.rowid, new.content);
END;
CREATE TRIGGER messages_search_delete AFTER DELETE ON messages
WHEN old.status != 'streaming' BEGIN
  INSERT INTO messages_fts (messages_fts, rowid, content)
  VALUES ('delete', old.rowid, old.content);
END;
CREATE TRIGGER messages_search_update AFTER UPDATE OF content, status ON messages BEGIN
  INSERT INTO messages_fts (messages_fts, rowid, content)
  SELECT 'delete', old.rowid, old.content WHERE old.status != 'streaming';
  INSERT INTO messages_fts (rowid, content)
  SELECT new.rowid, new.content WHERE new.status != 'streaming';
END;

CREATE TABLE usage_daily (
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  day TEXT NOT NULL,
  requests INTEGER NOT NULL,
  prompt_tokens INTEGER NOT NULL,
  completion_tokens INTEGER NOT NULL,
  energy_joules REAL NOT NULL,
  PRIMARY KEY (user_id, day)
) STRICT, WITHOUT ROWID;

-- No foreign key on actor: the trail outlives the accounts it mentions.
CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL
) STRICT;
)sql",
    // Usage per API key (a personal key's id, or "file:" and the first 16 hex
    // digits of a keys-file key's hash: those keys have no row here), and the
    // daily quotas an administrator sets on "user:ID" or "key:KEY".
    R"sql(
CREATE TABLE key_usage_daily (
  key TEXT NOT NULL,
  day TEXT NOT NULL,
  requests INTEGER NOT NULL,
  prompt_tokens INTEGER NOT NULL,
  completion_tokens INTEGER NOT NULL,
  energy_joules REAL NOT NULL,
  PRIMARY KEY (key, day)
) STRICT, WITHOUT ROWID;

CREATE TABLE quotas (
  subject TEXT PRIMARY KEY,
  tokens_per_day INTEGER CHECK (tokens_per_day IS NULL OR tokens_per_day >= 0),
  joules_per_day REAL CHECK (joules_per_day IS NULL OR joules_per_day >= 0)
) STRICT;
)sql",
};

Result<int64_t> ReadPragma(Db& db, const char* sql) {
  Result<Query> q = db.Prepare(sql);
  AUTAN_TRY_HELD(q);
  Result<bool> row = q->Step();
  AUTAN_TRY_HELD(row);
  return *row ? q->Int(0) : 0;
}

}  // namespace

int SchemaVersion() { return static_cast<int>(std::size(kMigrations)); }

Status Migrate(Db& db) {
  Result<Transaction> tx = Transaction::Begin(db);
  AUTAN_TRY_HELD(tx);
  Result<int64_t> app = ReadPragma(db, "PRAGMA application_id");
  AUTAN_TRY_HELD(app);
  Result<int64_t> version = ReadPragma(db, "PRAGMA user_version");
  AUTAN_TRY_HELD(version);
  if (*app != kApplicationId && (*app != 0 || *version != 0)) {
    return Fail("'%s' is not an autan database (application id %lld)", db.path().c_str(),
                static_cast<long long>(*app));
  }
  if (*version > SchemaVersion()) {
    return Fail("database '%s' has schema version %lld, newer than this autan knows (%d)",
                db.path().c_str(), static_cast<long long>(*version), SchemaVersion());
  }
  if (*version == SchemaVersion()) return {};  // nothing to do; the transaction rolls back
  for (int64_t v = *version; v < SchemaVersion(); ++v) {
    Status applied = db.Exec(kMigrations[v]);
    if (!applied.ok()) {
      return Fail("migrating '%s' to schema version %lld: %s", db.path().c_str(),
                  static_cast<long long>(v + 1), applied.error().message.c_str());
    }
  }
  const std::string stamp = "PRAGMA application_id = " + std::to_string(kApplicationId) +
                            "; PRAGMA user_version = " + std::to_string(SchemaVersion());
  AUTAN_TRY(db.Exec(stamp.c_str()));
  return tx->Commit();
}

}  // namespace autan::store::sqlite
