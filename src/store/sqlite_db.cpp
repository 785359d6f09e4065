#include "store/sqlite_db.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "core/check.h"

namespace autan::store::sqlite {
namespace {

// Another process (the CLI while the server runs) may hold the write lock for
// a moment; wait for it rather than fail.
constexpr int kBusyTimeoutMs = 5000;

// SQLite creates the database with the process umask (often 0644); making the
// file first with 0600 gives it, and the -wal and -shm files SQLite later
// copies the mode to, owner-only access.
Status CreateOwnerOnly(const std::string& path) {
  const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    return Fail("cannot create database '%s': %s", path.c_str(), std::strerror(errno));
  }
  close(fd);
  return {};
}

}  // namespace

Result<std::unique_ptr<Db>> Db::Open(const std::string& path, bool create) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    if (errno != ENOENT || !create) {
      return Fail("cannot open database '%s': %s", path.c_str(), std::strerror(errno));
    }
    AUTAN_TRY(CreateOwnerOnly(path));
  } else if (access(path.c_str(), R_OK | W_OK) != 0) {
    // SQLite would only say "unable to open database file".
    return Fail("cannot open database '%s' for writing: %s", path.c_str(), std::strerror(errno));
  }
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(
      path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_EXRESCODE,
      nullptr);
  std::unique_ptr<Db> db(new Db(raw, path));
  if (rc != SQLITE_OK) {
    if (raw == nullptr) return Fail("cannot open database '%s': out of memory", path.c_str());
    return db->Failure("cannot open database");
  }
  // A file the OS lets us read but not write opens read-only without error.
  if (sqlite3_db_readonly(raw, "main") == 1) {
    return Fail("database '%s' is read-only: autan needs to write to it", path.c_str());
  }
  sqlite3_busy_timeout(raw, kBusyTimeoutMs);
  // WAL: readers do not block the writer; FULL: each commit is fsynced, so an
  // acknowledged write survives power loss, not only a killed process.
  // secure_delete: deleted conversations are overwritten, not left in free pages.
  AUTAN_TRY(
      db->Exec("PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL; PRAGMA secure_delete = ON;"));
  Result<Query> wal = db->Prepare("PRAGMA journal_mode = WAL");
  AUTAN_TRY_HELD(wal);
  Result<bool> row = wal->Step();
  AUTAN_TRY_HELD(row);
  if (!*row || wal->Text(0) != "wal") {
    return Fail("database '%s' cannot use write-ahead logging (journal mode '%s')", path.c_str(),
                *row ? wal->Text(0).c_str() : "");
  }
  return db;
}

Db::~Db() {
  for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
  sqlite3_close(db_);
}

Error Db::Failure(std::string_view what) const {
  Error e = Fail("%.*s: %s (%s)", static_cast<int>(what.size()), what.data(), sqlite3_errmsg(db_),
                 path_.c_str());
  e.system = true;  // callers validate their input first: what SQLite refuses is I/O
  return e;
}

Status Db::Exec(const char* sql) {
  if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) {
    return Failure("database statement failed");
  }
  return {};
}

Result<Query> Db::Prepare(const char* sql) {
  auto it = statements_.find(sql);
  if (it == statements_.end()) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK) {
      return Failure("cannot prepare a database statement");
    }
    it = statements_.emplace(sql, stmt).first;
  }
  // Two live Query objects on one statement would overwrite each other's bindings.
  AUTAN_CHECK(!sqlite3_stmt_busy(it->second));
  return Query(this, it->second);
}

int64_t Db::Changes() const { return sqlite3_changes64(db_); }

Query::Query(Query&& other) noexcept
    : db_(other.db_), stmt_(other.stmt_), next_(other.next_), bind_error_(other.bind_error_) {
  other.stmt_ = nullptr;
}

Query::~Query() {
  if (stmt_ != nullptr) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
}

Query& Query::Bound(int rc) {
  if (rc != SQLITE_OK && bind_error_ == 0) bind_error_ = rc;
  ++next_;
  return *this;
}

Query& Query::Bind(std::string_view text) {
  if (text.size() > INT_MAX) return Bound(SQLITE_TOOBIG);
  return Bound(sqlite3_bind_text(stmt_, next_, text.data(), static_cast<int>(text.size()),
                                 SQLITE_TRANSIENT));
}

Query& Query::Bind(int64_t value) { return Bound(sqlite3_bind_int64(stmt_, next_, value)); }
Query& Query::Bind(double value) { return Bound(sqlite3_bind_double(stmt_, next_, value)); }
Query& Query::BindNull() { return Bound(sqlite3_bind_null(stmt_, next_)); }

Result<bool> Query::Step() {
  if (bind_error_ != 0) {
    Error e = Fail("cannot bind value %d of a database statement: %s (%s)", next_ - 1,
                   sqlite3_errstr(bind_error_), db_->path().c_str());
    e.system = true;
    return e;
  }
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return db_->Failure("database query failed");
}

Status Query::Run() {
  Result<bool> row = Step();
  AUTAN_TRY_HELD(row);
  AUTAN_CHECK(!*row);  // a statement that returns rows is run with Step
  return {};
}

int64_t Query::Int(int column) const { return sqlite3_column_int64(stmt_, column); }
double Query::Real(int column) const { return sqlite3_column_double(stmt_, column); }
bool Query::IsNull(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

std::string Query::Text(int column) const {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  if (text == nullptr) return {};
  return std::string(text, static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

std::optional<int64_t> Query::OptionalInt(int column) const {
  if (IsNull(column)) return std::nullopt;
  return Int(column);
}
std::optional<double> Query::OptionalReal(int column) const {
  if (IsNull(column)) return std::nullopt;
  return Real(column);
}
std::optional<std::string> Query::OptionalText(int column) const {
  if (IsNull(column)) return std::nullopt;
  return Text(column);
}

Result<Transaction> Transaction::Begin(Db& db) {
  AUTAN_TRY(db.Exec("BEGIN IMMEDIATE"));
  return Transaction(&db);
}

Transaction::~Transaction() {
  if (db_ != nullptr) (void)db_->Exec("ROLLBACK");
}

Status Transaction::Commit() {
  AUTAN_TRY(db_->Exec("COMMIT"));
  db_ = nullptr;
  return {};
}

}  // namespace autan::store::sqlite
