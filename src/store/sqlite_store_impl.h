// SqliteStore's declaration, shared by its two source files: accounts
// (sqlite_store.cpp) and chats (sqlite_store_chats.cpp).
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "store/password.h"
#include "store/sqlite_db.h"
#include "store/sqlite_store.h"
#include "store/store.h"

namespace autan::store::sqlite {

class SqliteStore final : public Store {
 public:
  SqliteStore(std::unique_ptr<Db> db, const SqliteStoreOptions& options);

  Result<User> CreateUser(const NewUser& user, std::string_view actor) override;
  Result<std::optional<User>> CreateFirstAdmin(const NewUser& user) override;
  Result<std::optional<User>> GetUser(std::string_view user_id) override;
  Result<std::optional<User>> FindUserByName(std::string_view username) override;
  Result<std::vector<User>> ListUsers() override;
  Result<std::optional<User>> CheckPassword(std::string_view username,
                                            std::string_view password) override;
  Result<bool> SetPassword(std::string_view user_id, std::string_view password,
                           std::string_view actor) override;
  Result<bool> SetUserDisabled(std::string_view user_id, bool disabled,
                               std::string_view actor) override;

  Result<NewSession> CreateSession(std::string_view user_id, int64_t ttl_ms) override;
  Result<std::optional<Session>> FindSession(std::string_view token) override;
  Result<bool> DeleteSession(std::string_view token) override;
  Result<int64_t> DeleteExpiredSessions() override;

  Result<NewApiKey> CreateApiKey(std::string_view user_id, std::string_view label) override;
  Result<std::vector<ApiKey>> ListApiKeys(std::string_view user_id) override;
  Result<bool> RevokeApiKey(std::string_view user_id, std::string_view key_id) override;
  Result<std::optional<User>> FindUserByApiKey(std::string_view secret,
                                               std::string* key_id = nullptr) override;

  Result<Assistant> CreateAssistant(std::string_view user_id,
                                    const AssistantFields& fields) override;
  Result<std::optional<Assistant>> GetAssistant(std::string_view user_id,
                                                std::string_view assistant_id) override;
  Result<std::vector<Assistant>> ListAssistants(std::string_view user_id) override;
  Result<bool> UpdateAssistant(std::string_view user_id, std::string_view assistant_id,
                               const AssistantFields& fields) override;
  Result<bool> DeleteAssistant(std::string_view user_id, std::string_view assistant_id) override;

  Result<std::optional<Conversation>> CreateConversation(
      std::string_view user_id, const NewConversation& conversation) override;
  Result<std::optional<Conversation>> GetConversation(std::string_view user_id,
                                                      std::string_view conversation_id) override;
  Result<std::vector<Conversation>> ListConversations(std::string_view user_id,
                                                      int64_t limit) override;
  Result<std::vector<Conversation>> SearchConversations(std::string_view user_id,
                                                        std::string_view query,
                                                        int64_t limit) override;
  Result<bool> RenameConversation(std::string_view user_id, std::string_view conversation_id,
                                  std::string_view title) override;
  Result<bool> SetConversationAssistant(std::string_view user_id, std::string_view conversation_id,
                                        const std::optional<std::string>& assistant_id) override;
  Result<bool> DeleteConversation(std::string_view user_id,
                                  std::string_view conversation_id) override;

  Result<std::optional<Message>> AppendMessage(std::string_view user_id,
                                               std::string_view conversation_id,
                                               const NewMessage& message) override;
  Result<bool> AppendMessageContent(std::string_view user_id, std::string_view message_id,
                                    std::string_view text) override;
  Result<bool> FinishMessage(std::string_view user_id, std::string_view message_id,
                             MessageStatus status, const MessageStats& stats) override;
  Result<bool> SetMessageContent(std::string_view user_id, std::string_view message_id,
                                 std::string_view content) override;
  Result<std::optional<int64_t>> DeleteMessagesAfter(std::string_view user_id,
                                                     std::string_view conversation_id,
                                                     int64_t after_seq) override;
  Result<std::optional<Message>> GetMessage(std::string_view user_id,
                                            std::string_view message_id) override;
  Result<std::optional<std::vector<Message>>> ListMessages(
      std::string_view user_id, std::string_view conversation_id) override;
  Result<int64_t> MarkStreamingIncomplete() override;

  Status AddUsage(std::string_view user_id, const UsageDelta& delta) override;
  Result<std::vector<UsageDay>> ListUsage(std::string_view user_id, std::string_view first_day,
                                          std::string_view last_day) override;
  Status AddKeyUsage(std::string_view key, const UsageDelta& delta) override;
  Result<std::vector<UsageDay>> ListKeyUsage(std::string_view key, std::string_view first_day,
                                             std::string_view last_day) override;
  Result<std::vector<UserUsageDay>> ListAllUsage(std::string_view first_day,
                                                 std::string_view last_day) override;
  Status SetQuota(const Quota& quota) override;
  Result<std::vector<Quota>> ListQuotas() override;
  Result<QuotaState> GetQuotaState(std::string_view subject) override;
  Status RecordAudit(const AuditEvent& event) override;
  Result<std::vector<AuditEntry>> ListAudit(int64_t limit, int64_t before_id) override;

  Status CheckIntegrity() override;

 private:
  int64_t Now() const { return now_ms_(); }
  // Callers hold mu_ (and usually a transaction the entry joins).
  Status AuditLocked(std::string_view actor, std::string_view action, std::string_view target);
  Result<std::optional<User>> UserWhere(const char* sql, std::string_view key);
  Result<User> InsertUser(const NewUser& user, const std::string& password_hash,
                          std::string_view actor);

  // One connection: its cached statements cannot be used by two threads at
  // once. Password hashing happens outside the lock.
  std::mutex mu_;
  std::unique_ptr<Db> db_;
  PasswordParams password_params_;
  std::function<int64_t()> now_ms_;
  // A hash to verify against when the user name is unknown, so that a wrong
  // name takes as long as a wrong password (made on first need).
  std::once_flag dummy_hash_once_;
  std::string dummy_hash_;
};

// Shared by both source files.
User ReadUser(const Query& q, int first_column);  // id, username, role, created_at, disabled
// The usage day ("YYYY-MM-DD", UTC) of a time in milliseconds.
std::string UtcDay(int64_t ms);
bool IsUtcDay(std::string_view day);  // "YYYY-MM-DD"

}  // namespace autan::store::sqlite
