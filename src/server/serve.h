// `autan serve`: loads the model, starts the engine and the HTTP server, and
// serves until SIGINT or SIGTERM, then shuts down gracefully: no new
// connections, new requests get 503, requests in flight finish.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "core/result.h"

namespace autan::server {

struct ServeOptions {
  std::string model_path;
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  int32_t parallel = 4;
  int32_t ctx = 0;  // per sequence; 0: the model's, at most 4096
  int threads = 1;
  int http_threads = 2;
  std::string api_keys_file;  // "": no keys
  bool insecure_no_auth = false;
  size_t max_body = size_t{8} << 20;
  int32_t max_queue = 64;
  std::string model_id;        // "": the file name without .gguf
  std::string chat_template;   // "": the model's own
  int64_t rate_limit_rpm = 0;  // per key (per address without keys); 0: none
  int64_t rate_limit_tpm = 0;
  int32_t request_timeout = 600;  // seconds a generation may run; 0: no limit
  int32_t idle_timeout = 120;     // seconds to send a whole request on an open connection
  size_t max_connections = 0;     // open at once; 0: the open-file limit less 64
  int embedding_threads = 1;      // the embeddings path's own thread pool
  std::string kv_type = "f16";
  int32_t kv_block_size = 16;
  bool prefix_cache = true;
  std::string data_dir;         // the web app's accounts and chats; "": the XDG default
  bool secure_cookies = false;  // the session cookie only travels over HTTPS
};

// Fails before serving on a bad model, keys file, address or option; a
// non-loopback host needs keys unless insecure_no_auth. Returns once shut down.
Status Serve(const ServeOptions& options);

}  // namespace autan::server
