#include "hub/model_ref.h"

#include <curl/curl.h>

#include <algorithm>
#include <array>
#include <memory>
#include <vector>

namespace autan::hub {
namespace {

// Q4_K_M files (about 4.8 bits per weight) from the repositories most people
// pull Mistral models from; each line is one name, its repository and file.
constexpr std::array kShortNames = {
    ShortName{"mistral-7b-instruct", "bartowski/Mistral-7B-Instruct-v0.3-GGUF",
              "Mistral-7B-Instruct-v0.3-Q4_K_M.gguf", "Mistral 7B Instruct v0.3, Q4_K_M, 4.4 GB"},
    ShortName{"mistral-7b-instruct-v0.2", "TheBloke/Mistral-7B-Instruct-v0.2-GGUF",
              "mistral-7b-instruct-v0.2.Q4_K_M.gguf", "Mistral 7B Instruct v0.2, Q4_K_M, 4.4 GB"},
    ShortName{"mistral-7b", "TheBloke/Mistral-7B-v0.1-GGUF", "mistral-7b-v0.1.Q4_K_M.gguf",
              "Mistral 7B v0.1 base model, Q4_K_M, 4.4 GB"},
    ShortName{"mistral-nemo", "bartowski/Mistral-Nemo-Instruct-2407-GGUF",
              "Mistral-Nemo-Instruct-2407-Q4_K_M.gguf",
              "Mistral NeMo 12B Instruct, Q4_K_M, 7.5 GB"},
    ShortName{"mixtral-8x7b", "TheBloke/Mixtral-8x7B-Instruct-v0.1-GGUF",
              "mixtral-8x7b-instruct-v0.1.Q4_K_M.gguf",
              "Mixtral 8x7B Instruct v0.1, Q4_K_M, 26 GB"},
    ShortName{"mistral-small", "bartowski/Mistral-Small-24B-Instruct-2501-GGUF",
              "Mistral-Small-24B-Instruct-2501-Q4_K_M.gguf",
              "Mistral Small 3 24B Instruct, Q4_K_M, 14 GB"},
    ShortName{"codestral", "bartowski/Codestral-22B-v0.1-GGUF", "Codestral-22B-v0.1-Q4_K_M.gguf",
              "Codestral 22B v0.1 (code, fill-in-the-middle), Q4_K_M, 13 GB"},
    ShortName{"mathstral", "bartowski/mathstral-7B-v0.1-GGUF", "mathstral-7B-v0.1-Q4_K_M.gguf",
              "Mathstral 7B v0.1, Q4_K_M, 4.4 GB"},
};

bool NameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

// One part of a repository id or path: no separators, nothing a shell or a
// file system reads specially ("..", a leading '.' or '-').
Status CheckPart(std::string_view part, const char* what, std::string_view whole) {
  const std::string w(whole);
  if (part.empty()) return Fail("%s '%s': an empty part", what, w.c_str());
  if (part.size() > 96) return Fail("%s '%s': a part longer than 96 characters", what, w.c_str());
  for (char c : part) {
    if (!NameChar(c)) {
      return Fail("%s '%s': character '%c' is not allowed (letters, digits, '.', '_', '-')", what,
                  w.c_str(), c);
    }
  }
  if (part.find("..") != std::string_view::npos) {
    return Fail("%s '%s': '..' is not allowed", what, w.c_str());
  }
  if (part.front() == '.' || part.front() == '-') {
    return Fail("%s '%s': a part starts with '%c'", what, w.c_str(), part.front());
  }
  return {};
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    const size_t end = s.find(sep, start);
    parts.push_back(s.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

std::string Join(std::span<const std::string_view> parts, std::string_view sep) {
  std::string out;
  for (std::string_view p : parts) {
    if (!out.empty()) out += sep;
    out += p;
  }
  return out;
}

struct UrlDeleter {
  void operator()(CURLU* u) const { curl_url_cleanup(u); }
};
using UrlHandle = std::unique_ptr<CURLU, UrlDeleter>;

// One part of a parsed URL, decoded when `flags` asks; empty when absent.
std::string UrlPart(CURLU* url, CURLUPart part, unsigned flags = 0) {
  char* value = nullptr;
  if (curl_url_get(url, part, &value, flags) != CURLUE_OK || value == nullptr) return {};
  std::string out(value);
  curl_free(value);
  return out;
}

Result<UrlHandle> ParseUrl(std::string_view text) {
  UrlHandle url(curl_url());
  if (!url) return Fail("out of memory parsing a URL");
  const std::string s(text);
  if (curl_url_set(url.get(), CURLUPART_URL, s.c_str(), 0) != CURLUE_OK) {
    return Fail("'%s' is not a valid URL", s.c_str());
  }
  return url;
}

// A hub file from its repository id, revision and path.
Result<ModelRef> HubRef(std::string_view origin, std::string_view repo, std::string_view revision,
                        std::string_view file) {
  AUTAN_TRY(CheckRepoId(repo));
  AUTAN_TRY(CheckRevision(revision));
  AUTAN_TRY(CheckRepoFile(file));
  ModelRef ref;
  ref.repo = repo;
  ref.revision = revision;
  ref.file = file;
  ref.url = std::string(origin) + "/" + ref.repo + "/resolve/" + ref.revision + "/" + ref.file;
  ref.store_name = StoreFileName(repo, file);
  return ref;
}

// https://HOST/OWNER/NAME/resolve/REV/FILE (or /blob/, the page a browser
// shows), or any other URL of a .gguf file.
Result<ModelRef> UrlRef(std::string_view input) {
  Result<Origin> origin = ParseOrigin(input);
  if (!origin.ok()) return origin.error();
  Result<UrlHandle> url = ParseUrl(input);
  if (!url.ok()) return url.error();
  // Decoded, so that "%2e%2e" or "%2f" cannot slip past the checks below.
  const std::string path = UrlPart(url->get(), CURLUPART_PATH, CURLU_URLDECODE);
  std::vector<std::string_view> parts = Split(path, '/');
  if (!parts.empty() && parts.front().empty()) parts.erase(parts.begin());
  if (parts.size() >= 5 && (parts[2] == "resolve" || parts[2] == "blob")) {
    const std::string repo = std::string(parts[0]) + "/" + std::string(parts[1]);
    const std::string file = Join(std::span(parts).subspan(4), "/");
    return HubRef(OriginText(*origin), repo, parts[3], file);
  }
  const std::string_view last = parts.empty() ? std::string_view() : parts.back();
  AUTAN_TRY(CheckRepoFile(last));
  ModelRef ref;
  ref.file = last;
  ref.url = input;
  ref.store_name = last;
  return ref;
}

}  // namespace

std::string OriginText(const Origin& o) {
  const bool default_port =
      (o.scheme == "https" && o.port == 443) || (o.scheme == "http" && o.port == 80);
  const std::string host = o.host.find(':') != std::string::npos ? "[" + o.host + "]" : o.host;
  return o.scheme + "://" + host + (default_port ? "" : ":" + std::to_string(o.port));
}

std::span<const ShortName> ShortNames() { return kShortNames; }

const ShortName* FindShortName(std::string_view name) {
  for (const ShortName& s : kShortNames) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

bool IsLoopbackHost(std::string_view host) {
  if (host == "localhost" || host == "::1") return true;
  // 127.0.0.0/8 written as a dotted quad.
  if (!host.starts_with("127.")) return false;
  const std::vector<std::string_view> octets = Split(host, '.');
  if (octets.size() != 4) return false;
  for (std::string_view o : octets) {
    if (o.empty() || o.size() > 3) return false;
    int v = 0;
    for (char c : o) {
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    if (v > 255) return false;
  }
  return true;
}

Result<Origin> ParseOrigin(std::string_view text) {
  const std::string s(text);
  if (!s.starts_with("http://") && !s.starts_with("https://")) {
    return Fail("'%s': only http:// and https:// URLs are supported", s.c_str());
  }
  Result<UrlHandle> url = ParseUrl(text);
  if (!url.ok()) return url.error();
  if (!UrlPart(url->get(), CURLUPART_USER).empty()) {
    return Fail("'%s': credentials in a URL are not accepted (use HF_TOKEN)", s.c_str());
  }
  Origin o;
  o.scheme = UrlPart(url->get(), CURLUPART_SCHEME);
  o.host = UrlPart(url->get(), CURLUPART_HOST);
  std::transform(o.host.begin(), o.host.end(), o.host.begin(),
                 [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; });
  if (o.host.size() > 2 && o.host.front() == '[' && o.host.back() == ']') {
    o.host = o.host.substr(1, o.host.size() - 2);
  }
  const std::string port = UrlPart(url->get(), CURLUPART_PORT, CURLU_DEFAULT_PORT);
  o.port = port.empty() ? 0 : std::atoi(port.c_str());
  if (o.host.empty() || o.port <= 0) return Fail("'%s': no host", s.c_str());
  if (o.scheme == "http" && !IsLoopbackHost(o.host)) {
    return Fail(
        "'%s': plain http is allowed only to this machine (127.0.0.1, ::1, localhost); use "
        "https",
        s.c_str());
  }
  return o;
}

Result<std::string> CheckEndpoint(std::string_view endpoint) {
  std::string e(endpoint);
  while (!e.empty() && e.back() == '/') e.pop_back();
  Result<Origin> origin = ParseOrigin(e);
  if (!origin.ok()) return Fail("HF_ENDPOINT: %s", origin.error().message.c_str());
  Result<UrlHandle> url = ParseUrl(e);
  if (!url.ok()) return url.error();
  const std::string path = UrlPart(url->get(), CURLUPART_PATH);
  if (!path.empty() && path != "/") {
    return Fail("HF_ENDPOINT '%s': expected scheme://host[:port] with no path", e.c_str());
  }
  return OriginText(*origin);
}

Status CheckRepoId(std::string_view repo) {
  const std::vector<std::string_view> parts = Split(repo, '/');
  if (parts.size() != 2) {
    return Fail("repository '%s': expected OWNER/NAME", std::string(repo).c_str());
  }
  for (std::string_view p : parts) AUTAN_TRY(CheckPart(p, "repository", repo));
  if (repo.find("--") != std::string_view::npos) {
    return Fail("repository '%s': '--' is not allowed", std::string(repo).c_str());
  }
  return {};
}

Status CheckRepoFile(std::string_view file) {
  if (file.empty()) return Fail("no file name given");
  for (std::string_view p : Split(file, '/')) AUTAN_TRY(CheckPart(p, "file", file));
  if (!file.ends_with(".gguf")) {
    return Fail("file '%s': only GGUF files (.gguf) can be pulled", std::string(file).c_str());
  }
  return {};
}

Status CheckRevision(std::string_view revision) {
  return CheckPart(revision, "revision", revision);
}

std::string StoreFileName(std::string_view repo, std::string_view file) {
  std::string name;
  for (std::string_view part : {repo, file}) {
    for (std::string_view p : Split(part, '/')) {
      if (!name.empty()) name += "--";
      name += p;
    }
  }
  return name;
}

Result<ModelRef> ParseModelRef(std::string_view input, std::string_view endpoint,
                               std::string_view revision) {
  if (input.starts_with("http://") || input.starts_with("https://")) return UrlRef(input);
  if (input.starts_with("hf://")) {
    const std::string_view rest = input.substr(5);
    const std::vector<std::string_view> parts = Split(rest, '/');
    if (parts.size() < 3) {
      return Fail("'%s': expected hf://OWNER/REPO/FILE", std::string(input).c_str());
    }
    const std::string repo = std::string(parts[0]) + "/" + std::string(parts[1]);
    return HubRef(endpoint, repo, revision, Join(std::span(parts).subspan(2), "/"));
  }
  if (const ShortName* s = FindShortName(input))
    return HubRef(endpoint, s->repo, revision, s->file);
  return Fail(
      "'%s' is not a known model name, hf://OWNER/REPO/FILE or http(s) URL (`autan pull --list` "
      "shows the names)",
      std::string(input).c_str());
}

}  // namespace autan::hub
