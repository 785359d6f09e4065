// The storage of the web app: users, sessions, API keys, assistants,
// conversations, messages, usage and the audit log, behind one interface so
// that SQLite (the default, sqlite_store.h) and PostgreSQL can both back it.
//
// Scoping: every method about a user's own data takes the acting user's id and
// only ever sees rows that user owns. Asking for another user's row gives the
// same answer as asking for one that does not exist (std::nullopt or false),
// so ids cannot be probed. Errors (Result's Error) are kept for real failures:
// I/O, a corrupt database, invalid input.
//
// Account administration (CreateUser, ListUsers, SetPassword, SetUserDisabled,
// ListAudit) does not check roles: the CLI runs as the operator who owns the
// data directory, and the server checks the admin role before calling.
//
// Times are milliseconds since the Unix epoch (UTC). Ids are 128-bit random
// values in lower-case hex (32 characters), never sequential.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace autan::store {

enum class Role { kUser, kAdmin };
std::string_view RoleName(Role role);  // "user" | "admin"
std::optional<Role> ParseRole(std::string_view name);

struct User {
  std::string id;
  std::string username;
  Role role = Role::kUser;
  int64_t created_at_ms = 0;
  bool disabled = false;
};

struct NewUser {
  std::string username;  // 1-64 of [A-Za-z0-9._-], unique regardless of case
  std::string password;  // at least kMinPasswordLength bytes
  Role role = Role::kUser;
};
inline constexpr size_t kMinPasswordLength = 8;

// A browser session. The token is what the cookie carries; only its SHA-256 is
// stored, so it is returned once, by CreateSession.
struct NewSession {
  std::string token;  // 64 hex characters (256 random bits)
  std::string csrf_token;
  int64_t expires_at_ms = 0;
};

struct Session {
  User user;
  std::string csrf_token;
  int64_t created_at_ms = 0;
  int64_t expires_at_ms = 0;
};

struct ApiKey {
  std::string id;
  std::string label;
  std::string prefix;  // the first characters of the key, so users can tell keys apart
  int64_t created_at_ms = 0;
  std::optional<int64_t> last_used_at_ms;
  bool revoked = false;
};

// Returned once by CreateApiKey: the key itself is never stored, only its
// SHA-256 (the same hash `autan serve --hash-key` prints).
struct NewApiKey {
  ApiKey key;
  std::string secret;  // "sk-autan-" + 64 hex characters
};

struct Assistant {
  std::string id;
  std::string name;
  std::string instructions;  // the system prompt
  std::string parameters;    // a JSON object: temperature, top_p, model, ...
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
};

struct AssistantFields {
  std::string name;          // 1-200 bytes
  std::string instructions;  // may be empty
  std::string parameters = "{}";
};

struct Conversation {
  std::string id;
  std::string title;
  std::optional<std::string> assistant_id;
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
};

struct NewConversation {
  std::string title;
  std::optional<std::string> assistant_id;  // must be one of the user's assistants
};

enum class MessageRole { kSystem, kUser, kAssistant, kTool };
std::string_view MessageRoleName(MessageRole role);  // "system" | "user" | "assistant" | "tool"
std::optional<MessageRole> ParseMessageRole(std::string_view name);

// kStreaming: being generated, content grows; kIncomplete: generation stopped
// early (cancelled, or the server died while streaming).
enum class MessageStatus { kComplete, kStreaming, kIncomplete };
std::string_view MessageStatusName(MessageStatus status);  // "complete" | "streaming" | ...
std::optional<MessageStatus> ParseMessageStatus(std::string_view name);

// Measurements of a generated message; unknown ones stay empty.
struct MessageStats {
  std::optional<int64_t> tokens;
  std::optional<int64_t> time_to_first_token_ms;
  std::optional<int64_t> duration_ms;
  std::optional<double> energy_joules;
};

struct Message {
  std::string id;
  std::string conversation_id;
  int64_t seq = 0;  // position in the conversation, from 1
  MessageRole role = MessageRole::kUser;
  std::string content;
  MessageStatus status = MessageStatus::kComplete;
  MessageStats stats;
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
};

struct NewMessage {
  MessageRole role = MessageRole::kUser;
  std::string content;
  MessageStatus status = MessageStatus::kComplete;
  MessageStats stats;
};

// Per user and UTC day, for quotas.
struct UsageDay {
  std::string day;  // "YYYY-MM-DD"
  int64_t requests = 0;
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  double energy_joules = 0;
};

struct UsageDelta {
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  double energy_joules = 0;
};

// A user's day, for the administrator's usage chart.
struct UserUsageDay {
  std::string user_id;
  std::string username;
  UsageDay usage;
};

