// autan run: one-shot generation (-p) or an interactive chat in the model's
// chat format.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <random>
#include <thread>

#include "cli/commands.h"
#include "runtime/generate.h"
#include "server/chat_prompt.h"
#include "tokenizer/utf8_stream.h"

namespace autan::cli {
namespace {

struct RunFlags {
  std::string model, prompt, chat_template, system;
  int32_t n_predict = -1;
  int32_t ctx = 0;
  int32_t sliding_window = -1;
  std::string kv_type = "f16";
  int threads = static_cast<int>(std::thread::hardware_concurrency());
  std::optional<uint64_t> seed;
  std::vector<std::string> logit_bias;  // "ID=BIAS", BIAS a number or -inf
  SamplingParams sampling;
};

// Parses "ID=BIAS" entries ("-inf" bans the token).
Status ParseLogitBias(const std::vector<std::string>& entries,
                      std::vector<std::pair<int32_t, float>>& out) {
  for (const std::string& e : entries) {
    const size_t eq = e.find('=');
    std::vector<int32_t> id;
    if (eq == std::string::npos || !ParseIdList(e.substr(0, eq), id) || id.size() != 1) {
      return Fail("--logit-bias '%s': expected TOKEN_ID=BIAS", e.c_str());
    }
    const std::string bias = e.substr(eq + 1);
    char* end = nullptr;
    const float value = bias == "-inf" ? -INFINITY : std::strtof(bias.c_str(), &end);
    if (bias != "-inf" && (bias.empty() || *end != '\0')) {
      return Fail("--logit-bias '%s': bias is not a number", e.c_str());
    }
    out.emplace_back(id[0], value);
  }
  return {};
}

struct Runner {
  const RunFlags& flags;
  std::shared_ptr<const Model> model;
  ThreadPool pool;
  std::unique_ptr<Session> session;
  std::optional<Sampler> sampler;

