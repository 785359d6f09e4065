#include "server/api_service.h"

#include <random>

#include "server/json_util.h"
#include "server/limited_exchange.h"
#include "server/schema_fields.h"
#include "server/sha256.h"

#ifndef AUTAN_VERSION
#define AUTAN_VERSION "0.0.0"
#endif

namespace autan::server {
namespace {

int64_t UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

uint64_t Mix(uint64_t x) {  // splitmix64's finalizer: ids that do not look sequential
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

}  // namespace

void SendJsonTo(const std::shared_ptr<Exchange>& ex, const Json& body, int status) {
  HttpResponse r;
  r.status = status;
  r.body = DumpJson(body);
  ex->Respond(std::move(r));
}

void SendErrorTo(const std::shared_ptr<Exchange>& ex, const ApiError& e) {
  ex->Respond(ErrorResponse(e));
}

Result<std::unique_ptr<ApiService>> ApiService::Create(std::shared_ptr<const Model> model,
                                                       Scheduler& scheduler, Embedder& embedder,
                                                       ServiceOptions options) {
  Result<ChatPrompter> prompter = ChatPrompter::Create(*model, options.chat_template);
  if (!prompter.ok()) return prompter.error();
  auto service = std::unique_ptr<ApiService>(new ApiService(
      std::move(model), scheduler, embedder, std::move(options), std::move(prompter).value()));
  service->AddRoutes();
  return service;
}

ApiService::ApiService(std::shared_ptr<const Model> model, Scheduler& scheduler, Embedder& embedder,
                       ServiceOptions options, ChatPrompter prompter)
    : model_(std::move(model)),
      scheduler_(scheduler),
      embedder_(embedder),
      options_(std::move(options)),
      prompter_(std::move(prompter)),
      formats_(*model_),
      metrics_(options_.model_id),
      started_(UnixNow()),
      id_base_(std::random_device{}() | static_cast<uint64_t>(std::random_device{}()) << 32) {}

void ApiService::AddRoutes() {
  auto simple = [this](void (ApiService::*fn)(const ExchangePtr&)) {
    return [this, fn](const HttpRequest&, const std::string&, const ExchangePtr& ex) {
      (this->*fn)(ex);
    };
  };
  auto with_body = [this](void (ApiService::*fn)(const HttpRequest&, const ExchangePtr&)) {
    return [this, fn](const HttpRequest& req, const std::string&, const ExchangePtr& ex) {
      (this->*fn)(req, ex);
    };
  };
  router_.Add("GET", "/", simple(&ApiService::Home));
  router_.Add("GET", "/health", simple(&ApiService::Health));
  router_.Add("GET", "/version", simple(&ApiService::Version));
  router_.Add("GET", "/metrics", simple(&ApiService::Prometheus));
  router_.Add("GET", "/v1/models", simple(&ApiService::Models));
  router_.Add("GET", "/v1/models/{id}",
              [this](const HttpRequest&, const std::string& id, const ExchangePtr& ex) {
                ModelById(id, ex);
              });
  router_.Add("POST", "/v1/chat/completions", with_body(&ApiService::ChatCompletions));
  router_.Add("POST", "/v1/completions", with_body(&ApiService::Completions));
  router_.Add("POST", "/v1/fim/completions", with_body(&ApiService::FimCompletions));
  router_.Add("POST", "/v1/embeddings", with_body(&ApiService::Embeddings));
  router_.Add("POST", "/tokenize", with_body(&ApiService::Tokenize));
  router_.Add("POST", "/detokenize", with_body(&ApiService::Detokenize));
}

namespace {

// Routes a client over quota may still call: monitoring and listings.
bool QuotaFree(const Router::Match& m) {
  return m.pattern == "/metrics" || m.pattern == "/health" || m.pattern == "/" ||
         m.pattern.starts_with("/v1/models");
}

// A keys-file key's name in the store: "file:" and its hash's first 16 hex digits.
std::string KeysFileKeyName(const ApiKey& key) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string name = "file:";
  for (size_t i = 0; i < 8; ++i) {
    name += kHex[key.hash[i] >> 4];
    name += kHex[key.hash[i] & 15];
  }
  return name;
}

}  // namespace

void ApiService::Handle(const HttpRequest& request, const ExchangePtr& ex) {
  const std::string_view path = request.path;
  if (app_ != nullptr && path.substr(0, 5) == "/api/") {
    if (draining_) {
      ex->SetRoute("/api");
      return SendErrorTo(ex, Unavailable("the server is shutting down"));
    }
    return app_->HandleApi(request, ex);  // signed in by session cookie, not by API key
  }
  Router::Match m = router_.Find(request.method, request.path);
  const bool v1 = path == "/v1" || path.substr(0, 4) == "/v1/";
  if (app_ != nullptr && request.method == "GET" && !v1 &&
      (m.pattern == "/" || (m.error && m.error->status == 404))) {
    return app_->HandleStatic(request, ex);
  }
  ex->SetRoute(m.pattern.empty() ? "unmatched" : m.pattern);
  const bool public_route = m.pattern == "/health" || m.pattern == "/";
  const std::string_view authorization = request.Header("authorization");
  std::optional<size_t> key;
  if (!public_route && options_.keys) {
    key = options_.keys->Find(authorization);
    if (!key) {
      if (app_ != nullptr && authorization.size() > 7 &&
          (authorization.substr(0, 7) == "Bearer " || authorization.substr(0, 7) == "bearer ")) {
        // A personal key from the web app: looked up off the I/O thread, and
        // limited under its own name.
        std::string client = "personal " + Sha256Hex(authorization.substr(7));
        return app_->CheckPersonalKey(
            std::string(authorization), [this, request, m = std::move(m), ex,
                                         client = std::move(client)](AppService::KeyCheck k) {
              if (!k.valid) return SendErrorTo(ex, Unauthorized("invalid API key"));
              if (k.over_quota && !QuotaFree(m)) return SendErrorTo(ex, *k.over_quota);
              Dispatch(request, m, ex, std::nullopt, client, {k.user_id, k.key_id});
            });
      }
      return SendErrorTo(ex, Unauthorized(authorization.empty()
                                              ? "missing API key: send 'Authorization: Bearer KEY'"
                                              : "invalid API key"));
    }
  }
  std::string client = key ? "key " + std::to_string(*key) : "address " + request.remote;
  if (key && app_ != nullptr && !QuotaFree(m)) {
    // Keys-file keys have usage and quotas too, kept in the store.
    std::string name = KeysFileKeyName(options_.keys->key(*key));
    return app_->CheckKeyQuota(
        name, [this, request, m = std::move(m), ex, key, client = std::move(client),
               name](std::optional<ApiError> over) {
          if (over) return SendErrorTo(ex, *over);
          Dispatch(request, m, ex, key, client, {"", name});
        });
  }
  Dispatch(request, m, ex, key, client);
}

void ApiService::Dispatch(const HttpRequest& request, const Router::Match& m,
                          const ExchangePtr& exchange, std::optional<size_t> key,
                          const std::string& client, const Accounting& accounting) {
  const bool public_route = m.pattern == "/health" || m.pattern == "/";
  if (m.error) return SendErrorTo(exchange, *m.error);
  if (draining_ && m.pattern != "/health" && m.pattern != "/metrics") {
    return SendErrorTo(exchange, Unavailable("the server is shutting down"));
  }
  // Every API request counts against its client's limits; monitoring does not.
  ExchangePtr ex = exchange;
  if (const RateLimits limits = LimitsFor(key);
      !public_route && m.pattern != "/metrics" && limits.any()) {
    auto limited = std::make_shared<LimitedExchange>(exchange, limiter_, client, limits);
    if (std::optional<ApiError> e = limited->Admit()) return SendErrorTo(limited, *e);
    ex = std::move(limited);
  }
  if (app_ != nullptr && !accounting.key.empty()) {
    ex = std::make_shared<AccountedExchange>(
        std::move(ex), [app = app_, accounting](const store::UsageDelta& d) {
          app->RecordApiUsage(accounting.user_id, accounting.key, d);
        });
  }
  (*m.handler)(request, m.param, ex);
}

RateLimits ApiService::LimitsFor(std::optional<size_t> key) const {
  RateLimits limits = options_.rate_limits;
  if (key) {
    const KeyLimits& own = options_.keys->key(*key).limits;
    if (own.rpm) limits.rpm = *own.rpm;
    if (own.tpm) limits.tpm = *own.tpm;
  }
  return limits;
}

// Where the chat web app will be; for now, how to reach the API.
void ApiService::Home(const ExchangePtr& ex) {
  HttpResponse r;
  r.content_type = "text/html; charset=utf-8";
  r.body =
      "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>autan</title>"
      "</head><body><h1>autan</h1><p>The chat app is not built yet. The API is here: point "
      "an OpenAI or Mistral client at <code>/v1</code> on this host.</p><ul>"
      "<li><a href=\"/v1/models\">/v1/models</a></li><li><a href=\"/health\">/health</a></li>"
      "<li><a href=\"/metrics\">/metrics</a></li><li><a href=\"/version\">/version</a></li>"
      "</ul></body></html>\n";
  ex->Respond(std::move(r));
}

void ApiService::Health(const ExchangePtr& ex) {
  if (draining_) return SendJsonTo(ex, {{"status", "draining"}}, 503);
  SendJsonTo(ex, {{"status", "ok"}});
}

void ApiService::Version(const ExchangePtr& ex) {
  SendJsonTo(ex, {{"name", "autan"},
                  {"version", AUTAN_VERSION},
                  {"model", options_.model_id},
                  {"chat_template", prompter_.description()}});
}

void ApiService::Models(const ExchangePtr& ex) {
  SendJsonTo(ex, ModelList(options_.model_id, started_));
}

void ApiService::ModelById(const std::string& id, const ExchangePtr& ex) {
  if (std::optional<ApiError> e = CheckModel(id)) return SendErrorTo(ex, *e);
  SendJsonTo(ex, ModelObject(options_.model_id, started_));
}

void ApiService::Prometheus(const ExchangePtr& ex) {
  HttpResponse r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = metrics_.Render(scheduler_.Stats(), scheduler_.options().n_parallel);
  ex->Respond(std::move(r));
}

std::optional<ApiError> ApiService::CheckModel(const std::string& requested) const {
  if (requested.empty() || requested == options_.model_id) return std::nullopt;
  ApiError e = NotFound("the model '" + requested + "' does not exist; this server serves '" +
                            options_.model_id + "'",
                        "model_not_found");
  e.param = "model";
  return e;
}

ResponseMeta ApiService::NewMeta(const char* prefix) {
  char id[40];
  std::snprintf(id, sizeof id, "%s%016llx", prefix,
                static_cast<unsigned long long>(Mix(id_base_ + next_id_.fetch_add(1))));
  return {id, UnixNow(), options_.model_id};
}

// llama.cpp's shapes: {"content": "...", "add_special": bool, "with_pieces": bool}
// -> {"tokens": [...]} (with pieces: [{"id", "piece"}]).
void ApiService::Tokenize(const HttpRequest& req, const ExchangePtr& ex) {
  Json body;
  if (std::optional<ApiError> e = ParseJsonBody(req.body, body)) return SendErrorTo(ex, *e);
  FieldReader f(body);
  std::string content;
  bool add_special = false, parse_special = true, with_pieces = false;
  if (!f.Find("content")) f.Fail("'content' is required", "content");
  f.String("content", content);
  f.Bool("add_special", add_special);
  f.Bool("parse_special", parse_special);
  f.Bool("with_pieces", with_pieces);
  if (f.error) return SendErrorTo(ex, *f.error);
  const Tokenizer& tok = model_->tokenizer();
  const std::vector<int32_t> ids =
      tok.Encode(content, {.add_special = add_special, .parse_special = parse_special});
  Json tokens = Json::array();
  for (int32_t id : ids) {
    if (with_pieces) {
      tokens.push_back({{"id", id}, {"piece", tok.TokenPiece(id)}});
    } else {
      tokens.push_back(id);
    }
  }
  SendJsonTo(ex, {{"tokens", tokens}});
}

void ApiService::Detokenize(const HttpRequest& req, const ExchangePtr& ex) {
  Json body;
  if (std::optional<ApiError> e = ParseJsonBody(req.body, body)) return SendErrorTo(ex, *e);
  const auto tokens = body.find("tokens");
  const int32_t n_vocab = model_->config().n_vocab;
  if (tokens == body.end() || !tokens->is_array()) {
    return SendErrorTo(ex, BadRequest("'tokens' must be a list of token ids", "tokens"));
  }
  std::vector<int32_t> ids;
  for (const Json& t : *tokens) {
    if (!t.is_number_integer() || t.get<int64_t>() < 0 || t.get<int64_t>() >= n_vocab) {
      return SendErrorTo(ex, BadRequest("'tokens' must hold token ids of this model (0.." +
                                            std::to_string(n_vocab - 1) + ")",
                                        "tokens"));
    }
    ids.push_back(t.get<int32_t>());
  }
  SendJsonTo(ex, {{"content", model_->tokenizer().Decode(ids)}});
}

}  // namespace autan::server
