// The data directory: defaults, and clear errors naming the path when it is
// missing, not a directory, or not writable.
#include "store/data_dir.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "store_test_util.h"

namespace autan::store {
namespace {

using testing::TempDir;
using testing::TestOptions;

// The error message of opening a store in `dir`, from a child process that
// runs as an unprivileged user when the tests run as root (root may write to
// any directory whatever its mode).
std::string OpenErrorAsUnprivileged(const std::string& dir, bool create) {
  int fds[2];
  if (pipe(fds) != 0) return "pipe failed";
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) _exit(3);
    SqliteStoreOptions options = TestOptions(dir);
    options.create = create;
    Result<std::unique_ptr<Store>> store = OpenSqliteStore(options);
    const std::string message = store.ok() ? "opened" : store.error().message;
    const ssize_t written = write(fds[1], message.data(), message.size());
    _exit(written == static_cast<ssize_t>(message.size()) ? 0 : 4);
  }
  close(fds[1]);
  std::string message;
  char buffer[512];
  for (ssize_t n; (n = read(fds[0], buffer, sizeof(buffer))) > 0;) message.append(buffer, n);
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
  return message;
}

void ExpectError(const Result<std::unique_ptr<Store>>& store, const std::string& path,
                 const std::string& reason) {
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.error().message.find(path), std::string::npos) << store.error().message;
  EXPECT_NE(store.error().message.find(reason), std::string::npos) << store.error().message;
}

TEST(DataDir, ReadOnlyDirectoryIsNamed) {
  TempDir tmp;
  ASSERT_EQ(chmod(tmp.path().c_str(), 0755), 0);  // let the unprivileged child in
  const std::string dir = tmp.Sub("readonly");
  ASSERT_EQ(mkdir(dir.c_str(), 0555), 0);
  const std::string message = OpenErrorAsUnprivileged(dir, true);
  EXPECT_NE(message.find("data directory '" + dir + "' is not writable"), std::string::npos)
      << message;
}

TEST(DataDir, ReadOnlyDatabaseFileIsNamed) {
  TempDir tmp;
  ASSERT_EQ(chmod(tmp.path().c_str(), 0777), 0);
  { ASSERT_NE(testing::OpenOrDie(TestOptions(tmp.path())), nullptr); }
  ASSERT_EQ(chmod(tmp.Sub("autan.db").c_str(), 0444), 0);
  // The WAL files are gone after a clean close; the database itself is read-only.
  const std::string message = OpenErrorAsUnprivileged(tmp.path(), false);
  EXPECT_NE(message.find(tmp.Sub("autan.db")), std::string::npos) << message;
  EXPECT_TRUE(message.find("read-only") != std::string::npos ||
              message.find("Permission denied") != std::string::npos)
      << message;
}

TEST(DataDir, MissingDirectoryIsNamedUnlessCreating) {
  TempDir tmp;
  const std::string dir = tmp.Sub("absent");
  SqliteStoreOptions options = TestOptions(dir);
  options.create = false;
  ExpectError(OpenSqliteStore(options), dir, "does not exist");
  // A directory without a database is refused the same way when not creating.
  ASSERT_EQ(mkdir(dir.c_str(), 0700), 0);
  ExpectError(OpenSqliteStore(options), dir, "no autan database");
  options.create = true;
  EXPECT_TRUE(OpenSqliteStore(options).ok());
}

TEST(DataDir, PathThroughAFileIsNamed) {
  TempDir tmp;
  std::ofstream(tmp.Sub("file")) << "x";
  ExpectError(OpenSqliteStore(TestOptions(tmp.Sub("file"))), tmp.Sub("file"), "is not a directory");
  ExpectError(OpenSqliteStore(TestOptions(tmp.Sub("file/data"))), tmp.Sub("file/data"),
              "Not a directory");
}

TEST(DataDir, DefaultFollowsXdg) {
  const char* old_xdg = std::getenv("XDG_DATA_HOME");
  const std::string saved_xdg = old_xdg ? old_xdg : "";
  const std::string saved_home = std::getenv("HOME") ? std::getenv("HOME") : "";
  setenv("XDG_DATA_HOME", "/srv/data", 1);
  EXPECT_EQ(*DefaultDataDir(), "/srv/data/autan");
  setenv("XDG_DATA_HOME", "relative/ignored", 1);  // the XDG spec ignores relative paths
  setenv("HOME", "/home/someone", 1);
  EXPECT_EQ(*DefaultDataDir(), "/home/someone/.local/share/autan");
  unsetenv("XDG_DATA_HOME");
  unsetenv("HOME");
  EXPECT_FALSE(DefaultDataDir().ok());
  if (old_xdg) setenv("XDG_DATA_HOME", saved_xdg.c_str(), 1);
  if (!saved_home.empty()) setenv("HOME", saved_home.c_str(), 1);
}

}  // namespace
}  // namespace autan::store
