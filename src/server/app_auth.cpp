// /api routes about accounts: first-run setup, sign-in and out, the user's
// password and personal API keys, and the administrators' routes.
#include "server/app_json.h"
#include "server/app_service.h"
#include "server/json_util.h"
#include "server/schema_fields.h"
#include "server/url.h"
#include "store/validate.h"

namespace autan::server {
namespace {

using Json = nlohmann::ordered_json;

ApiError Conflict(std::string message) {
  return ApiError{409, std::move(message), "invalid_request_error", "", "conflict"};
}

// A required string field; the error names it.
bool RequiredString(FieldReader& f, const char* name, std::string& out) {
  if (!f.Find(name)) {
    f.Fail("'" + std::string(name) + "' is required", name);
    return false;
  }
  f.String(name, out);
  return !f.error;
}

}  // namespace

void AppService::Info(Call& c) {
  const EnergyPricing& p = options_.pricing;
  Reply(c, {{"model", options_.model_id},
            {"version", options_.version},
            {"demo", options_.demo_model},
            {"energy", true},
            {"energy_source", EnergySourceName(options_.energy_source)},
            {"grid_gco2_per_kwh", p.grid_gco2_per_kwh},
            {"pue", p.pue},
            {"kwh_price", p.kwh_price},
            {"currency", p.currency}});
}

void AppService::GetSetup(Call& c) {
  Result<std::vector<store::User>> users = store_.ListUsers();
  if (!users.ok()) return StoreFailed(c, users.error());
  bool admin = false;
  for (const store::User& u : *users) admin |= u.role == store::Role::kAdmin;
  Reply(c, {{"needs_admin", !admin}});
}

void AppService::SignIn(Call& c, const store::User& user, int status) {
  Result<store::NewSession> session =
      store_.CreateSession(user.id, kSessionTtlSeconds * int64_t{1000});
  if (!session.ok()) return StoreFailed(c, session.error());
  HttpResponse r;
  r.status = status;
  r.headers.emplace_back("Set-Cookie", SessionCookie(session->token, SecureCookie(c)));
  r.headers.emplace_back("Cache-Control", "no-store");
  r.body = DumpJson({{"user", UserJson(user)}, {"csrf", session->csrf_token}});
  c.ex->Respond(std::move(r));
}

void AppService::PostSetup(Call& c) {
  nlohmann::ordered_json body;
  if (!Body(c, body)) return;
  FieldReader f(body);
  std::string username, password;
  RequiredString(f, "username", username) && RequiredString(f, "password", password);
  if (f.error) return Error(c, *f.error);
  if (Status s = store::ValidateUsername(username); !s.ok()) {
    return Rejected(c, s.error(), "username");
  }
  if (Status s = store::ValidatePassword(password); !s.ok()) {
    return Rejected(c, s.error(), "password");
  }
  Result<std::optional<store::User>> admin =
      store_.CreateFirstAdmin({username, password, store::Role::kAdmin});
  if (!admin.ok()) return Rejected(c, admin.error(), "username");
  if (!admin->has_value()) return Error(c, Conflict("the first administrator exists already"));
  SignIn(c, **admin, 200);
}

void AppService::Login(Call& c) {
  nlohmann::ordered_json body;
  if (!Body(c, body)) return;
  FieldReader f(body);
  std::string username, password;
  RequiredString(f, "username", username) && RequiredString(f, "password", password);
  if (f.error) return Error(c, *f.error);
  // Per name and address: one attacker cannot lock a user out from elsewhere.
  const std::string key = username + "\n" + c.req.remote;
  if (const int64_t wait = throttle_.RetryAfterSeconds(key); wait > 0) {
    ApiError e = TooManyRequests("too many failed sign-ins; try again later");
    e.retry_after_seconds = static_cast<int>(wait);
    return Error(c, e);
  }
  Result<std::optional<store::User>> user = store_.CheckPassword(username, password);
  if (!user.ok() || !user->has_value()) {
    throttle_.RecordFailure(key);
    Audit("anonymous", "session.login_failed",
          username.substr(0, 64) + " from " + c.req.remote.substr(0, 64));
    ApiError e = Unauthorized("wrong username or password");
    e.code = "invalid_credentials";
    return Error(c, e);
  }
  throttle_.RecordSuccess(key);
  SignIn(c, **user, 200);  // the store audits session.create
}

void AppService::Logout(Call& c) {
  if (std::optional<std::string> token = CookieValue(c.req.Header("cookie"), kSessionCookie)) {
    Result<bool> deleted = store_.DeleteSession(*token);
    if (!deleted.ok()) return StoreFailed(c, deleted.error());
  }
  Audit(c.user_id(), "session.logout", c.user_id());
  NoContent(c, {{"Set-Cookie", ClearedSessionCookie(SecureCookie(c))}});
}

void AppService::Me(Call& c) {
  Reply(c, {{"user", UserJson(c.session->user)}, {"csrf", c.session->csrf_token}});
}

void AppService::ChangePassword(Call& c) {
  nlohmann::ordered_json body;
  if (!Body(c, body)) return;
  FieldReader f(body);
  std::string current, next;
  RequiredString(f, "current_password", current) && RequiredString(f, "new_password", next);
  if (f.error) return Error(c, *f.error);
  if (Status s = store::ValidatePassword(next); !s.ok()) {
    return Rejected(c, s.error(), "new_password");
  }
  Result<std::optional<store::User>> ok = store_.CheckPassword(c.session->user.username, current);
  if (!ok.ok()) return StoreFailed(c, ok.error());
  if (!ok->has_value()) {
    return Error(c, BadRequest("the current password is wrong", "current_password"));
  }
  // Ends every session, this one too: the app signs in again.
  Result<bool> set = store_.SetPassword(c.user_id(), next, c.user_id());
  if (!set.ok()) return Rejected(c, set.error(), "new_password");
  NoContent(c);
}

void AppService::ListKeys(Call& c) {
  Result<std::vector<store::ApiKey>> keys = store_.ListApiKeys(c.user_id());
  if (!keys.ok()) return StoreFailed(c, keys.error());
  nlohmann::ordered_json data = nlohmann::ordered_json::array();
  for (const store::ApiKey& k : *keys) data.push_back(ApiKeyJson(k));
  Reply(c, {{"data", data}});
}

void AppService::CreateKey(Call& c) {
  nlohmann::ordered_json body;
  if (!Body(c, body)) return;
  FieldReader f(body);
  std::string label;
  if (!RequiredString(f, "label", label)) return Error(c, *f.error);
  Result<store::NewApiKey> key = store_.CreateApiKey(c.user_id(), label);
  if (!key.ok()) return Rejected(c, key.error(), "label");
  Reply(c, {{"key", ApiKeyJson(key->key)}, {"secret", key->secret}}, 201);
}

void AppService::RevokeKey(Call& c) {
  Result<bool> revoked = store_.RevokeApiKey(c.user_id(), c.params[0]);
  if (!revoked.ok()) return StoreFailed(c, revoked.error());
  if (!*revoked) return Error(c, NotFound("no such key", "not_found"));
  NoContent(c);
}

void AppService::AdminListUsers(Call& c) {
  Result<std::vector<store::User>> users = store_.ListUsers();
  if (!users.ok()) return StoreFailed(c, users.error());
  nlohmann::ordered_json data = nlohmann::ordered_json::array();
  for (const store::User& u : *users) data.push_back(UserJson(u, true));
  Reply(c, {{"data", data}});
}

void AppService::AdminCreateUser(Call& c) {
  nlohmann::ordered_json body;
  if (!Body(c, body)) return;
  FieldReader f(body);
  std::string username, password, role_name = "user";
  RequiredString(f, "username", username) && RequiredString(f, "password", password);
  f.String("role", role_name);
  if (f.error) return Error(c, *f.error);
  const std::optional<store::Role> role = store::ParseRole(role_name);
  if (!role) return Error(c, BadRequest("'role' must be \"user\" or \"admin\"", "role"));
  if (Status s = store::ValidateUsername(username); !s.ok()) {
    return Rejected(c, s.error(), "username");
  }
  if (Status s = store::ValidatePassword(password); !s.ok()) {
    return Rejected(c, s.error(), "password");
  }
  Result<store::User> user = store_.CreateUser({username, password, *role}, c.user_id());
  if (!user.ok()) {
    if (user.error().message.find("exists") != std::string::npos ||
        user.error().message.find("taken") != std::string::npos) {
      return Error(c, Conflict(user.error().message));
    }
    return Rejected(c, user.error(), "username");
  }
  Reply(c, UserJson(*user), 201);
}

void AppService::AdminUpdateUser(Call& c) {
  nlohmann::ordered_json body;
  if (!Body(c, body)) return;
  FieldReader f(body);
  std::optional<bool> disabled;
  std::optional<std::string> password;
  if (f.Find("disabled")) {
    bool d = false;
    f.Bool("disabled", d);
    disabled = d;
  }
  if (f.Find("password")) {
    std::string p;
    f.String("password", p);
    password = p;
  }
  if (f.error) return Error(c, *f.error);
  if (password) {
    if (Status s = store::ValidatePassword(*password); !s.ok()) {
      return Rejected(c, s.error(), "password");
    }
  }
  if (disabled && *disabled && c.params[0] == c.user_id()) {
    return Error(c, BadRequest("administrators cannot disable themselves", "disabled"));
  }
  Result<std::optional<store::User>> user = store_.GetUser(c.params[0]);
  if (!user.ok()) return StoreFailed(c, user.error());
  if (!user->has_value()) return Error(c, NotFound("no such user", "not_found"));
  // The store audits both changes with the administrator as the actor.
  if (password) {
    Result<bool> set = store_.SetPassword(c.params[0], *password, c.user_id());
    if (!set.ok()) return Rejected(c, set.error(), "password");
  }
  if (disabled) {
    Result<bool> set = store_.SetUserDisabled(c.params[0], *disabled, c.user_id());
    if (!set.ok()) return StoreFailed(c, set.error());
  }
  NoContent(c);
}

void AppService::AdminAudit(Call& c) {
  int64_t before = 0, limit = 100;
  for (const std::string name : {"before", "limit"}) {
    const std::optional<std::string> query_value = QueryValue(c.req.query, name);
    if (!query_value) continue;
    const std::string& value = *query_value;
    char* end = nullptr;
    const long long v = std::strtoll(value.c_str(), &end, 10);
    const bool ok =
        !value.empty() && *end == '\0' && (name == "before" ? v >= 0 : (v >= 1 && v <= 1000));
    if (!ok) {
      return Error(c, BadRequest("'" + name + "' must be " +
                                     (name == "before" ? "an audit id" : "between 1 and 1000"),
                                 name));
    }
    (name == "before" ? before : limit) = v;
  }
  Result<std::vector<store::AuditEntry>> entries = store_.ListAudit(limit, before);
  if (!entries.ok()) return StoreFailed(c, entries.error());
  nlohmann::ordered_json data = nlohmann::ordered_json::array();
  for (const store::AuditEntry& e : *entries) {
    data.push_back({{"id", e.id},
                    {"at", e.at_ms},
                    {"actor", e.event.actor},
                    {"action", e.event.action},
                    {"target", e.event.target}});
  }
  Reply(c, {{"data", data}});
}

}  // namespace autan::server
