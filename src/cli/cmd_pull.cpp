// autan pull: a GGUF model from Hugging Face (or any URL) into the model
// store, so that `autan run NAME` finds it.
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "cli/commands.h"
#include "cli/progress_bar.h"
#include "hub/model_store.h"
#include "hub/pull.h"

namespace autan::cli {
namespace {

struct PullFlags {
  std::string model, sha256, revision = std::string(hub::kDefaultRevision), token_file;
  bool list = false, force = false;
  int retries = 5;
  long stall_timeout = 30;
};

int List(const std::string& store) {
  const std::vector<hub::StoredModel> stored = hub::ListStore(store);
  auto in_store = [&](const std::string& name) {
    for (const hub::StoredModel& m : stored) {
      if (m.name == name) return true;
    }
    return false;
  };
  std::printf("Short names (autan pull NAME, then autan run -m NAME):\n");
  for (const hub::ShortName& s : hub::ShortNames()) {
    const bool pulled = in_store(hub::StoreFileName(s.repo, s.file));
    std::printf("  %-26s %-7s %s\n  %-26s         %s/%s\n", std::string(s.name).c_str(),
                pulled ? "pulled" : "", std::string(s.about).c_str(), "",
                std::string(s.repo).c_str(), std::string(s.file).c_str());
  }
  std::printf("\nIn the store (%s):\n", store.c_str());
  if (stored.empty()) std::printf("  (nothing)\n");
  for (const hub::StoredModel& m : stored) {
    std::printf("  %-72s %8.2f GiB%s\n", m.name.c_str(), static_cast<double>(m.bytes) / (1 << 30),
                m.partial ? "  (partial: pull again to resume)" : "");
  }
  return 0;
}

// The token: the first line of --token-file, else HF_TOKEN. Never printed.
Result<std::string> Token(const PullFlags& f, const hub::HubEnv& env) {
  if (f.token_file.empty()) return env.token;
  std::ifstream in(f.token_file);
  std::string token;
  if (!in || !std::getline(in, token)) {
    return Fail("--token-file %s: cannot read a token from it", f.token_file.c_str());
  }
  while (!token.empty() && (token.back() == '\r' || token.back() == ' ')) token.pop_back();
  if (token.empty()) return Fail("--token-file %s: the first line is empty", f.token_file.c_str());
  return token;
}

}  // namespace

CommandFn AddPullCommand(CLI::App& app) {
  auto f = std::make_shared<PullFlags>();
  CLI::App* cmd = app.add_subcommand(
      "pull", "Download a GGUF model into the model store (resumable, SHA-256 checked)");
  cmd->add_option("model", f->model,
                  "A short name (see --list), hf://OWNER/REPO/FILE.gguf or an http(s) URL");
  cmd->add_flag("--list", f->list, "Show the short names and what is in the store");
  cmd->add_option("--sha256", f->sha256, "Expected SHA-256 (hex), instead of the server's");
  cmd->add_option("--revision", f->revision, "Branch, tag or commit for names and hf:// (main)");
  cmd->add_option("--token-file", f->token_file,
                  "File whose first line is the Hugging Face token (default: $HF_TOKEN)");
  cmd->add_flag("--force", f->force, "Download again even if the model is in the store");
  cmd->add_option("--retries", f->retries, "Attempts in a row without progress before giving up")
      ->check(CLI::Range(0, 100));
  cmd->add_option("--stall-timeout", f->stall_timeout,
                  "Seconds under 1 KiB/s after which a connection counts as stalled")
      ->check(CLI::Range(1, 3600));
  return [f] {
    const hub::HubEnv env = hub::ReadHubEnv();
    Result<std::string> store = hub::StoreDir(env);
    if (!store.ok()) return Report(store.error().message, kExitBadInput);
    if (f->list) return List(*store);
    if (f->model.empty())
      return Report("pull: give a model name or URL (or --list)", kExitBadInput);
    Result<std::string> endpoint =
        hub::CheckEndpoint(env.endpoint.empty() ? hub::kDefaultEndpoint : env.endpoint);
    if (!endpoint.ok()) return Report(endpoint.error().message, kExitBadInput);
    Result<hub::ModelRef> ref = hub::ParseModelRef(f->model, *endpoint, f->revision);
    if (!ref.ok()) return Report(ref.error().message, kExitBadInput);
    Result<std::string> token = Token(*f, env);
    if (!token.ok()) return Report(token.error().message, kExitBadInput);
    if (Status s = hub::CheckToken(*token); !s.ok())
      return Report(s.error().message, kExitBadInput);
    if (!f->sha256.empty() && hub::Sha256FromEtag(f->sha256).empty()) {
      return Report("--sha256 '" + f->sha256 + "': expected 64 hex digits", kExitBadInput);
    }

    ProgressBar progress(stderr, isatty(STDERR_FILENO) != 0);
    hub::PullOptions options{.store_dir = *store,
                             .endpoint = *endpoint,
                             .token = *token,
                             .sha256 = f->sha256,
                             .force = f->force,
                             .retries = f->retries,
                             .stall_timeout_s = f->stall_timeout};
    options.progress = [&](const hub::PullProgress& p) {
      progress.Update(p.done, p.total, p.resumed_at);
    };
    options.note = [&](const std::string& line) {
      progress.Break();
      Report(line, 0);
    };
    std::fprintf(stderr, "autan: pulling %s\n", ref->url.c_str());
    Result<hub::PullResult> pulled = hub::Pull(*ref, options);
    progress.Break();
    if (!pulled.ok()) return Report(pulled.error().message, kExitFailure);
    if (pulled->already_present) {
      Report(pulled->path + " is already in the store (--force downloads it again)", 0);
    } else {
      Report("verified SHA-256 " + pulled->sha256 + " and GGUF structure", 0);
    }
    std::printf("%s\n", pulled->path.c_str());
    return 0;
  };
}

}  // namespace autan::cli
