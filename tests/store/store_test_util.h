// Helpers for the store tests: a temporary data directory and a store opened
// in it with tiny Argon2 parameters (hashing at 64 MiB would make each test
// take seconds) and an adjustable clock.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <set>
#include <string>

#include "store/sqlite_store.h"

namespace autan::store::testing {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "autan-store-XXXXXX").string();
    const char* made = mkdtemp(pattern.data());
    EXPECT_NE(made, nullptr) << "mkdtemp failed";
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline PasswordParams TinyPasswordParams() { return PasswordParams{1, 64, 1}; }

// A clock the test moves by hand; starts at 2025-01-01T00:00:00Z.
struct TestClock {
  std::shared_ptr<std::atomic<int64_t>> ms = std::make_shared<std::atomic<int64_t>>(1735689600000);
  std::function<int64_t()> Fn() const {
    return [ms = ms] { return ms->load(); };
  }
};

inline SqliteStoreOptions TestOptions(const std::string& dir, const TestClock* clock = nullptr) {
  SqliteStoreOptions options;
  options.data_dir = dir;
  options.password = TinyPasswordParams();
  if (clock != nullptr) options.now_ms = clock->Fn();
  return options;
}

inline std::unique_ptr<Store> OpenOrDie(const SqliteStoreOptions& options) {
  Result<std::unique_ptr<Store>> store = OpenSqliteStore(options);
  EXPECT_TRUE(store.ok()) << store.error().message;
  if (!store.ok()) return nullptr;
  return std::move(store).value();
}

// Unwraps a Result in a test, failing it (and returning a default) on error.
template <typename T>
T Must(Result<T> result) {
  EXPECT_TRUE(result.ok()) << (result.ok() ? "" : result.error().message);
  if (!result.ok()) return T{};
  return std::move(result).value();
}

inline User MakeUser(Store& store, const std::string& name, Role role = Role::kUser) {
  return Must(store.CreateUser(NewUser{name, "password-of-" + name, role}, kOperatorActor));
}

// Reads the database with SQLite directly, as an independent view of the file.
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    EXPECT_EQ(
        sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr),
        SQLITE_OK);
  }
  ~RawDb() { sqlite3_close(db_); }
  int64_t Int(const char* sql) {
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr), SQLITE_OK) << sql;
    int64_t value = -1;
    if (sqlite3_step(stmt) == SQLITE_ROW) value = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    return value;
  }
  std::string Text(const char* sql) {
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr), SQLITE_OK) << sql;
    std::string value;
    if (sqlite3_step(stmt) == SQLITE_ROW) {
      value = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    }
    sqlite3_finalize(stmt);
    return value;
  }
  std::set<std::string> Names(const char* type) {
    const std::string sql = std::string("SELECT name FROM sqlite_schema WHERE type = '") + type +
                            "' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
                            " AND name NOT LIKE 'messages\\_fts\\_%' ESCAPE '\\'";  // FTS5's own
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK);
    std::set<std::string> names;
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      names.insert(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
    }
    sqlite3_finalize(stmt);
    return names;
  }
  void Exec(const char* sql) {
    EXPECT_EQ(sqlite3_exec(db_, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db_);
  }

 private:
  sqlite3* db_ = nullptr;
};

}  // namespace autan::store::testing
