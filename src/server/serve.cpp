#include "server/serve.h"

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "model/model.h"
#include "runtime/scheduler.h"
#include "server/access_log.h"
#include "server/api_service.h"
#include "server/auth.h"
#include "server/http_server.h"
#include "store/data_dir.h"
#include "store/sqlite_store.h"

#ifndef AUTAN_VERSION
#define AUTAN_VERSION "0.0.0"
#endif

namespace autan::server {
namespace {

// Waits for the engine and every open response, then stops the I/O threads.
void Drain(Scheduler& scheduler, Embedder& embedder, HttpServer& http) {
  scheduler.Drain();
  embedder.Drain();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (http.open_responses() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  http.Stop();
}

}  // namespace

Status Serve(const ServeOptions& o) {
  std::optional<ApiKeys> keys;
  if (!o.api_keys_file.empty()) {
    Result<ApiKeys> loaded = ApiKeys::Load(o.api_keys_file);
    if (!loaded.ok()) return loaded.error();
    keys.emplace(std::move(loaded).value());
  } else if (!IsLoopbackHost(o.host) && !o.insecure_no_auth) {
    return Fail(
        "refusing to serve on %s without API keys: other machines could reach it; "
        "pass --api-keys FILE (or --insecure-no-auth)",
        o.host.c_str());
  }
  store::SqliteStoreOptions store_options;
  store_options.data_dir = o.data_dir;
  if (store_options.data_dir.empty()) {
    Result<std::string> dir = store::DefaultDataDir();
    if (!dir.ok()) return dir.error();
    store_options.data_dir = *dir;
  }
  Result<std::unique_ptr<store::Store>> store = store::OpenSqliteStore(store_options);
  if (!store.ok()) return store.error();
  // No stream survives a restart: what was being generated stays as it was saved.
  Result<int64_t> interrupted = (*store)->MarkStreamingIncomplete();
  if (!interrupted.ok()) return interrupted.error();
  Result<std::shared_ptr<const Model>> model = Model::Load(o.model_path);
  if (!model.ok()) return model.error();
  const int32_t ctx = o.ctx > 0 ? o.ctx : std::min((*model)->config().context_length, 4096);
  Result<KvType> kv_type = ParseKvType(o.kv_type);
  if (!kv_type.ok()) return kv_type.error();
  Result<std::unique_ptr<Scheduler>> scheduler =
      Scheduler::Create(*model, {.n_parallel = o.parallel,
                                 .n_ctx = ctx,
                                 .max_batch_tokens = std::max(512, o.parallel),
                                 .max_queue = o.max_queue,
                                 .threads = o.threads,
                                 .kv_type = *kv_type,
                                 .kv_block_size = o.kv_block_size,
                                 .prefix_cache = o.prefix_cache});
  if (!scheduler.ok()) return scheduler.error();
  Result<std::unique_ptr<Embedder>> embedder = Embedder::Create(
      *model, {.n_ctx = ctx, .threads = o.embedding_threads, .max_queue = o.max_queue});
  if (!embedder.ok()) return embedder.error();
  ServiceOptions service_options;
  const std::string model_id =
      o.model_id.empty() ? std::filesystem::path(o.model_path).stem().string() : o.model_id;
  service_options.model_id = model_id;
  service_options.chat_template = o.chat_template;
  service_options.keys = std::move(keys);
  service_options.rate_limits = {.rpm = o.rate_limit_rpm, .tpm = o.rate_limit_tpm};
  service_options.request_timeout = std::chrono::seconds(o.request_timeout);
  Result<std::unique_ptr<ApiService>> service =
      ApiService::Create(*model, **scheduler, **embedder, std::move(service_options));
  if (!service.ok()) return service.error();
  ApiService& api = **service;
  auto app = std::make_unique<AppService>(
      **store, *model, **scheduler, api.prompter(), api.metrics(),
      AppOptions{
          .model_id = model_id, .version = AUTAN_VERSION, .secure_cookies = o.secure_cookies});
  api.AttachApp(app.get());

  AccessLog log(stderr);
  HttpServerOptions http_options{.host = o.host,
                                 .port = o.port,
                                 .threads = o.http_threads,
                                 .max_body = o.max_body,
                                 .max_connections = o.max_connections,
                                 .idle_timeout = std::chrono::seconds(o.idle_timeout)};
  Result<std::unique_ptr<HttpServer>> http = HttpServer::Create(
      http_options,
      [&api](const HttpRequest& req, const std::shared_ptr<Exchange>& ex) { api.Handle(req, ex); },
      [&api, &log](const AccessRecord& r) {
        api.metrics().CountRequest(r.route.empty() ? "unmatched" : r.route, r.status);
        api.metrics().ObserveRequest(r.seconds);
        log.Write(r);
      });
  if (!http.ok()) return http.error();
  HttpServer& server = **http;
  std::fprintf(stderr, "autan: serving %s as '%s' on http://%s:%u (%d parallel, context %d, %s)\n",
               o.model_path.c_str(), model_id.c_str(), o.host.c_str(),
               static_cast<unsigned>(server.port()), o.parallel, ctx,
               api.prompter().description().c_str());
  std::fprintf(stderr, "autan: web app data in %s%s\n", store_options.data_dir.c_str(),
               *interrupted > 0 ? " (answers cut off by the last stop marked incomplete)" : "");
  std::fflush(stderr);

  std::thread drainer;
  std::atomic<int> signals{0};
  server.Run([&](int) {
    if (signals.fetch_add(1) > 0) return server.Stop();  // a second signal: stop now
    std::fprintf(stderr, "autan: shutting down; finishing the requests in flight\n");
    api.BeginDrain();
    server.StopAccepting();
    drainer = std::thread([&] { Drain(**scheduler, **embedder, server); });
  });
  if (drainer.joinable()) drainer.join();
  // The engines go first: their last callbacks post to the (stopped) I/O context.
  scheduler->reset();
  embedder->reset();
  app.reset();  // its workers finish the last store writes
  service->reset();
  http->reset();
  std::fprintf(stderr, "autan: stopped\n");
  return {};
}

}  // namespace autan::server
