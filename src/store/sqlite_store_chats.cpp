// SqliteStore: assistants, conversations, messages and search. Every
// statement names the acting user in its WHERE clause.
#include "store/secret.h"
#include "store/sqlite_store_impl.h"
#include "store/validate.h"

namespace autan::store::sqlite {
namespace {

constexpr int64_t kMaxListLimit = 1000;

Error NoUser(std::string_view user_id) {
  return Fail("no user with id '%.*s'", static_cast<int>(user_id.size()), user_id.data());
}

Status ValidateLimit(int64_t limit) {
  if (limit < 1 || limit > kMaxListLimit) {
    return Fail("listing limit must be in [1, %lld], not %lld",
                static_cast<long long>(kMaxListLimit), static_cast<long long>(limit));
  }
  return {};
}

Status ValidateFields(const AssistantFields& fields) {
  AUTAN_TRY(ValidateText("assistant name", fields.name, kMaxNameLength, false));
  AUTAN_TRY(ValidateText("assistant instructions", fields.instructions, kMaxContentLength, true));
  return ValidateJsonObject("assistant parameters", fields.parameters);
}

Status ValidateStats(const MessageStats& s) {
  const bool ok = s.tokens.value_or(0) >= 0 && s.time_to_first_token_ms.value_or(0) >= 0 &&
                  s.duration_ms.value_or(0) >= 0 && s.energy_joules.value_or(0) >= 0;
  if (!ok) return Fail("message measurements must be non-negative");
  return {};
}

Assistant ReadAssistant(const Query& q) {
  return Assistant{q.Text(0), q.Text(1), q.Text(2), q.Text(3), q.Int(4), q.Int(5)};
}

Conversation ReadConversation(const Query& q) {
  return Conversation{q.Text(0), q.Text(1), q.OptionalText(2), q.Int(3), q.Int(4)};
}

Message ReadMessage(const Query& q) {
  Message m;
  m.id = q.Text(0);
  m.conversation_id = q.Text(1);
  m.seq = q.Int(2);
  m.role = ParseMessageRole(q.Text(3)).value_or(MessageRole::kUser);
  m.content = q.Text(4);
  m.status = ParseMessageStatus(q.Text(5)).value_or(MessageStatus::kIncomplete);
  m.stats = MessageStats{q.OptionalInt(6), q.OptionalInt(7), q.OptionalInt(8), q.OptionalReal(9)};
  m.created_at_ms = q.Int(10);
  m.updated_at_ms = q.Int(11);
  return m;
}

template <typename T, typename Reader>
Result<std::vector<T>> ReadAll(Query& q, Reader read) {
  std::vector<T> rows;
  for (;;) {
    Result<bool> row = q.Step();
    AUTAN_TRY_HELD(row);
    if (!*row) return rows;
    rows.push_back(read(q));
  }
}

// Number of UTF-8 code points (the text is valid UTF-8).
size_t CodePoints(std::string_view text) {
  size_t n = 0;
  for (char c : text) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

std::string AsciiLower(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return lower;
}

}  // namespace

// --- Assistants ---

Result<Assistant> SqliteStore::CreateAssistant(std::string_view user_id,
                                               const AssistantFields& fields) {
  AUTAN_TRY(ValidateFields(fields));
  if (!IsId(user_id)) return NoUser(user_id);
  Result<std::string> id = NewId();
  AUTAN_TRY_HELD(id);
  std::lock_guard lock(mu_);
  Result<Query> user = db_->Prepare("SELECT 1 FROM users WHERE id = ?");
  AUTAN_TRY_HELD(user);
  Result<bool> found = user->Bind(user_id).Step();
  AUTAN_TRY_HELD(found);
  if (!*found) return NoUser(user_id);
  const int64_t now = Now();
  Assistant made{*id, fields.name, fields.instructions, fields.parameters, now, now};
  Result<Query> q = db_->Prepare(
      "INSERT INTO assistants "
      "(id, user_id, name, instructions, parameters, created_at, updated_at) "
      "VALUES (?, ?, ?, ?, ?, ?, ?)");
  AUTAN_TRY_HELD(q);
  AUTAN_TRY(q->Bind(made.id)
                .Bind(user_id)
                .Bind(made.name)
                .Bind(made.instructions)
                .Bind(made.parameters)
                .Bind(now)
                .Bind(now)
                .Run());
  return made;
}

Result<std::optional<Assistant>> SqliteStore::GetAssistant(std::string_view user_id,
                                                           std::string_view assistant_id) {
  if (!IsId(user_id) || !IsId(assistant_id)) return std::optional<Assistant>();
  std::lock_guard lock(mu_);
  Result<Query> q = db_->Prepare(
      "SELECT id, name, instructions, parameters, created_at, updated_at FROM assistants "
      "WHERE id = ? AND user_id = ?");
  AUTAN_TRY_HELD(q);
  Result<bool> row = q->Bind(assistant_id).Bind(user_id).Step();
  AUTAN_TRY_HELD(row);
  if (!*row) return std::optional<Assistant>();
  return std::optional<Assistant>(ReadAssistant(*q));
}

Result<std::vector<Assistant>> SqliteStore::ListAssistants(std::string_view user_id) {
  if (!IsId(user_id)) return std::vector<Assistant>();
  std::lock_guard lock(mu_);
  Result<Query> q = db_->Prepare(
      "SELECT id, name, instructions, parameters, created_at, updated_at FROM assistants "
      "WHERE user_id = ? ORDER BY created_at, id");
  AUTAN_TRY_HELD(q);
  q->Bind(user_id);
  return ReadAll<Assistant>(*q, ReadAssistant);
}

Result<bool> SqliteStore::UpdateAssistant(std::string_view user_id, std::string_view assistant_id,
                                          const AssistantFields& fields) {
  AUTAN_TRY(ValidateFields(fields));
  if (!IsId(user_id) || !IsId(assistant_id)) return false;
  std::lock_guard lock(mu_);
  Result<Query> q = db_->Prepare(
      "UPDATE assistants SET name = ?, instructions = ?, parameters = ?, updated_at = ? "
      "WHERE id = ? AND user_id = ?");
  AUTAN_TRY_HELD(q);
  AUTAN_TRY(q->Bind(fields.name)
                .Bind(fields.instructions)
                .Bind(fields.parameters)
                .Bind(Now())
                .Bind(assistant_id)
                .Bind(user_id)
                .Run());
  return db_->Changes() > 0;
}

Result<bool> SqliteStore::DeleteAssistant(std::string_view user_id, std::string_view assistant_id) {
  if (!IsId(user_id) || !IsId(assistant_id)) return false;
  std::lock_guard lock(mu_);
  Result<Query> q = db_->Prepare("DELETE FROM assistants WHERE id = ? AND user_id = ?");
  AUTAN_TRY_HELD(q);
  AUTAN_TRY(q->Bind(assistant_id).Bind(user_id).Run());
  return db_->Changes() > 0;
}

// --- Conversations ---

Result<std::optional<Conversation>> SqliteStore::CreateConversation(
    std::string_view user_id, const NewConversation& conversation) {
  AUTAN_TRY(ValidateText("conversation title", conversation.title, kMaxTitleLength, true));
  if (!IsId(user_id)) return NoUser(user_id);
  if (conversation.assistant_id && !IsId(*conversation.assistant_id)) {
    return std::optional<Conversation>();
  }
  Result<std::string> id = NewId();
  AUTAN_TRY_HELD(id);
  std::lock_guard lock(mu_);
  Result<Transaction> tx = Transaction::Begin(*db_);
  AUTAN_TRY_HELD(tx);
  Result<Query> user = db_->Prepare("SELECT 1 FROM users WHERE id = ?");
  AUTAN_TRY_HELD(user);
  Result<bool> found = user->Bind(user_id).Step();
  AUTAN_TRY_HELD(found);
  if (!*found) return NoUser(user_id);
  if (conversation.assistant_id) {
    Result<Query> owns = db_->Prepare("SELECT 1 FROM assistants WHERE id = ? AND user_id = ?");
    AUTAN_TRY_HELD(owns);
    Result<bool> mine = owns->Bind(*conversation.assistant_id).Bind(user_id).Step();
    AUTAN_TRY_HELD(mine);
    if (!*mine) return std::optional<Conversation>();
  }
  const int64_t now = Now();
  Conversation made{*id, conversation.title, conversation.assistant_id, now, now};
  Result<Query> q = db_->Prepare(
      "INSERT INTO conversations (id, user_id, assistant_id, title, created_at, updated_at) "
      "VALUES (?, ?, ?, ?, ?, ?)");
  AUTAN_TRY_HELD(q);
  AUTAN_TRY(q->Bind(made.id)
                .Bind(user_id)
                .Bind(made.assistant_id)
                .Bind(made.title)
                .Bind(now)
                .Bind(now)
                .Run());
  AUTAN_TRY(tx->Commit());
  return std::optional<Conversation>(std::move(made));
}

Result<std::optional<Conversation>> SqliteStore::GetConversation(std::string_view user_id,
                                                                 std::string_view conversation_id) {
  if (!IsId(user_id) || !IsId(conversation_id)) return std::optional<Conversation>();
  std::lock_guard lock(mu_);
  Result<Query> q = db_->Prepare(
      "SELECT id, title, assistant_id, created_at, updated_at FROM conversations "
      "WHERE id = ? AND user_id = ?");
  AUTAN_TRY_HELD(q);
  Result<bool> row = q->Bind(conversation_id).Bind(user_id).Step();
  AUTAN_TRY_HELD(row);
  if (!*row) return std::optional<Conversation>();
  return std::optional<Conversation>(ReadConversation(*q));
}

Result<std::vector<Conversation>> SqliteStore::ListConversations(std::string_view user_id,
                                                                 int64_t limit) {
  AUTAN_TRY(ValidateLimit(limit));
  if (!IsId(user_id)) return std::vector<Conversation>();
  std::lock_guard lock(mu_);
  // Conversations touched in the same millisecond: the one created last first.
  Result<Query> q = db_->Prepare(
      "SELECT id, title, assistant_id, created_at, updated_at FROM conversations "
      "WHERE user_id = ? ORDER BY updated_at DESC, rowid DESC LIMIT ?");
  AUTAN_TRY_HELD(q);
  q->Bind(user_id).Bind(limit);
  return ReadAll<Conversation>(*q, ReadConversation);
}

Result<std::vector<Conversation>> SqliteStore::SearchConversations(std::string_view user_id,
                                                                   std::string_view query,
                                                                   int64_t limit) {
  AUTAN_TRY(ValidateText("search query", query, kMaxTitleLength, false));
  AUTAN_TRY(ValidateLimit(limit));
  if (!IsId(user_id)) return std::vector<Conversation>();
  const std::string lower = AsciiLower(query);
  // The trigram index finds substrings of 3 or more characters; shorter
  // queries scan the user's messages.
  const bool indexed = CodePoints(query) >= 3;
  std::string phrase = "\"";
  for (char c : query) phrase += c == '"' ? std::string("\"\"") : std::string(1, c);
  phrase += '"';
  std::lock_guard lock(mu_);
  Result<Query> q = db_->Prepare(
      indexed ? "SELECT id, title, assistant_id, created_at, updated_at FROM conversations "
                "WHERE user_id = ?1 AND (instr(lower(title), ?2) > 0 OR id IN ("
                "  SELECT m.conversation_id FROM messages_fts f JOIN messages m "
                "  ON m.rowid = f.rowid WHERE messages_fts MATCH ?3 AND m.user_id = ?1)) "
                "ORDER BY updated_at DESC, rowid DESC LIMIT ?4"
              : "SELECT id, title, assistant_id, created_at, updated_at FROM conversations "
                "WHERE user_id = ?1 AND (instr(lower(title), ?2) > 0 OR id IN ("
                "  SELECT conversation_id FROM messages "
                "  WHERE user_id = ?1 AND instr(lower(content), ?3) > 0)) "
                "ORDER BY updated_at DESC, rowid DESC LIMIT ?4");
  AUTAN_TRY_HELD(q);
  q->Bind(user_id).Bind(lower).Bind(indexed ? phrase : lower).Bind(limit);
  return ReadAll<Conversation>(*q, ReadConversation);
}

Result<bool> SqliteStore::RenameConversation(std::string_view user_id,
                                             std::string_view conversation_id,
                                             std::string_view title) {
  AUTAN_TRY(ValidateText("conversation title", title, kMaxTitleLength, true));
  if (!IsId(user_id) || !IsId(conversation_id)) return false;
  std::lock_guard lock(mu_);
  Result<Query> q = db_->Prepare("UPDATE conversations SET title = ? WHERE id = ? AND user_id = ?");
  AUTAN_TRY_HELD(q);
  AUTAN_TRY(q->Bind(title).Bind(conversation_id).Bind(user_id).Run());
  return db_->Changes() > 0;
}

Result<bool> SqliteStore::SetConversationAssistant(std::string_view user_id,
                                                   std::string_view conversation_id,
                                                   const std::optional<std::string>& assistant_id) {
  if (!IsId(user_id) || !IsId(conversation_id)) return false;
  if (assistant_id && !IsId(*assistant_id)) return false;
  std::lock_guard lock(mu_);
  // The assistant must be the user's too: the subquery finds nothing otherwise.
  Result<Query> q = db_->Prepare(
      assistant_id ? "UPDATE conversations SET assistant_id = (SELECT id FROM assistants "
                     "WHERE id = ?1 AND user_id = ?3) WHERE id = ?2 AND user_id = ?3 AND EXISTS "
                     "(SELECT 1 FROM assistants WHERE id = ?1 AND user_id = ?3)"
                   : "UPDATE conversations SET assistant_id = NULL WHERE id = ?2 AND user_id = ?3");
  AUTAN_TRY_HELD(q);
  AUTAN_TRY(
      q->Bind(assistant_id.value_or(std::string())).Bind(conversation_id).Bind(user_id).Run());
  return db_->Changes() > 0;
}

Result<bool> SqliteStore::DeleteConversation(std::string_view user_id,
                                             std::string_view conversation_id) {
  if (!IsId(user_id) || !IsId(conversation_id)) return false;
  std::lock_guard lock(mu_);
  Result<Transaction> tx = Transaction::Begin(*db_);
  AUTAN_TRY_HELD(tx);
  Result<Query> q = db_->Prepare("DELETE FROM conversations WHERE id = ? AND user_id = ?");
  AUTAN_TRY_HELD(q);
  AUTAN_TRY(q->Bind(conversation_id).Bind(user_id).Run());  // messages go by cascade
  if (db_->Changes() == 0) return false;
  AUTAN_TRY(AuditLocked(user_id, "conversation.delete", conversation_id));
  AUTAN_TRY(tx->Commit());
  return true;
}

// --- Messages ---

Result<std::optional<Message>> SqliteStore::AppendMessage(std::string_view user_id,
                                                          std::string_view conversation_id,
                                                          const NewMessage& message) {
  AUTAN_TRY(ValidateText("message content", message.content, kMaxContentLength, true));
  AUTAN_TRY(ValidateStats(message.stats));
  if (!IsId(user_id) || !IsId(conversation_id)) return std::optional<Message>();
  Result<std::string> id = NewId();
  AUTAN_TRY_HELD(id);
  std::lock_guard lock(mu_);
  Result<Transaction> tx = Transaction::Begin(*db_);
  AUTAN_TRY_HELD(tx);
  Result<Query> next = db_->Prepare(
      "SELECT (SELECT COALESCE(MAX(seq), 0) FROM messages WHERE conversation_id = c.id) + 1 "
      "FROM conversations c WHERE c.id = ? AND c.user_id = ?");
  AUTAN_TRY_HELD(next);
  Result<bool> owned = next->Bind(conversation_id).Bind(user_id).Step();
  AUTAN_TRY_HELD(owned);
  if (!*owned) return std::optional<Message>();
  const int64_t now = Now();
  Message made{*id,
               std::string(conversation_id),
               next->Int(0),
               message.role,
               message.content,
               message.status,
               message.stats,
               now,
               now};
  Result<Query> q = db_->Prepare(
      "INSERT INTO messages (id, conversation_id, user_id, seq, role, content, status, tokens, "
      "time_to_first_token_ms, duration_ms, energy_joules, created_at, updated_at) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  AUTAN_TRY_HELD(q);
  AUTAN_TRY(q->Bind(made.id)
                .Bind(conversation_id)
                .Bind(user_id)
                .Bind(made.seq)
                .Bind(MessageRoleName(made.role))
                .Bind(made.content)
                .Bind(MessageStatusName(made.status))
                .Bind(made.stats.tokens)
                .Bind(made.stats.time_to_first_token_ms)
                .Bind(made.stats.duration_ms)
                .Bind(made.stats.energy_joules)
                .Bind(now)
                .Bind(now)
                .Run());
  Result<Query> touch = db_->Prepare("UPDATE conversations SET updated_at = ? WHERE id = ?");
  AUTAN_TRY_HELD(touch);
  AUTAN_TRY(touch->Bind(now).Bind(conversation_id).Run());
  // With synchronous = FULL the commit returns once the WAL is on disk.
  AUTAN_TRY(tx->Commit());
  return std::optional<Message>(std::move(made));
}

Result<bool> SqliteStore::AppendMessageContent(std::string_view user_id,
                                               std::string_view message_id, std::string_view text) {
  AUTAN_TRY(ValidateText("message content", text, kMaxContentLength, true));
  if (!IsId(user_id) || !IsId(message_id)) return false;
  std::lock_guard lock(mu_);
  Result<Query> q = db_->Prepare(
      "UPDATE messages SET content = content || ?, updated_at = ? "
      "WHERE id = ? AND user_id = ? AND status = 'streaming'");
  AUTAN_TRY_HELD(q);
  AUTAN_TRY(q->Bind(text).Bind(Now()).Bind(message_id).Bind(user_id).Run());
  return db_->Changes() > 0;
}

Result<bool> SqliteStore::FinishMessage(std::string_view user_id, std::string_view message_id,
                                        MessageStatus status, const MessageStats& stats) {
  if (status == MessageStatus::kStreaming) {
    return Fail("a message can only finish as complete or incomplete");
  }
  AUTAN_TRY(ValidateStats(stats));
  if (!IsId(user_id) || !IsId(message_id)) return false;
  std::lock_guard lock(mu_);
  Result<Query> q = db_->Prepare(
      "UPDATE messages SET status = ?, tokens = ?, time_to_first_token_ms = ?, "
      "duration_ms = ?, energy_joules = ?, updated_at = ? "
      "WHERE id = ? AND user_id = ? AND status = 'streaming'");
  AUTAN_TRY_HELD(q);
  AUTAN_TRY(q->Bind(MessageStatusName(status))
                .Bind(stats.tokens)
                .Bind(stats.time_to_first_token_ms)
                .Bind(stats.duration_ms)
                .Bind(stats.energy_joules)
                .Bind(Now())
                .Bind(message_id)
                .Bind(user_id)
                .Run());
  return db_->Changes() > 0;
}

Result<bool> SqliteStore::SetMessageContent(std::string_view user_id, std::string_view message_id,
                                            std::string_view content) {
  AUTAN_TRY(ValidateText("message content", content, kMaxContentLength, true));
  if (!IsId(user_id) || !IsId(message_id)) return false;
  std::lock_guard lock(mu_);
  Result<Query> q = db_->Prepare(
      "UPDATE messages SET content = ?, updated_at = ? "
      "WHERE id = ? AND user_id = ? AND status != 'streaming'");
  AUTAN_TRY_HELD(q);
  AUTAN_TRY(q->Bind(content).Bind(Now()).Bind(message_id).Bind(user_id).Run());
  return db_->Changes() > 0;
}

Result<std::optional<int64_t>> SqliteStore::DeleteMessagesAfter(std::string_view user_id,
                                                                std::string_view conversation_id,
                                                                int64_t after_seq) {
  using Count = std::optional<int64_t>;
  if (!IsId(user_id) || !IsId(conversation_id)) return Count();
  std::lock_guard lock(mu_);
  Result<Transaction> tx = Transaction::Begin(*db_);
  AUTAN_TRY_HELD(tx);
  Result<Query> owns = db_->Prepare("SELECT 1 FROM conversations WHERE id = ? AND user_id = ?");
  AUTAN_TRY_HELD(owns);
  Result<bool> mine = owns->Bind(conversation_id).Bind(user_id).Step();
  AUTAN_TRY_HELD(mine);
  if (!*mine) return Count();
  Result<Query> q =
      db_->Prepare("DELETE FROM messages WHERE conversation_id = ? AND user_id = ? AND seq > ?");
  AUTAN_TRY_HELD(q);
  AUTAN_TRY(q->Bind(conversation_id).Bind(user_id).Bind(after_seq).Run());
  const int64_t deleted = db_->Changes();
  AUTAN_TRY(tx->Commit());
  return Count(deleted);
}

Result<std::optional<Message>> SqliteStore::GetMessage(std::string_view user_id,
                                                       std::string_view message_id) {
  if (!IsId(user_id) || !IsId(message_id)) return std::optional<Message>();
  std::lock_guard lock(mu_);
  Result<Query> q = db_->Prepare(
      "SELECT id, conversation_id, seq, role, content, status, tokens, time_to_first_token_ms, "
      "duration_ms, energy_joules, created_at, updated_at FROM messages "
      "WHERE id = ? AND user_id = ?");
  AUTAN_TRY_HELD(q);
  Result<bool> row = q->Bind(message_id).Bind(user_id).Step();
  AUTAN_TRY_HELD(row);
  if (!*row) return std::optional<Message>();
  return std::optional<Message>(ReadMessage(*q));
}

Result<std::optional<std::vector<Message>>> SqliteStore::ListMessages(
    std::string_view user_id, std::string_view conversation_id) {
  using Messages = std::optional<std::vector<Message>>;
  if (!IsId(user_id) || !IsId(conversation_id)) return Messages();
  std::lock_guard lock(mu_);
  Result<Query> owns = db_->Prepare("SELECT 1 FROM conversations WHERE id = ? AND user_id = ?");
  AUTAN_TRY_HELD(owns);
  Result<bool> mine = owns->Bind(conversation_id).Bind(user_id).Step();
  AUTAN_TRY_HELD(mine);
  if (!*mine) return Messages();
  Result<Query> q = db_->Prepare(
      "SELECT id, conversation_id, seq, role, content, status, tokens, time_to_first_token_ms, "
      "duration_ms, energy_joules, created_at, updated_at FROM messages "
      "WHERE conversation_id = ? AND user_id = ? ORDER BY seq");
  AUTAN_TRY_HELD(q);
  q->Bind(conversation_id).Bind(user_id);
  Result<std::vector<Message>> rows = ReadAll<Message>(*q, ReadMessage);
  AUTAN_TRY_HELD(rows);
  return Messages(std::move(rows).value());
}

Result<int64_t> SqliteStore::MarkStreamingIncomplete() {
  std::lock_guard lock(mu_);
  Result<Query> q = db_->Prepare(
      "UPDATE messages SET status = 'incomplete', updated_at = ? WHERE status = 'streaming'");
  AUTAN_TRY_HELD(q);
  AUTAN_TRY(q->Bind(Now()).Run());
  return db_->Changes();
}

}  // namespace autan::store::sqlite
