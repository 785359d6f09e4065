// The data directory: where the database lives. Created 0700, its files 0600,
// since it holds password hashes and every conversation.
#pragma once

#include <string>

#include "core/result.h"

namespace autan::store {

// $XDG_DATA_HOME/autan when XDG_DATA_HOME is an absolute path, else
// $HOME/.local/share/autan (the XDG base directory defaults).
Result<std::string> DefaultDataDir();

// Checks that `dir` is a writable directory, creating it (and its parents)
// when `create` is set. Errors name the path and the reason.
Status PrepareDataDir(const std::string& dir, bool create);

}  // namespace autan::store
