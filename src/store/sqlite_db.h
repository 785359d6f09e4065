// A thin RAII layer over SQLite's C API: one connection (Db), its cached
// prepared statements borrowed as Query objects, and transactions that roll
// back unless committed. Errors carry SQLite's message and the database path.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/result.h"

struct sqlite3;
struct sqlite3_stmt;

// AUTAN_TRY for a Result held in a variable: AUTAN_TRY copies its argument,
// which move-only results (Query, Transaction) cannot be.
#define AUTAN_TRY_HELD(result) \
  do {                         \
    if (!(result).ok()) {      \
      return (result).error(); \
    }                          \
  } while (0)

namespace autan::store::sqlite {

class Query;

class Db {
 public:
  // Opens (and with `create`, creates with mode 0600) the database file at
  // `path` in WAL mode, with foreign keys on and full fsync at each commit.
  static Result<std::unique_ptr<Db>> Open(const std::string& path, bool create);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // Runs statements that return no rows (schema changes, pragmas).
  Status Exec(const char* sql);
  // A prepared statement, compiled once per connection and reused.
  Result<Query> Prepare(const char* sql);
  // Rows changed by the last INSERT, UPDATE or DELETE.
  int64_t Changes() const;

  // "what: <SQLite's message> (<path>)".
  Error Failure(std::string_view what) const;
  const std::string& path() const { return path_; }

 private:
  Db(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}

  sqlite3* db_;
  std::string path_;
  std::unordered_map<std::string, sqlite3_stmt*> statements_;
};

// A prepared statement in use: values are bound in order with Bind, rows read
// with Step and the column getters. The statement is reset when it goes out of
// scope, ready for the next Prepare of the same SQL.
class Query {
 public:
  Query(Db* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Query(Query&& other) noexcept;
  Query& operator=(Query&&) = delete;
  ~Query();

  Query& Bind(std::string_view text);
  Query& Bind(const char* text) { return Bind(std::string_view(text)); }
  Query& Bind(const std::string& text) { return Bind(std::string_view(text)); }
  Query& Bind(int64_t value);
  Query& Bind(double value);
  Query& Bind(bool value) { return Bind(int64_t{value}); }
  Query& BindNull();
  template <typename T>
  Query& Bind(const std::optional<T>& value) {
    return value ? Bind(*value) : BindNull();
  }

  // True when a row is ready, false when the statement is done.
  Result<bool> Step();
  // Steps once and expects no row (INSERT, UPDATE, DELETE).
  Status Run();

  int64_t Int(int column) const;
  double Real(int column) const;
  std::string Text(int column) const;
  bool IsNull(int column) const;
  std::optional<int64_t> OptionalInt(int column) const;
  std::optional<double> OptionalReal(int column) const;
  std::optional<std::string> OptionalText(int column) const;

 private:
  Query& Bound(int rc);

  Db* db_;
  sqlite3_stmt* stmt_;
  int next_ = 1;
  int bind_error_ = 0;
};

// BEGIN IMMEDIATE (takes the write lock at once, so a read-then-write cannot
// fail halfway with SQLITE_BUSY), rolled back on destruction unless committed.
class Transaction {
 public:
  static Result<Transaction> Begin(Db& db);
  Transaction(Transaction&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();
  Status Commit();

 private:
  explicit Transaction(Db* db) : db_(db) {}
  Db* db_;
};

}  // namespace autan::store::sqlite
