// SqliteStore: usage per API key, every user's usage for the administrator,
// and daily quotas.
#include <chrono>

#include "store/secret.h"
#include "store/sqlite_store_impl.h"

namespace autan::store::sqlite {
namespace {

constexpr size_t kMaxKeyLength = 128;
constexpr int64_t kDayMs = 24 * 3600 * 1000;

// Key names are ids or "file:" + hex digits: printable ASCII, bounded.
Status CheckKey(std::string_view key) {
  if (key.empty() || key.size() > kMaxKeyLength) {
    return Fail("an API key name must be 1 to %zu characters", kMaxKeyLength);
  }
  for (char c : key) {
    if (c <= ' ' || c > '~') return Fail("an API key name must be printable ASCII");
  }
  return {};
}

// "user:ID" or "key:KEY".
Status CheckSubject(std::string_view subject) {
  if (subject.substr(0, 5) == "user:" && IsId(subject.substr(5))) return {};
  if (subject.substr(0, 4) == "key:" && CheckKey(subject.substr(4)).ok()) return {};
  return Fail("a quota applies to 'user:ID' or 'key:KEY', not '%.*s'",
              static_cast<int>(std::min<size_t>(subject.size(), 64)), subject.data());
}

Status CheckDelta(const UsageDelta& d) {
  if (d.prompt_tokens < 0 || d.completion_tokens < 0 || !(d.energy_joules >= 0)) {
    return Fail("usage figures must be non-negative");
  }
  return {};
}

Status CheckRange(std::string_view first_day, std::string_view last_day) {
  if (!IsUtcDay(first_day) || !IsUtcDay(last_day)) {
    return Fail("usage days must be written YYYY-MM-DD, not '%.*s' and '%.*s'",
                static_cast<int>(std::min<size_t>(first_day.size(), 32)), first_day.data(),
                static_cast<int>(std::min<size_t>(last_day.size(), 32)), last_day.data());
  }
  return {};
}

UsageDay ReadDay(const Query& q, int first) {
  return UsageDay{q.Text(first), q.Int(first + 1), q.Int(first + 2), q.Int(first + 3),
                  q.Real(first + 4)};
}

}  // namespace

bool IsUtcDay(std::string_view day) {
  if (day.size() != 10 || day[4] != '-' || day[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (day[i] < '0' || day[i] > '9') return false;
  }
  return true;
}

Status SqliteStore::AddKeyUsage(std::string_view key, const UsageDelta& delta) {
  AUTAN_TRY(CheckDelta(delta));
  AUTAN_TRY(CheckKey(key));
  std::lock_guard lock(mu_);
  Result<Query> q = db_->Prepare(
      "INSERT INTO key_usage_daily "
      "(key, day, requests, prompt_tokens, completion_tokens, energy_joules) "
      "VALUES (?, ?, 1, ?, ?, ?) ON CONFLICT (key, day) DO UPDATE SET "
      "requests = requests + 1, prompt_tokens = prompt_tokens + excluded.prompt_tokens, "
      "completion_tokens = completion_tokens + excluded.completion_tokens, "
      "energy_joules = energy_joules + excluded.energy_joules");
  AUTAN_TRY_HELD(q);
  return q->Bind(key)
      .Bind(UtcDay(Now()))
      .Bind(delta.prompt_tokens)
      .Bind(delta.completion_tokens)
      .Bind(delta.energy_joules)
      .Run();
}

Result<std::vector<UsageDay>> SqliteStore::ListKeyUsage(std::string_view key,
                                                        std::string_view first_day,
                                                        std::string_view last_day) {
  AUTAN_TRY(CheckRange(first_day, last_day));
  AUTAN_TRY(CheckKey(key));
  std::vector<UsageDay> days;
  std::lock_guard lock(mu_);
  Result<Query> q = db_->Prepare(
      "SELECT day, requests, prompt_tokens, completion_tokens, energy_joules "
      "FROM key_usage_daily WHERE key = ? AND day BETWEEN ? AND ? ORDER BY day");
  AUTAN_TRY_HELD(q);
  q->Bind(key).Bind(first_day).Bind(last_day);
  for (;;) {
    Result<bool> row = q->Step();
    AUTAN_TRY_HELD(row);
    if (!*row) return days;
    days.push_back(ReadDay(*q, 0));
  }
}

Result<std::vector<UserUsageDay>> SqliteStore::ListAllUsage(std::string_view first_day,
                                                            std::string_view last_day) {
  AUTAN_TRY(CheckRange(first_day, last_day));
  std::vector<UserUsageDay> days;
  std::lock_guard lock(mu_);
  Result<Query> q = db_->Prepare(
      "SELECT u.id, u.username, d.day, d.requests, d.prompt_tokens, d.completion_tokens, "
      "d.energy_joules FROM usage_daily d JOIN users u ON u.id = d.user_id "
      "WHERE d.day BETWEEN ? AND ? ORDER BY d.day, u.username");
  AUTAN_TRY_HELD(q);
  q->Bind(first_day).Bind(last_day);
  for (;;) {
    Result<bool> row = q->Step();
    AUTAN_TRY_HELD(row);
    if (!*row) return days;
    days.push_back(UserUsageDay{q->Text(0), q->Text(1), ReadDay(*q, 2)});
  }
}

Status SqliteStore::SetQuota(const Quota& quota) {
  AUTAN_TRY(CheckSubject(quota.subject));
  if ((quota.tokens_per_day && *quota.tokens_per_day < 0) ||
      (quota.joules_per_day && !(*quota.joules_per_day >= 0))) {
    return Fail("quotas must be non-negative");
  }
  std::lock_guard lock(mu_);
  if (!quota.tokens_per_day && !quota.joules_per_day) {
    Result<Query> q = db_->Prepare("DELETE FROM quotas WHERE subject = ?");
    AUTAN_TRY_HELD(q);
    return q->Bind(quota.subject).Run();
  }
  Result<Query> q = db_->Prepare(
      "INSERT INTO quotas (subject, tokens_per_day, joules_per_day) VALUES (?, ?, ?) "
      "ON CONFLICT (subject) DO UPDATE SET tokens_per_day = excluded.tokens_per_day, "
      "joules_per_day = excluded.joules_per_day");
  AUTAN_TRY_HELD(q);
  return q->Bind(quota.subject).Bind(quota.tokens_per_day).Bind(quota.joules_per_day).Run();
}

Result<std::vector<Quota>> SqliteStore::ListQuotas() {
  std::vector<Quota> quotas;
  std::lock_guard lock(mu_);
  Result<Query> q =
      db_->Prepare("SELECT subject, tokens_per_day, joules_per_day FROM quotas ORDER BY subject");
  AUTAN_TRY_HELD(q);
  for (;;) {
    Result<bool> row = q->Step();
    AUTAN_TRY_HELD(row);
    if (!*row) return quotas;
    quotas.push_back(Quota{q->Text(0), q->OptionalInt(1), q->OptionalReal(2)});
  }
}

Result<QuotaState> SqliteStore::GetQuotaState(std::string_view subject) {
  AUTAN_TRY(CheckSubject(subject));
  const int64_t now = Now();
  QuotaState state;
  state.today.day = UtcDay(now);
  state.now_ms = now;
  state.resets_at_ms = (now / kDayMs + 1) * kDayMs;  // Unix days start at UTC midnight
  std::lock_guard lock(mu_);
  {
    Result<Query> q = db_->Prepare(
        "SELECT subject, tokens_per_day, joules_per_day FROM quotas WHERE subject = ?");
    AUTAN_TRY_HELD(q);
    q->Bind(subject);
    Result<bool> row = q->Step();
    AUTAN_TRY_HELD(row);
    if (*row) state.quota = Quota{q->Text(0), q->OptionalInt(1), q->OptionalReal(2)};
  }
  const bool user = subject.substr(0, 5) == "user:";
  Result<Query> q =
      db_->Prepare(user ? "SELECT day, requests, prompt_tokens, completion_tokens, energy_joules "
                          "FROM usage_daily WHERE user_id = ? AND day = ?"
                        : "SELECT day, requests, prompt_tokens, completion_tokens, energy_joules "
                          "FROM key_usage_daily WHERE key = ? AND day = ?");
  AUTAN_TRY_HELD(q);
  q->Bind(subject.substr(user ? 5 : 4)).Bind(state.today.day);
  Result<bool> row = q->Step();
  AUTAN_TRY_HELD(row);
  if (*row) state.today = ReadDay(*q, 0);
  return state;
}

}  // namespace autan::store::sqlite
