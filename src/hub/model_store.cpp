#include "hub/model_store.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>

#include "hub/model_ref.h"

namespace autan::hub {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

bool IsFile(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

}  // namespace

HubEnv ReadHubEnv() {
  return {.models_dir = Env("AUTAN_MODELS"),
          .xdg_cache = Env("XDG_CACHE_HOME"),
          .home = Env("HOME"),
          .endpoint = Env("HF_ENDPOINT"),
          .token = Env("HF_TOKEN")};
}

Result<std::string> StoreDir(const HubEnv& env) {
  if (!env.models_dir.empty()) return env.models_dir;
  if (!env.xdg_cache.empty() && env.xdg_cache[0] == '/') return env.xdg_cache + "/autan/models";
  if (env.home.empty() || env.home[0] != '/') {
    return Fail("no model store: HOME is not an absolute path; set AUTAN_MODELS");
  }
  return env.home + "/.cache/autan/models";
}

Result<std::string> ResolveModelArg(const std::string& arg, const HubEnv& env) {
  struct stat st;
  if (arg.empty() || stat(arg.c_str(), &st) == 0) return arg;
  const std::string endpoint = env.endpoint.empty() ? std::string(kDefaultEndpoint) : env.endpoint;
  Result<ModelRef> ref = ParseModelRef(arg, endpoint);
  std::string name;
  if (ref.ok()) {
    name = ref->store_name;
  } else if (arg.find('/') == std::string::npos && CheckRepoFile(arg + ".gguf").ok()) {
    name = arg.ends_with(".gguf") ? arg : arg + ".gguf";  // a stored file's name
  } else {
    return arg;  // a path that does not exist: the loader says so
  }
  Result<std::string> dir = StoreDir(env);
  if (!dir.ok()) return dir.error();
  const std::string path = *dir + "/" + name;
  if (IsFile(path)) return path;
  if (ref.ok()) {
    return Fail("model '%s' is not downloaded yet (looked for %s); run `autan pull %s` first",
                arg.c_str(), path.c_str(), arg.c_str());
  }
  if (arg.ends_with(".gguf")) return arg;  // most likely a mistyped path
  return Fail(
      "'%s' is neither a file nor a model in the store (%s); `autan pull --list` shows both",
      arg.c_str(), dir->c_str());
}

std::vector<StoredModel> ListStore(const std::string& dir) {
  std::vector<StoredModel> out;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return out;
  while (const dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    const bool partial = name.ends_with(".gguf.part");
    if (!partial && !name.ends_with(".gguf")) continue;
    struct stat st;
    if (stat((dir + "/" + name).c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    out.push_back({name, static_cast<uint64_t>(st.st_size), partial});
  }
  closedir(d);
  std::sort(out.begin(), out.end(),
            [](const StoredModel& a, const StoredModel& b) { return a.name < b.name; });
  return out;
}

}  // namespace autan::hub