  // Generates after `prompt`, streaming the text to stdout. Returns the text.
  Result<std::string> Stream(std::span<const int32_t> prompt, int32_t max_tokens,
                             std::vector<int32_t>* generated) {
    Utf8Stream utf8;
    std::string text;
    const Tokenizer& tok = model->tokenizer();
    Result<GenerateStats> stats =
        Generate(*session, *sampler, prompt, {.max_tokens = max_tokens}, [&](int32_t id) {
          if (generated) generated->push_back(id);
          const std::string piece = utf8.Push(tok.TokenPiece(id));
          text += piece;
          std::fwrite(piece.data(), 1, piece.size(), stdout);
          std::fflush(stdout);
          return true;
        });
    const std::string tail = utf8.Flush();
    text += tail;
    std::fwrite(tail.data(), 1, tail.size(), stdout);
    if (!stats.ok()) return stats.error();
    const GenerateStats& s = *stats;
    std::fprintf(stderr,
                 "\n[prompt %d tokens, %.2f s, %.1f t/s | generated %d tokens, %.2f s, %.1f t/s | "
                 "%s]\n",
                 s.prompt_tokens, s.prompt_seconds,
                 s.prompt_seconds > 0 ? s.prompt_tokens / s.prompt_seconds : 0.0,
                 s.generated_tokens, s.generate_seconds,
                 s.generate_seconds > 0 ? s.generated_tokens / s.generate_seconds : 0.0,
                 FinishReasonName(s.finish));
    return text;
  }
};

int OneShot(Runner& r) {
  const std::vector<int32_t> prompt = r.model->tokenizer().Encode(r.flags.prompt);
  if (static_cast<int32_t>(prompt.size()) >= r.session->n_ctx()) {
    return Report("the prompt has " + std::to_string(prompt.size()) +
                      " tokens, which does not fit the context of " +
                      std::to_string(r.session->n_ctx()) + " (raise --ctx)",
                  kExitBadInput);
  }
  const int32_t max_tokens = r.flags.n_predict < 0 ? r.session->n_ctx() : r.flags.n_predict;
  Result<std::string> text = r.Stream(prompt, max_tokens, nullptr);
  if (!text.ok()) return Report(text.error().message, kExitFailure);
  return 0;
}

int Interactive(Runner& r) {
  Result<server::ChatPrompter> prompter =
      server::ChatPrompter::Create(*r.model, r.flags.chat_template);
  if (!prompter.ok()) return Report(prompter.error().message, kExitBadInput);
  std::fprintf(stderr, "autan: chat format: %s; /reset clears the conversation, Ctrl-D quits\n",
               prompter->description().c_str());
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();
  const auto message = [](const char* role, const std::string& content) {
    return nlohmann::ordered_json{{"role", role}, {"content", content}};
  };
  if (!r.flags.system.empty()) messages.push_back(message("system", r.flags.system));
  std::vector<int32_t> in_cache;  // tokens the session holds, in order
  const bool tty = isatty(STDIN_FILENO);
  std::string line;
  for (;;) {
    if (tty) std::fputs("\n> ", stderr);
    if (!std::getline(std::cin, line)) break;
    if (line.empty()) continue;
    if (line == "/reset") {
      while (messages.size() > (r.flags.system.empty() ? 0u : 1u))
        messages.erase(messages.size() - 1);
      continue;
    }
    messages.push_back(message("user", line));
    Result<std::vector<int32_t>> encoded = prompter->Encode(messages, nullptr, false);
    if (!encoded.ok()) return Report(encoded.error().message, kExitBadInput);
    std::vector<int32_t> ids = std::move(encoded).value();
    // Reuse the cached prefix of the conversation; evaluate only what is new.
    size_t common = 0;
    while (common < ids.size() && common < in_cache.size() && ids[common] == in_cache[common]) {
      ++common;
    }
    if (common == ids.size()) --common;  // need at least one token to get logits
    if (!r.session->Rewind(static_cast<int32_t>(common))) {
      r.session->Reset();
      common = 0;
    }
    in_cache.assign(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(common));
    const std::span<const int32_t> fresh(ids.data() + common, ids.size() - common);
    if (r.session->n_past() + static_cast<int32_t>(fresh.size()) >= r.session->n_ctx()) {
      Report("the conversation no longer fits the context; /reset to start again", 0);
      messages.erase(messages.size() - 1);
      continue;
    }
    in_cache.insert(in_cache.end(), fresh.begin(), fresh.end());
    std::vector<int32_t> generated;
    const int32_t room =
        r.session->n_ctx() - r.session->n_past() - static_cast<int32_t>(fresh.size());
    const int32_t max_tokens = r.flags.n_predict < 0 ? room : std::min(room, r.flags.n_predict);
    Result<std::string> reply = r.Stream(fresh, max_tokens, &generated);
    if (!reply.ok()) return Report(reply.error().message, kExitFailure);
    // The last sampled token was not evaluated, so the cache holds all but it.
    if (!generated.empty()) generated.pop_back();
    in_cache.insert(in_cache.end(), generated.begin(), generated.end());
    messages.push_back(message("assistant", *reply));
  }
  return 0;
}

}  // namespace

CommandFn AddRunCommand(CLI::App& app) {
  auto f = std::make_shared<RunFlags>();
  CLI::App* cmd = app.add_subcommand("run", "Generate text, or chat when no prompt is given");
  cmd->add_option("-m,--model", f->model, "Model file, folder, or a name pulled with `autan pull`")
      ->required();
  cmd->add_option("-p,--prompt", f->prompt, "Prompt; prints only the continuation");
  cmd->add_option("-n,--n-predict", f->n_predict, "Most tokens to generate (-1: until the end)");
  cmd->add_option("-c,--ctx", f->ctx, "Context size (default: the model's, at most 4096)")
      ->check(CLI::Range(1, 1 << 24));
  cmd->add_option("-t,--threads", f->threads, "Threads")->check(CLI::Range(1, 1024));
  cmd->add_option("--sliding-window", f->sliding_window, "Attention window (0: full attention)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--kv-type", f->kv_type, "KV cache type: f16 or q8_0")
      ->check(CLI::IsMember({"f16", "q8_0"}));
  cmd->add_option("--seed", f->seed, "Random seed (default: random)");
  cmd->add_option("--temp", f->sampling.temperature, "Temperature (0: greedy)");
  cmd->add_option("--top-k", f->sampling.top_k, "Top-k (0: off)");
  cmd->add_option("--top-p", f->sampling.top_p, "Top-p (1: off)");
  cmd->add_option("--min-p", f->sampling.min_p, "Min-p (0: off)");
  cmd->add_option("--repeat-penalty", f->sampling.repetition_penalty, "Repetition penalty");
  cmd->add_option("--presence-penalty", f->sampling.presence_penalty, "Presence penalty");
  cmd->add_option("--frequency-penalty", f->sampling.frequency_penalty, "Frequency penalty");
  cmd->add_option("--penalty-last-n", f->sampling.penalty_last_n,
                  "Recent tokens the penalties look at (-1: all)");
  cmd->add_option("--logit-bias", f->logit_bias,
                  "TOKEN_ID=BIAS added to a token's logit (-inf bans it); repeatable");
  cmd->add_option(
      "--chat-template", f->chat_template,
      "Jinja file, built-in format (mistral-v1, mistral-v3, mistral-v3-tekken, "
      "mistral-v7, llama2, llama3, llama3.1, chatml, gemma, phi3) or Mistral's "
      "token-level format (mistral-instruct, mistral-instruct-v1|v2|v3|v7); default: the "
      "model's template, else its Mistral tokenizer's format");
  cmd->add_option("--system", f->system, "System prompt for the chat");
  return [f] {
    using Clock = std::chrono::steady_clock;
    const Clock::time_point start = Clock::now();
    Result<std::string> path = ResolveModelArg(f->model);
    if (!path.ok()) return Report(path.error().message, kExitBadInput);
    f->model = *path;
    Result<std::shared_ptr<const Model>> model =
        Model::Load(f->model, {.sliding_window = f->sliding_window});
    if (!model.ok()) return Report(model.error().message, kExitBadInput);
    const int32_t ctx = f->ctx > 0 ? f->ctx : std::min((*model)->config().context_length, 4096);
    Runner r{*f, *model, ThreadPool(f->threads), nullptr, std::nullopt};
    Result<std::unique_ptr<Session>> session = Session::Create(
        r.model, r.pool, {.n_ctx = std::max(ctx, 1), .kv_type = ParseKvType(f->kv_type).value()});
    if (!session.ok()) return Report(session.error().message, kExitBadInput);
    r.session = std::move(session).value();
    SamplingParams sampling = f->sampling;
    if (Status bias = ParseLogitBias(f->logit_bias, sampling.logit_bias); !bias.ok()) {
      return Report(bias.error().message, kExitBadInput);
    }
    sampling.seed = f->seed ? *f->seed : std::random_device{}();
    Result<Sampler> sampler = Sampler::Create(sampling, r.model->config().n_vocab);
    if (!sampler.ok()) return Report(sampler.error().message, kExitBadInput);
    r.sampler.emplace(std::move(sampler).value());
    std::fprintf(stderr, "autan: loaded %s in %.2f s (seed %llu)\n", f->model.c_str(),
                 std::chrono::duration<double>(Clock::now() - start).count(),
                 static_cast<unsigned long long>(sampling.seed));
    return f->prompt.empty() ? Interactive(r) : OneShot(r);
  };
}

}  // namespace autan::cli