// Daily caps on a subject: "user:ID" or "key:KEY" (see AddKeyUsage). Unset:
// no cap of that kind.
struct Quota {
  std::string subject;
  std::optional<int64_t> tokens_per_day;  // prompt + completion
  std::optional<double> joules_per_day;
};

// A subject's quota and what it used today (UTC), at the store's clock.
struct QuotaState {
  std::optional<Quota> quota;
  UsageDay today;
  int64_t now_ms = 0;        // when it was read
  int64_t resets_at_ms = 0;  // the next UTC midnight
  bool Exceeded() const {
    if (!quota) return false;
    const int64_t tokens = today.prompt_tokens + today.completion_tokens;
    return (quota->tokens_per_day && tokens >= *quota->tokens_per_day) ||
           (quota->joules_per_day && today.energy_joules >= *quota->joules_per_day);
  }
};

// Who did what to which object, and when. Never message content.
struct AuditEvent {
  std::string actor;   // a user id, or "operator" for the CLI
  std::string action;  // e.g. "user.create", "apikey.revoke"
  std::string target;  // an id or name
};

struct AuditEntry {
  int64_t id = 0;  // increasing; audit order is not secret
  int64_t at_ms = 0;
  AuditEvent event;
};

inline constexpr std::string_view kOperatorActor = "operator";

class Store {
 public:
  virtual ~Store() = default;

  // --- Accounts (operator level, see above) ---
  virtual Result<User> CreateUser(const NewUser& user, std::string_view actor) = 0;
  // Creates an admin only while no admin exists (atomically), for first setup;
  // std::nullopt when there is one already.
  virtual Result<std::optional<User>> CreateFirstAdmin(const NewUser& user) = 0;
  virtual Result<std::optional<User>> GetUser(std::string_view user_id) = 0;
  virtual Result<std::optional<User>> FindUserByName(std::string_view username) = 0;
  virtual Result<std::vector<User>> ListUsers() = 0;
  // The user when the password matches and the account is enabled; std::nullopt
  // otherwise (unknown name, wrong password and disabled alike).
  virtual Result<std::optional<User>> CheckPassword(std::string_view username,
                                                    std::string_view password) = 0;
  // Both end every session of the user. False when there is no such user.
  virtual Result<bool> SetPassword(std::string_view user_id, std::string_view password,
                                   std::string_view actor) = 0;
  virtual Result<bool> SetUserDisabled(std::string_view user_id, bool disabled,
                                       std::string_view actor) = 0;

  // --- Sessions ---
  virtual Result<NewSession> CreateSession(std::string_view user_id, int64_t ttl_ms) = 0;
  // The live session of `token`: std::nullopt when unknown, expired or the
  // user is disabled.
  virtual Result<std::optional<Session>> FindSession(std::string_view token) = 0;
  virtual Result<bool> DeleteSession(std::string_view token) = 0;
  virtual Result<int64_t> DeleteExpiredSessions() = 0;

  // --- Personal API keys ---
  virtual Result<NewApiKey> CreateApiKey(std::string_view user_id, std::string_view label) = 0;
  virtual Result<std::vector<ApiKey>> ListApiKeys(std::string_view user_id) = 0;
  virtual Result<bool> RevokeApiKey(std::string_view user_id, std::string_view key_id) = 0;
  // The owner of a live key (not revoked, user enabled), recording its use.
  // `key_id`, when given, receives the key's id.
  virtual Result<std::optional<User>> FindUserByApiKey(std::string_view secret,
                                                       std::string* key_id = nullptr) = 0;

  // --- Assistants ---
  virtual Result<Assistant> CreateAssistant(std::string_view user_id,
                                            const AssistantFields& fields) = 0;
  virtual Result<std::optional<Assistant>> GetAssistant(std::string_view user_id,
                                                        std::string_view assistant_id) = 0;
  virtual Result<std::vector<Assistant>> ListAssistants(std::string_view user_id) = 0;
  virtual Result<bool> UpdateAssistant(std::string_view user_id, std::string_view assistant_id,
                                       const AssistantFields& fields) = 0;
  // Conversations that used it keep their messages and lose the link.
  virtual Result<bool> DeleteAssistant(std::string_view user_id, std::string_view assistant_id) = 0;

