#include "server/app_service.h"

#include <boost/asio/post.hpp>

#include "server/json_util.h"
#include "server/static_files.h"

namespace autan::server {
namespace {

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::vector<std::string> Split(std::string_view path) {
  std::vector<std::string> out;
  while (!path.empty()) {
    const size_t slash = path.find('/');
    out.emplace_back(path.substr(0, slash));
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
  }
  return out;
}

ApiError Forbidden(std::string message) {
  return ApiError{403, std::move(message), "permission_error", "", "forbidden"};
}

}  // namespace

AppService::AppService(store::Store& store, std::shared_ptr<const Model> model,
                       Scheduler& scheduler, const ChatPrompter& prompter, Metrics& metrics,
                       AppOptions options)
    : store_(store),
      model_(std::move(model)),
      scheduler_(scheduler),
      prompter_(prompter),
      metrics_(metrics),
      options_(std::move(options)),
      throttle_({}, SteadyMs),
      pool_(static_cast<size_t>(std::max(1, options_.workers))) {
  AddRoutes();
}

AppService::~AppService() { pool_.join(); }

void AppService::AddRoutes() {
  using A = Access;
  const auto add = [this](const char* method, const char* pattern, Access access, Handler h) {
    routes_.push_back({method, Split(pattern), access, h});
  };
  add("GET", "setup", A::kPublic, &AppService::GetSetup);
  add("POST", "setup", A::kPublic, &AppService::PostSetup);
  add("POST", "login", A::kPublic, &AppService::Login);
  add("GET", "info", A::kPublic, &AppService::Info);
  add("POST", "logout", A::kUser, &AppService::Logout);
  add("GET", "me", A::kUser, &AppService::Me);
  add("PATCH", "me/password", A::kUser, &AppService::ChangePassword);
  add("GET", "conversations", A::kUser, &AppService::ListConversations);
  add("POST", "conversations", A::kUser, &AppService::CreateConversation);
  add("GET", "conversations/*", A::kUser, &AppService::GetConversation);
  add("PATCH", "conversations/*", A::kUser, &AppService::UpdateConversation);
  add("DELETE", "conversations/*", A::kUser, &AppService::DeleteConversation);
  add("GET", "conversations/*/export", A::kUser, &AppService::ExportConversation);
  add("POST", "import", A::kUser, &AppService::ImportConversation);
  add("POST", "conversations/*/messages", A::kUser, &AppService::PostMessage);
  add("POST", "conversations/*/regenerate", A::kUser, &AppService::Regenerate);
  add("POST", "conversations/*/messages/*/edit", A::kUser, &AppService::EditMessage);
  add("GET", "assistants", A::kUser, &AppService::ListAssistants);
  add("POST", "assistants", A::kUser, &AppService::CreateAssistant);
  add("PATCH", "assistants/*", A::kUser, &AppService::UpdateAssistant);
  add("DELETE", "assistants/*", A::kUser, &AppService::DeleteAssistant);
  add("GET", "keys", A::kUser, &AppService::ListKeys);
  add("POST", "keys", A::kUser, &AppService::CreateKey);
  add("DELETE", "keys/*", A::kUser, &AppService::RevokeKey);
  add("GET", "admin/users", A::kAdmin, &AppService::AdminListUsers);
  add("POST", "admin/users", A::kAdmin, &AppService::AdminCreateUser);
  add("PATCH", "admin/users/*", A::kAdmin, &AppService::AdminUpdateUser);
  add("GET", "admin/audit", A::kAdmin, &AppService::AdminAudit);
}

void AppService::HandleApi(const HttpRequest& request, const ExchangePtr& ex) {
  const std::vector<std::string> segments = Split(std::string_view(request.path).substr(5));
  const Route* found = nullptr;
  std::vector<std::string> params;
  std::string allowed;
  for (const Route& r : routes_) {
    if (r.segments.size() != segments.size()) continue;
    std::vector<std::string> p;
    bool match = true;
    for (size_t i = 0; match && i < segments.size(); ++i) {
      if (r.segments[i] == "*") {
        match = !segments[i].empty();
        p.push_back(segments[i]);
      } else {
        match = r.segments[i] == segments[i];
      }
    }
    if (!match) continue;
    if (r.method == request.method) {
      found = &r;
      params = std::move(p);
      break;
    }
    allowed += (allowed.empty() ? "" : ", ") + r.method;
  }
  std::string pattern = "/api";
  if (found != nullptr) {
    for (const std::string& s : found->segments) pattern += "/" + (s == "*" ? "{id}" : s);
  }
  ex->SetRoute(found != nullptr ? pattern : "unmatched");
  if (found == nullptr) {
    return ex->Respond(ErrorResponse(
        allowed.empty() ? NotFound("no route " + request.method + " " + request.path, "unknown_url")
                        : MethodNotAllowed(allowed)));
  }
  // Refused before any work: a page of another site must not act for the user.
  if (!OriginAllowed(request.Header("origin"), request.Header("host"))) {
    return ex->Respond(ErrorResponse(Forbidden("cross-origin requests are refused")));
  }
  auto call = std::make_shared<Call>(Call{request, std::move(params), std::nullopt, ex});
  boost::asio::post(pool_, [this, call, found] {
    try {
      Dispatch(*call, *found);
    } catch (const std::exception& e) {  // a bug, or out of memory: the client still gets JSON
      Error(*call, Internal(std::string("internal error: ") + e.what()));
    }
  });
}

void AppService::Dispatch(Call& c, const Route& route) {
  if (route.access != Access::kPublic) {
    const std::optional<std::string> token = CookieValue(c.req.Header("cookie"), kSessionCookie);
    if (token) {
      Result<std::optional<store::Session>> s = store_.FindSession(*token);
      if (!s.ok()) return StoreFailed(c, s.error());
      c.session = std::move(*s);
    }
    if (!c.session) {
      ApiError e = Unauthorized("not signed in");
      e.code = "not_signed_in";
      return Error(c, e);
    }
    if (c.req.method != "GET" &&
        !CsrfMatches(c.req.Header("x-csrf-token"), c.session->csrf_token)) {
      return Error(c, Forbidden("missing or wrong X-CSRF-Token header"));
    }
    if (route.access == Access::kAdmin && c.session->user.role != store::Role::kAdmin) {
      return Error(c, Forbidden("this needs an administrator"));
    }
  }
  (this->*route.handler)(c);
}

void AppService::HandleStatic(const HttpRequest& request, const ExchangePtr& ex) {
  ex->SetRoute("app");
  ex->Respond(StaticResponse(WebAppFiles(), request));
}

void AppService::CheckPersonalKey(std::string authorization, std::function<void(bool)> then) {
  boost::asio::post(pool_,
                    [this, authorization = std::move(authorization), then = std::move(then)] {
                      std::string_view key = authorization;
                      if (key.size() > 7) key.remove_prefix(7);  // "Bearer ", checked by the caller
                      while (!key.empty() && key.front() == ' ') key.remove_prefix(1);
                      // The store keeps only each key's SHA-256 and looks the hash up, so
                      // neither timing nor the database reveals a key.
                      Result<std::optional<store::User>> user = store_.FindUserByApiKey(key);
                      then(user.ok() && user->has_value());
                    });
}

void AppService::Reply(Call& c, const nlohmann::ordered_json& body, int status) {
  HttpResponse r;
  r.status = status;
  r.body = DumpJson(body);
  r.headers.emplace_back("Cache-Control", "no-store");
  c.ex->Respond(std::move(r));
}

void AppService::NoContent(Call& c, std::vector<std::pair<std::string, std::string>> headers) {
  HttpResponse r;
  r.status = 204;
  r.headers = std::move(headers);
  c.ex->Respond(std::move(r));
}

void AppService::Error(Call& c, const ApiError& e) { c.ex->Respond(ErrorResponse(e)); }

void AppService::StoreFailed(Call& c, const autan::Error& e) {
  // Invalid input is the client's; anything else (I/O, corruption) is ours.
  std::fprintf(stderr, "autan: store: %s\n", e.message.c_str());
  Error(c, Internal("storage error: " + e.message));
}

void AppService::Rejected(Call& c, const autan::Error& e, const std::string& param) {
  if (e.system) return StoreFailed(c, e);
  Error(c, BadRequest(e.message, param));
}

bool AppService::Body(Call& c, nlohmann::ordered_json& body) {
  body = nlohmann::ordered_json::parse(c.req.body.empty() ? std::string("{}") : c.req.body, nullptr,
                                       false);
  if (body.is_discarded() || !body.is_object()) {
    Error(c, BadRequest("the body must be a JSON object"));
    return false;
  }
  return true;
}

bool AppService::SecureCookie(const Call& c) const {
  return options_.secure_cookies || c.req.Header("x-forwarded-proto") == "https";
}

void AppService::Audit(std::string_view actor, std::string_view action, std::string_view target) {
  Status s = store_.RecordAudit({std::string(actor), std::string(action), std::string(target)});
  if (!s.ok()) std::fprintf(stderr, "autan: audit: %s\n", s.error().message.c_str());
}

}  // namespace autan::server
