// The SQLite schema, as numbered migrations applied in order.
#pragma once

#include "core/result.h"
#include "store/sqlite_db.h"

namespace autan::store::sqlite {

// The schema version this build writes (PRAGMA user_version).
int SchemaVersion();

// Brings the database up to SchemaVersion() in one transaction; refuses files
// that are not autan databases or come from a newer autan.
Status Migrate(Db& db);

}  // namespace autan::store::sqlite
