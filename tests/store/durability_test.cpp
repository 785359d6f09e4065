// Nothing acknowledged is lost when the process is killed: a writer child
// reports each write the store acknowledged, is killed with SIGKILL at a
// random moment, and every reported write must be in the reopened database,
// whose integrity check must pass.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <sstream>
#include <string>

#include "core/rng.h"
#include "core/sha256.h"
#include "store_test_util.h"

namespace autan::store {
namespace {

using Clock = std::chrono::steady_clock;

// What the writer acknowledged about one message.
struct Acked {
  bool streaming = false;
  bool finished = false;
  size_t bytes = 0;  // streamed: content at least this long...
  std::string hash;  // ...and its first `bytes` bytes hash to this
};

struct Round {
  std::string output;
  bool killed = false;
};

// Runs the writer for `run_for` and until it acknowledged `min_lines` writes
// (for at most 15 s), then SIGKILLs it and collects what it printed.
Round RunAndKill(const std::string& dir, const std::string& user, uint64_t seed,
                 std::chrono::milliseconds run_for, size_t min_lines) {
  int fds[2];
  EXPECT_EQ(pipe2(fds, O_CLOEXEC), 0);
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    const std::string seed_text = std::to_string(seed);
    execl(AUTAN_STORE_CRASH_WRITER, AUTAN_STORE_CRASH_WRITER, dir.c_str(), user.c_str(),
          seed_text.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  Round round;
  const auto start = Clock::now();
  const auto cap = start + std::chrono::seconds(15);
  const auto lines = [&] {
    return static_cast<size_t>(std::count(round.output.begin(), round.output.end(), '\n'));
  };
  char buffer[65536];
  for (bool open = true; open;) {
    const auto now = Clock::now();
    if (now >= cap || (now >= start + run_for && lines() >= min_lines)) break;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(start + run_for - now);
    pollfd p{fds[0], POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(std::clamp<int64_t>(left.count(), 1, 10))) <= 0) continue;
    const ssize_t n = read(fds[0], buffer, sizeof(buffer));
    open = n > 0;  // end of file: the writer exited by itself, which the caller reports
    if (open) round.output.append(buffer, static_cast<size_t>(n));
  }
  kill(pid, SIGKILL);
  // What the writer wrote before it died is still in the pipe.
  for (ssize_t n; (n = read(fds[0], buffer, sizeof(buffer))) > 0;) {
    round.output.append(buffer, static_cast<size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  round.killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
  EXPECT_TRUE(round.killed) << "the writer ended by itself, status " << status;
  return round;
}

void Record(const std::string& output, std::map<std::string, Acked>& acked, int& lines) {
  std::istringstream in(output);
  std::string kind, id;
  while (in >> kind) {
    ++lines;
    if (kind == "C") {
      in >> id;
      continue;
    }
    in >> id;
    Acked& a = acked[id];
    if (kind == "M") {
      in >> a.hash;
    } else if (kind == "S") {
      a.streaming = true;
    } else if (kind == "A") {
      in >> a.bytes >> a.hash;
    } else if (kind == "F") {
      in >> a.hash;
      a.finished = true;
    } else {
      ADD_FAILURE() << "unexpected line kind '" << kind << "'";
    }
  }
}

void Verify(Store& store, const std::string& user, const std::map<std::string, Acked>& acked) {
  int checked = 0;
  for (const auto& [id, a] : acked) {
    std::optional<Message> m = *store.GetMessage(user, id);
    ASSERT_TRUE(m.has_value()) << "acknowledged message " << id << " is lost";
    if (!a.streaming) {
      EXPECT_EQ(m->status, MessageStatus::kComplete);
      EXPECT_EQ(Sha256Hex(m->content), a.hash) << id;
    } else if (a.finished) {
      EXPECT_EQ(m->status, MessageStatus::kComplete) << id;
      EXPECT_EQ(Sha256Hex(m->content), a.hash) << id;
    } else {
      // Later appends may have been committed without being reported.
      ASSERT_GE(m->content.size(), a.bytes) << id;
      if (a.bytes > 0) {
        EXPECT_EQ(Sha256Hex(m->content.substr(0, a.bytes)), a.hash) << id;
      }
      EXPECT_NE(m->status, MessageStatus::kStreaming) << id;
    }
    ++checked;
  }
  EXPECT_EQ(checked, static_cast<int>(acked.size()));
}

TEST(Durability, AcknowledgedWritesSurviveSigkill) {
  testing::TempDir tmp;
  std::string user;
  {
    auto store = testing::OpenOrDie(testing::TestOptions(tmp.path()));
    ASSERT_NE(store, nullptr);
    user = testing::MakeUser(*store, "writer").id;
  }
  const uint64_t seed = static_cast<uint64_t>(Clock::now().time_since_epoch().count());
  std::printf("durability seed %llu\n", static_cast<unsigned long long>(seed));
  Rng rng(seed);
  std::map<std::string, Acked> acked;
  constexpr int kRounds = 16;
  int lines = 0;
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round) + ", seed " + std::to_string(seed));
    // From "during open" to well into the writing.
    const auto run_for = std::chrono::milliseconds(rng.Next() % 700);
    // The last round makes sure a good number of writes were made at all.
    Round r = RunAndKill(tmp.path(), user, rng.Next(), run_for, round == kRounds - 1 ? 100 : 0);
    Record(r.output, acked, lines);

    auto store = testing::OpenOrDie(testing::TestOptions(tmp.path()));
    ASSERT_NE(store, nullptr);
    Status integrity = store->CheckIntegrity();
    ASSERT_TRUE(integrity.ok()) << integrity.error().message;
    ASSERT_TRUE(store->MarkStreamingIncomplete().ok());
    Verify(*store, user, acked);
    if (HasFatalFailure()) return;
  }
  std::printf("%d acknowledged writes of %zu messages checked over %d kills\n", lines, acked.size(),
              kRounds);
  EXPECT_GT(acked.size(), 10u) << "the writer hardly wrote anything before being killed";
}

}  // namespace
}  // namespace autan::store