  // --- Conversations ---
  // std::nullopt when the assistant id is not one of the user's assistants.
  virtual Result<std::optional<Conversation>> CreateConversation(
      std::string_view user_id, const NewConversation& conversation) = 0;
  virtual Result<std::optional<Conversation>> GetConversation(std::string_view user_id,
                                                              std::string_view conversation_id) = 0;
  // Most recently updated first.
  virtual Result<std::vector<Conversation>> ListConversations(std::string_view user_id,
                                                              int64_t limit) = 0;
  // Conversations whose title or messages contain `query` (case-insensitive
  // for ASCII), most recently updated first.
  virtual Result<std::vector<Conversation>> SearchConversations(std::string_view user_id,
                                                                std::string_view query,
                                                                int64_t limit) = 0;
  virtual Result<bool> RenameConversation(std::string_view user_id,
                                          std::string_view conversation_id,
                                          std::string_view title) = 0;
  // Links the conversation to one of the user's assistants, or unlinks it
  // (std::nullopt). False when the conversation or the assistant is not the user's.
  virtual Result<bool> SetConversationAssistant(std::string_view user_id,
                                                std::string_view conversation_id,
                                                const std::optional<std::string>& assistant_id) = 0;
  // Deletes its messages too.
  virtual Result<bool> DeleteConversation(std::string_view user_id,
                                          std::string_view conversation_id) = 0;

  // --- Messages ---
  // Committed durably before it returns: a user message stored here survives
  // a crash that happens while its answer is generated.
  virtual Result<std::optional<Message>> AppendMessage(std::string_view user_id,
                                                       std::string_view conversation_id,
                                                       const NewMessage& message) = 0;
  // Adds text to a kStreaming message. False when there is no such message of
  // the user's or it is no longer streaming. Each call is a durable commit (an
  // fsync), so callers send pieces of several tokens, not one call per token.
  virtual Result<bool> AppendMessageContent(std::string_view user_id, std::string_view message_id,
                                            std::string_view text) = 0;
  // Ends a kStreaming message as kComplete or kIncomplete with its measurements.
  virtual Result<bool> FinishMessage(std::string_view user_id, std::string_view message_id,
                                     MessageStatus status, const MessageStats& stats) = 0;
  // Replaces a finished message's text (editing a question). False when there
  // is no such message of the user's or it is still streaming.
  virtual Result<bool> SetMessageContent(std::string_view user_id, std::string_view message_id,
                                         std::string_view content) = 0;
  // Deletes the conversation's messages after position `after_seq` (to answer
  // again or to continue from an edited question); how many went.
  // std::nullopt when the conversation is not the user's.
  virtual Result<std::optional<int64_t>> DeleteMessagesAfter(std::string_view user_id,
                                                             std::string_view conversation_id,
                                                             int64_t after_seq) = 0;
  virtual Result<std::optional<Message>> GetMessage(std::string_view user_id,
                                                    std::string_view message_id) = 0;
  // In conversation order; std::nullopt when the conversation is not the user's.
  virtual Result<std::optional<std::vector<Message>>> ListMessages(
      std::string_view user_id, std::string_view conversation_id) = 0;
  // Marks every kStreaming message kIncomplete: the server calls it once at
  // start, before it generates anything, since no stream survives a restart.
  virtual Result<int64_t> MarkStreamingIncomplete() = 0;

  // --- Usage and audit ---
  // Adds one request's figures to the user's total of the current UTC day.
  virtual Status AddUsage(std::string_view user_id, const UsageDelta& delta) = 0;
  // Days from `first_day` to `last_day` inclusive ("YYYY-MM-DD"), oldest first.
  virtual Result<std::vector<UsageDay>> ListUsage(std::string_view user_id,
                                                  std::string_view first_day,
                                                  std::string_view last_day) = 0;
  // The same per API key: a personal key's id, or "file:" + 16 hex digits.
  virtual Status AddKeyUsage(std::string_view key, const UsageDelta& delta) = 0;
  virtual Result<std::vector<UsageDay>> ListKeyUsage(std::string_view key,
                                                     std::string_view first_day,
                                                     std::string_view last_day) = 0;
  // Every user's days in the range, by day then user name.
  virtual Result<std::vector<UserUsageDay>> ListAllUsage(std::string_view first_day,
                                                         std::string_view last_day) = 0;
  // Sets (or, with neither cap, removes) a subject's quota.
  virtual Status SetQuota(const Quota& quota) = 0;
  virtual Result<std::vector<Quota>> ListQuotas() = 0;
  virtual Result<QuotaState> GetQuotaState(std::string_view subject) = 0;
  virtual Status RecordAudit(const AuditEvent& event) = 0;
  // Newest first; entries with id < before_id when before_id > 0.
  virtual Result<std::vector<AuditEntry>> ListAudit(int64_t limit, int64_t before_id) = 0;

  // Verifies the database's own consistency (SQLite: PRAGMA integrity_check).
  virtual Status CheckIntegrity() = 0;
};

}  // namespace autan::store
