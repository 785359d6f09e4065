// The web app's server side: the /api routes of docs/app-api.md (accounts,
// conversations, assistants, keys, administration, streamed chat) and the
// embedded app's files. Store calls block on disk (each commit is an fsync),
// so every /api request runs on a small worker pool, never on an I/O thread;
// a chat stream's writes run in order on its own strand of that pool.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/thread_pool.hpp>
#include <nlohmann/json.hpp>

#include "model/model.h"
#include "runtime/scheduler.h"
#include "server/api_error.h"
#include "server/app_requests.h"
#include "server/app_security.h"
#include "server/chat_prompt.h"
#include "server/exchange.h"
#include "server/metrics.h"
#include "server/quota.h"
#include "store/store.h"

namespace autan::server {

struct AppOptions {
  std::string model_id;
  std::string version;
  // A random-weight model from `autan synth` (the `make serve` demo): the app
  // says its answers are random text.
  bool demo_model = false;
  bool secure_cookies = false;  // Secure on the session cookie (behind TLS)
  int workers = 4;              // threads that run store calls
  EnergyPricing pricing;        // the carbon and cost the app shows
  EnergySource energy_source = EnergySource::kEstimate;  // what the engine's meter reads
};

class AppService {
 public:
  AppService(store::Store& store, std::shared_ptr<const Model> model, Scheduler& scheduler,
             const ChatPrompter& prompter, Metrics& metrics, AppOptions options);
  ~AppService();  // waits for the workers

  using ExchangePtr = std::shared_ptr<Exchange>;
  // A request under /api/.
  void HandleApi(const HttpRequest& request, const ExchangePtr& ex);
  // GET of any other path outside the API: the embedded app.
  void HandleStatic(const HttpRequest& request, const ExchangePtr& ex);
  // A personal key's owner and id, and whether either is over its daily quota.
  struct KeyCheck {
    bool valid = false;
    std::string user_id, key_id;
    std::optional<ApiError> over_quota;
  };
  // Looks a personal API key up on a worker, then calls `then` there.
  void CheckPersonalKey(std::string authorization, std::function<void(KeyCheck)> then);
  // The quota of a key from the keys file ("file:" + 16 hex digits of its
  // hash), read on a worker; `then` gets the 429 when it is over.
  void CheckKeyQuota(std::string key, std::function<void(std::optional<ApiError>)> then);
  // Adds a /v1 request's usage to its user (none: "") and key, on a worker.
  void RecordApiUsage(std::string user_id, std::string key, store::UsageDelta delta);

  // One /api request as a handler sees it.
  struct Call {
    HttpRequest req;
    std::vector<std::string> params;        // the path's '*' segments
    std::optional<store::Session> session;  // signed in (every non-public route)
    ExchangePtr ex;
    const std::string& user_id() const { return session->user.id; }
  };
  enum class Access { kPublic, kUser, kAdmin };
  using Handler = void (AppService::*)(Call&);

  using ChatParams = server::ChatParams;

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;  // "*" matches one segment
    Access access;
    Handler handler;
  };
  void AddRoutes();
  void Dispatch(Call& call, const Route& route);

  // Answers, with the errors every route shares.
  void Reply(Call& c, const nlohmann::ordered_json& body, int status = 200);
  void NoContent(Call& c, std::vector<std::pair<std::string, std::string>> headers = {});
  void Error(Call& c, const ApiError& e);
  void StoreFailed(Call& c, const autan::Error& e);
  // A refused write: 400 naming `param` when the input was wrong, else (a
  // full disk, a read-only database) StoreFailed.
  void Rejected(Call& c, const autan::Error& e, const std::string& param);
  // The request's JSON object, or a 400 sent (false).
  bool Body(Call& c, nlohmann::ordered_json& body);
  bool SecureCookie(const Call& c) const;
  void Audit(std::string_view actor, std::string_view action, std::string_view target);

  // app_auth.cpp
  void GetSetup(Call& c);
  void PostSetup(Call& c);
  void Login(Call& c);
  void Logout(Call& c);
  void Me(Call& c);
  void ChangePassword(Call& c);
  void Info(Call& c);
  void SignIn(Call& c, const store::User& user, int status);
  void ListKeys(Call& c);
  void CreateKey(Call& c);
  void RevokeKey(Call& c);
  void AdminListUsers(Call& c);
  void AdminCreateUser(Call& c);
  void AdminUpdateUser(Call& c);
  void AdminAudit(Call& c);

  // app_usage.cpp
  void AdminUsage(Call& c);
  void AdminListQuotas(Call& c);
  void AdminSetQuota(Call& c);
  void MyUsage(Call& c);
  // Sends the 429 and returns true when the signed-in user is over quota.
  bool OverQuota(Call& c);

  // app_conversations.cpp
  void ListConversations(Call& c);
  void CreateConversation(Call& c);
  bool LoadConversation(Call& c, nlohmann::ordered_json& conversation,
                        nlohmann::ordered_json& messages);
  void GetConversation(Call& c);
  void UpdateConversation(Call& c);
  void DeleteConversation(Call& c);
  void ExportConversation(Call& c);
  void ImportConversation(Call& c);
  void ListAssistants(Call& c);
  void CreateAssistant(Call& c);
  void UpdateAssistant(Call& c);
  void DeleteAssistant(Call& c);

  // app_chat.cpp
  void PostMessage(Call& c);
  void Regenerate(Call& c);
  void EditMessage(Call& c);
  // Answers the conversation as it now stands, streaming; `question` (the
  // new or edited user message) opens the stream when set.
  void Answer(Call& c, const store::Conversation& conversation,
              std::optional<store::Message> question, const nlohmann::ordered_json& body);

  store::Store& store_;
  std::shared_ptr<const Model> model_;
  Scheduler& scheduler_;
  const ChatPrompter& prompter_;
  Metrics& metrics_;
  const AppOptions options_;
  LoginThrottle throttle_;
  std::vector<Route> routes_;
  boost::asio::thread_pool pool_;
};

}  // namespace autan::server
