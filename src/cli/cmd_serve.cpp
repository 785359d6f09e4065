// autan serve: the OpenAI- and Mistral-compatible HTTP API.
#include <iostream>
#include <thread>

#include "cli/commands.h"
#include "server/auth.h"
#include "server/serve.h"

namespace autan::cli {

CommandFn AddServeCommand(CLI::App& app) {
  auto o = std::make_shared<server::ServeOptions>();
  auto hash_key = std::make_shared<std::string>();
  o->threads = static_cast<int>(std::thread::hardware_concurrency());
  CLI::App* cmd = app.add_subcommand("serve", "Serve the model over an OpenAI-compatible HTTP API");
  cmd->add_option("-m,--model", o->model_path,
                  "Model file, folder, or a name pulled with `autan pull`");
  cmd->add_option("--host", o->host, "Address to listen on");
  cmd->add_option("--port", o->port, "Port (0: any free one)");
  cmd->add_option("--parallel", o->parallel, "Sequences decoded together")
      ->check(CLI::Range(1, 1024));
  cmd->add_option("-c,--ctx", o->ctx, "Context per sequence (default: the model's, at most 4096)")
      ->check(CLI::Range(2, 1 << 24));
  cmd->add_option("-t,--threads", o->threads, "Compute threads")->check(CLI::Range(1, 1024));
  cmd->add_option("--api-keys", o->api_keys_file,
                  "File of SHA-256 key hashes, one per line (see --hash-key)");
  cmd->add_flag("--insecure-no-auth", o->insecure_no_auth,
                "Serve a non-loopback address without API keys");
  cmd->add_option("--max-body", o->max_body, "Largest request body in bytes")
      ->check(CLI::Range(size_t{1024}, size_t{1} << 32));
  cmd->add_option("--max-queue", o->max_queue, "Requests waiting beyond the busy sequences")
      ->check(CLI::Range(0, 1 << 20));
  cmd->add_option("--kv-type", o->kv_type, "KV cache type: f16 or q8_0")->capture_default_str();
  cmd->add_option("--kv-block", o->kv_block_size, "Positions per KV cache block")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  cmd->add_flag("!--no-prefix-cache", o->prefix_cache,
                "Compute every prompt in full instead of reusing cached prefixes");
  cmd->add_option("--model-id", o->model_id, "Model name in the API (default: the file name)");
  cmd->add_option(
      "--chat-template", o->chat_template,
      "Jinja file, built-in format (mistral-v1, mistral-v3, mistral-v3-tekken, "
      "mistral-v7, llama2, llama3, llama3.1, chatml, gemma, phi3) or Mistral's "
      "token-level format (mistral-instruct, mistral-instruct-v1|v2|v3|v7); default: the "
      "model's template, else its Mistral tokenizer's format");
  cmd->add_option("--rate-limit-rpm", o->rate_limit_rpm,
                  "Requests per minute per API key (per client address without keys), unless "
                  "the keys file sets rpm=N; 0: no limit")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  cmd->add_option("--rate-limit-tpm", o->rate_limit_tpm,
                  "Tokens (prompt + max completion) per minute per API key or address, unless "
                  "the keys file sets tpm=N; 0: no limit")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  cmd->add_option("--request-timeout", o->request_timeout,
                  "Seconds a generation may run; then it ends with finish_reason \"length\" "
                  "(0: no limit)")
      ->check(CLI::Range(0, 1 << 24));
  cmd->add_option("--idle-timeout", o->idle_timeout,
                  "Seconds a connection has to send a whole request (headers and body) before "
                  "it is closed")
      ->check(CLI::Range(1, 1 << 24));
  cmd->add_option("--max-connections", o->max_connections,
                  "Client connections open at once; more are answered 503 and closed (default: "
                  "the open-file limit less 64)")
      ->check(CLI::Range(size_t{1}, size_t{1} << 24));
  cmd->add_option("--embedding-threads", o->embedding_threads,
                  "Threads computing /v1/embeddings, beside the generation threads")
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--data-dir", o->data_dir,
                  "Web app accounts and chats (default: $XDG_DATA_HOME/autan or "
                  "~/.local/share/autan)");
  cmd->add_flag("--secure-cookies", o->secure_cookies,
                "Mark the web app's session cookie Secure (serving behind HTTPS)");
  cmd->add_option("--cpu-watts", o->cpu_watts,
                  "Watts per busy core for the energy estimate (default: the package power "
                  "limit per core where powercap shows it, else 7.5)")
      ->check(CLI::Range(0.0, 1000.0));
  cmd->add_option("--grid-gco2-per-kwh", o->pricing.grid_gco2_per_kwh,
                  "Carbon intensity of the electricity, gCO2e/kWh (default: France, RTE 2023)")
      ->check(CLI::Range(0.0, 5000.0))
      ->capture_default_str();
  cmd->add_option("--pue", o->pricing.pue, "Power usage effectiveness of the site")
      ->check(CLI::Range(1.0, 10.0))
      ->capture_default_str();
  cmd->add_option("--kwh-price", o->pricing.kwh_price, "Price of a kWh, for the cost in usage")
      ->check(CLI::Range(0.0, 1000.0))
      ->capture_default_str();
  cmd->add_option("--currency", o->pricing.currency, "Currency of --kwh-price")
      ->capture_default_str();
  cmd->add_option("--hash-key", *hash_key,
                  "Print the keys-file line for KEY ('-' reads it from stdin) and exit");
  return [o, hash_key] {
    if (!hash_key->empty()) {
      std::string key = *hash_key;
      if (key == "-" && !std::getline(std::cin, key))
        return Report("no key on stdin", kExitBadInput);
      std::printf("%s\n", server::KeyFileLine(key).c_str());
      return 0;
    }
    if (o->model_path.empty()) return Report("serve: --model is required", kExitBadInput);
    Result<std::string> path = ResolveModelArg(o->model_path);
    if (!path.ok()) return Report(path.error().message, kExitBadInput);
    // A model found by name is served under that name, as clients asked for it.
    if (*path != o->model_path && o->model_id.empty()) o->model_id = o->model_path;
    o->model_path = *path;
    Status s = server::Serve(*o);
    if (!s.ok()) return Report(s.error().message, kExitBadInput);
    return 0;
  };
}

}  // namespace autan::cli
