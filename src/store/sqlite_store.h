// The SQLite implementation of Store: one database file, autan.db, in the
// data directory.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/result.h"
#include "store/password.h"
#include "store/store.h"

namespace autan::store {

inline constexpr char kDatabaseFileName[] = "autan.db";

struct SqliteStoreOptions {
  std::string data_dir;
  // Create the directory and database when missing; otherwise their absence
  // is an error (commands that only read or change existing accounts).
  bool create = true;
  PasswordParams password;
  // Milliseconds since the Unix epoch; the system clock when empty.
  std::function<int64_t()> now_ms;
};

// Opens the database, applying pending migrations.
Result<std::unique_ptr<Store>> OpenSqliteStore(const SqliteStoreOptions& options);

}  // namespace autan::store
