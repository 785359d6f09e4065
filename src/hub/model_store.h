// The model store: the folder `autan pull` downloads into, and the lookup
// that lets `autan run NAME` find what was pulled. Nothing here downloads.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"

namespace autan::hub {

// The environment the store and downloads depend on, read once by the CLI so
// that the rest takes plain values (and tests can set them).
struct HubEnv {
  std::string models_dir;  // AUTAN_MODELS
  std::string xdg_cache;   // XDG_CACHE_HOME
  std::string home;        // HOME
  std::string endpoint;    // HF_ENDPOINT
  std::string token;       // HF_TOKEN
};
HubEnv ReadHubEnv();

// $AUTAN_MODELS, else $XDG_CACHE_HOME/autan/models (when absolute), else
// $HOME/.cache/autan/models.
Result<std::string> StoreDir(const HubEnv& env);

// What a -m argument names: `arg` itself when it is an existing path;
// else the stored file for a short name, hf:// reference, URL or stored file
// name (with or without .gguf); else `arg` unchanged, for the loader to
// report. A known name that was never pulled is an error that says to run
// `autan pull`. Nothing is downloaded.
Result<std::string> ResolveModelArg(const std::string& arg, const HubEnv& env);

struct StoredModel {
  std::string name;  // file name in the store
  uint64_t bytes = 0;
  bool partial = false;  // a .part file: an interrupted download
};
// The .gguf and .part files of the store, by name; empty if it does not exist.
std::vector<StoredModel> ListStore(const std::string& dir);

}  // namespace autan::hub
