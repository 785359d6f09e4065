// autan: run, serve and inspect Llama/Mistral-family models on one's own machines.
#include <cstdio>

#include "cli/commands.h"
#include "hub/model_store.h"

extern "C" const uint8_t autan_embedded_vocab_begin[];
extern "C" const uint8_t autan_embedded_vocab_end[];

namespace autan::cli {

std::span<const uint8_t> EmbeddedVocab() {
  return {autan_embedded_vocab_begin, autan_embedded_vocab_end};
}

int Report(const std::string& message, int code) {
  std::fprintf(stderr, "autan: %s\n", message.c_str());
  return code;
}

Result<std::string> ResolveModelArg(const std::string& arg) {
  return hub::ResolveModelArg(arg, hub::ReadHubEnv());
}

bool ParseIdList(const std::string& text, std::vector<int32_t>& ids) {
  ids.clear();
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ',' || text[i] == ' ' || text[i] == '\n')) ++i;
    if (i == text.size()) break;
    size_t end = i;
    long long v = 0;
    bool negative = text[end] == '-';
    if (negative) ++end;
    const size_t digits_start = end;
    while (end < text.size() && text[end] >= '0' && text[end] <= '9') {
      v = v * 10 + (text[end] - '0');
      if (v > (1ll << 31)) return false;
      ++end;
    }
    if (end == digits_start) return false;
    ids.push_back(static_cast<int32_t>(negative ? -v : v));
    i = end;
  }
  return true;
}

}  // namespace autan::cli

int main(int argc, char** argv) {
  CLI::App app{"autan: run Llama/Mistral-family models on your own machines"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "autan 0.1.0");
  using autan::cli::CommandFn;
  const CommandFn commands[] = {
      autan::cli::AddRunCommand(app),        autan::cli::AddTokenizeCommand(app),
      autan::cli::AddInfoCommand(app),       autan::cli::AddSynthCommand(app),
      autan::cli::AddLogitsCommand(app),     autan::cli::AddBenchCommand(app),
      autan::cli::AddServeCommand(app),      autan::cli::AddUserCommand(app),
      autan::cli::AddQuantizeCommand(app),   autan::cli::AddPullCommand(app),
      autan::cli::AddPerplexityCommand(app), autan::cli::AddConvertCommand(app),
  };
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : autan::cli::kExitBadInput;
  }
  const auto subcommands = app.get_subcommands();
  const auto all = app.get_subcommands({});
  for (size_t i = 0; i < all.size(); ++i) {
    if (all[i] == subcommands.front()) return commands[i]();
  }
  return autan::cli::kExitFailure;
}
