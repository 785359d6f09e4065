// What `autan pull` accepts, and the name each download gets in the model
// store: short names for the Mistral family, hf://OWNER/REPO/FILE, and
// http(s) URLs (Hugging Face `resolve` URLs or any other file URL).
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "core/result.h"

namespace autan::hub {

inline constexpr std::string_view kDefaultEndpoint = "https://huggingface.co";
inline constexpr std::string_view kDefaultRevision = "main";

// A well-known GGUF file, pulled by a short name.
struct ShortName {
  std::string_view name;   // "mistral-7b-instruct"
  std::string_view repo;   // "bartowski/Mistral-7B-Instruct-v0.3-GGUF"
  std::string_view file;   // "Mistral-7B-Instruct-v0.3-Q4_K_M.gguf"
  std::string_view about;  // one line for `autan pull --list`
};

std::span<const ShortName> ShortNames();
const ShortName* FindShortName(std::string_view name);

// A file to download and where it lands.
struct ModelRef {
  std::string repo;        // "owner/name"; empty for a URL that is not a hub's
  std::string revision;    // branch, tag or commit; empty for a plain URL
  std::string file;        // path in the repository ("sub/x.gguf"), or the URL's last segment
  std::string url;         // where to fetch it from
  std::string store_name;  // file name in the model store
};

// The scheme, host and port of an http(s) URL, lower-cased.
struct Origin {
  std::string scheme;  // "https" or "http"
  std::string host;    // without brackets for IPv6
  int port = 0;        // explicit or the scheme's default
  bool operator==(const Origin&) const = default;
};

// Splits an absolute http(s) URL. Plain http is accepted only for loopback
// hosts (127.0.0.0/8, ::1, localhost): anything else would send the request,
// and a token, in the clear.
Result<Origin> ParseOrigin(std::string_view url);
// "scheme://host[:port]", the port only when not the scheme's default.
std::string OriginText(const Origin& origin);
bool IsLoopbackHost(std::string_view host);

// Checks a Hugging Face endpoint (HF_ENDPOINT) and returns it without a
// trailing slash.
Result<std::string> CheckEndpoint(std::string_view endpoint);

// Parses a short name, hf://OWNER/REPO/FILE or an http(s) URL. Hub files are
// fetched from `endpoint`/REPO/resolve/`revision`/FILE. Repository, file and
// revision names are checked (see CheckRepoId/CheckRepoFile), so no input can
// name a store path outside the store.
Result<ModelRef> ParseModelRef(std::string_view input, std::string_view endpoint,
                               std::string_view revision = kDefaultRevision);

// "owner/name", each part of letters, digits, '.', '_', '-', not starting with
// '.' or '-', no "--" or ".." (Hugging Face's own rules for repository ids).
Status CheckRepoId(std::string_view repo);
// A path in a repository: '/'-separated parts, each as above, ending in .gguf.
Status CheckRepoFile(std::string_view file);
// A revision: a branch, tag or commit of the same characters.
Status CheckRevision(std::string_view revision);

// The store's file name for a hub file: "owner--name--file", the file's '/'
// written "--" too, so each repository file has one flat, safe name.
std::string StoreFileName(std::string_view repo, std::string_view file);

}  // namespace autan::hub
