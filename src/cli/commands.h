// Each `autan` subcommand registers itself on the CLI11 app and returns the
// function to run once its flags are parsed.
#pragma once

#include <CLI/CLI.hpp>

#include "core/result.h"

#include <functional>
#include <span>
#include <string>

namespace autan::cli {

// Exit codes: 0 success, 1 runtime failure, 2 bad input (model file, flags, prompt).
inline constexpr int kExitFailure = 1;
inline constexpr int kExitBadInput = 2;

using CommandFn = std::function<int()>;

CommandFn AddRunCommand(CLI::App& app);
CommandFn AddTokenizeCommand(CLI::App& app);
CommandFn AddInfoCommand(CLI::App& app);
CommandFn AddSynthCommand(CLI::App& app);
CommandFn AddLogitsCommand(CLI::App& app);
CommandFn AddBenchCommand(CLI::App& app);
CommandFn AddServeCommand(CLI::App& app);
CommandFn AddUserCommand(CLI::App& app);
CommandFn AddQuantizeCommand(CLI::App& app);
CommandFn AddConvertCommand(CLI::App& app);
CommandFn AddPullCommand(CLI::App& app);
CommandFn AddPerplexityCommand(CLI::App& app);

// The file a -m argument names: a path, or a model pulled into the store
// (`autan pull`); errors say to pull a known name first.
Result<std::string> ResolveModelArg(const std::string& arg);

// The Llama/Mistral SentencePiece vocabulary built into the binary.
std::span<const uint8_t> EmbeddedVocab();

// Prints "autan: <message>" to stderr and returns `code`.
int Report(const std::string& message, int code);

// Parses "1,2,3" or "1 2 3" into ids; false on a malformed list.
bool ParseIdList(const std::string& text, std::vector<int32_t>& ids);

}  // namespace autan::cli
