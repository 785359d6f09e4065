#include "store/data_dir.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace autan::store {
namespace {

// mkdir -p: parents get 0700 too, as the XDG spec asks of ~/.local/share.
Status MakeDirs(const std::string& dir) {
  for (size_t slash = dir.find('/', 1);; slash = dir.find('/', slash + 1)) {
    const std::string prefix = dir.substr(0, slash);
    if (!prefix.empty() && mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST) {
      return Fail("cannot create data directory '%s': %s: %s", dir.c_str(), prefix.c_str(),
                  std::strerror(errno));
    }
    if (slash == std::string::npos) return {};
  }
}

}  // namespace

Result<std::string> DefaultDataDir() {
  const char* xdg = std::getenv("XDG_DATA_HOME");
  if (xdg != nullptr && xdg[0] == '/') return std::string(xdg) + "/autan";
  const char* home = std::getenv("HOME");
  if (home == nullptr || home[0] != '/') {
    return Fail("no data directory: HOME is not set to an absolute path; pass --data-dir");
  }
  return std::string(home) + "/.local/share/autan";
}

Status PrepareDataDir(const std::string& dir, bool create) {
  if (dir.empty()) return Fail("the data directory path is empty");
  struct stat st;
  if (stat(dir.c_str(), &st) != 0) {
    if (errno != ENOENT) {
      return Fail("cannot access data directory '%s': %s", dir.c_str(), std::strerror(errno));
    }
    if (!create) return Fail("data directory '%s' does not exist", dir.c_str());
    AUTAN_TRY(MakeDirs(dir));
    if (stat(dir.c_str(), &st) != 0) {
      return Fail("cannot access data directory '%s': %s", dir.c_str(), std::strerror(errno));
    }
  }
  if (!S_ISDIR(st.st_mode)) return Fail("data directory '%s' is not a directory", dir.c_str());
  // SQLite needs to create its -wal and -shm files beside the database.
  if (access(dir.c_str(), W_OK | X_OK) != 0) {
    return Fail("data directory '%s' is not writable: %s", dir.c_str(), std::strerror(errno));
  }
  return {};
}

}  // namespace autan::store
