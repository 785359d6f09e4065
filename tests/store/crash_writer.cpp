// The writer the crash test kills: it appends messages to a store as fast as
// it can and, after each call returns, reports on stdout what the store has
// acknowledged. Anything reported must survive SIGKILL.
//
//   store_crash_writer DATA_DIR USER_ID SEED
//
// Lines (each one write(2) of under PIPE_BUF bytes, so never torn):
//   C <conversation>             a conversation was created
//   M <message> <sha256>         a complete message was appended
//   S <message>                  a streaming message was appended (empty)
//   A <message> <bytes> <sha256> its content is now this long with this hash
//   F <message> <sha256>         it finished complete with this content
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/rng.h"
#include "core/sha256.h"
#include "store/sqlite_store.h"

namespace {

using namespace autan;
using namespace autan::store;

void Report(const std::string& line) {
  const std::string text = line + "\n";
  if (write(STDOUT_FILENO, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    std::_Exit(5);
  }
}

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "store_crash_writer: %s\n", what.c_str());
  std::_Exit(1);
}

// Text of random length with multi-byte characters, so that torn writes
// would show as bad UTF-8 or a wrong hash.
std::string RandomText(Rng& rng, size_t max_len) {
  static const char* const kPieces[] = {"a", "bc", " ", "é", "€", "漢字", "🙂", "\n", "x-y", "Z"};
  const size_t target = 1 + rng.Next() % max_len;
  std::string text;
  while (text.size() < target) text += kPieces[rng.Next() % std::size(kPieces)];
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) Die("usage: store_crash_writer DATA_DIR USER_ID SEED");
  const std::string user = argv[2];
  Rng rng(std::strtoull(argv[3], nullptr, 10));
  SqliteStoreOptions options;
  options.data_dir = argv[1];
  options.create = false;
  options.password = PasswordParams{1, 64, 1};
  Result<std::unique_ptr<Store>> opened = OpenSqliteStore(options);
  if (!opened.ok()) Die(opened.error().message);
  Store& store = **opened;

  std::string conversation;
  for (int i = 0; i < 1000000; ++i) {
    if (conversation.empty() || rng.Next() % 8 == 0) {
      Result<std::optional<Conversation>> c = store.CreateConversation(user, {"chat", {}});
      if (!c.ok() || !c->has_value()) Die("cannot create a conversation");
      conversation = (*c)->id;
      Report("C " + conversation);
    }
    const std::string question = RandomText(rng, 3000);
    Result<std::optional<Message>> q =
        store.AppendMessage(user, conversation, {MessageRole::kUser, question});
    if (!q.ok() || !q->has_value()) Die("cannot append a message");
    Report("M " + (*q)->id + " " + Sha256Hex(question));

    Result<std::optional<Message>> a = store.AppendMessage(
        user, conversation, {MessageRole::kAssistant, "", MessageStatus::kStreaming});
    if (!a.ok() || !a->has_value()) Die("cannot start an answer");
    const std::string id = (*a)->id;
    Report("S " + id);
    std::string answer;
    const int pieces = 1 + static_cast<int>(rng.Next() % 6);
    for (int p = 0; p < pieces; ++p) {
      const std::string piece = RandomText(rng, 200);
      Result<bool> grown = store.AppendMessageContent(user, id, piece);
      if (!grown.ok() || !*grown) Die("cannot stream an answer");
      answer += piece;
      Report("A " + id + " " + std::to_string(answer.size()) + " " + Sha256Hex(answer));
    }
    if (rng.Next() % 5 != 0) {  // some answers are left streaming
      Result<bool> done =
          store.FinishMessage(user, id, MessageStatus::kComplete, {pieces, 1, 2, 0.5});
      if (!done.ok() || !*done) Die("cannot finish an answer");
      Report("F " + id + " " + Sha256Hex(answer));
    }
  }
  return 0;
}
