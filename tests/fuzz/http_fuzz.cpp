// The HTTP pieces autan parses itself (Boost.Beast does the framing): the
// request target (path decoding, query values), the Cookie header, the
// Origin and CSRF checks, Authorization against the API keys file (and the
// keys file itself), the host check, the route table and the embedded static
// files. Input: "what\n----\nfirst\n----\nsecond".
#include <cstdint>
#include <cstdlib>
#include <string>

#include "fuzz_util.h"
#include "server/app_security.h"
#include "server/auth.h"
#include "server/router.h"
#include "server/static_files.h"
#include "server/url.h"

namespace autan::fuzz {
namespace {

using namespace autan::server;

const Router& Routes() {
  static const Router router = [] {
    Router r;
    const RouteHandler none = [](const HttpRequest&, const std::string&,
                                 const std::shared_ptr<Exchange>&) {};
    for (const char* p : {"/", "/health", "/v1/models", "/v1/chat/completions", "/tokenize"}) {
      r.Add("GET", p, none);
      r.Add("POST", p, none);
    }
    r.Add("GET", "/v1/models/{id}", none);
    return r;
  }();
  return router;
}

// A small app: an index, an asset and a nested file.
std::span<const EmbeddedFile> Files() {
  static const unsigned char kIndex[] = "<!doctype html>";
  static const unsigned char kAsset[] = "console.log(1)";
  static const EmbeddedFile kFiles[] = {
      {"index.html", "text/html", "\"i1\"", kIndex},
      {"assets/app-1a2b.js", "text/javascript", "\"a1\"", kAsset},
      {"favicon.svg", "image/svg+xml", "\"f1\"", kAsset},
  };
  return kFiles;
}

void Target(std::string_view target) {
  std::string path, query;
  SplitTarget(target, path, query);
  if (path.size() > target.size()) std::abort();  // decoding never grows a path
  for (const char* name : {"q", "", "a b"}) {
    std::optional<std::string> v = QueryValue(query, name);
    if (v && v->size() > query.size()) std::abort();
  }
  const Router::Match m = Routes().Find("GET", path);
  if (m.handler == nullptr && !m.error) std::abort();  // a route or an error, always
  HttpRequest req;
  req.method = "GET";
  req.path = path;
  req.query = query;
  (void)StaticResponse(Files(), req);
}

void Headers(std::string_view a, std::string_view b) {
  (void)CookieValue(a, kSessionCookie);
  (void)CookieValue(a, b);
  (void)OriginAllowed(a, b);
  if (CsrfMatches(a, b) != (!b.empty() && a == b)) std::abort();  // never an empty token
  (void)IsLoopbackHost(a);
  HttpRequest req;
  req.method = "GET";
  req.path = std::string(a);
  req.headers.emplace_back("if-none-match", std::string(b));
  (void)StaticResponse(Files(), req);
}

void Keys(std::string_view file, std::string_view authorization) {
  Result<ApiKeys> keys = ApiKeys::Parse(file, "fuzz.keys");
  if (!keys.ok()) return CheckMessage(keys.error());
  const std::optional<size_t> k = keys->Find(authorization);
  if (k && *k >= keys->size()) std::abort();
}

}  // namespace
}  // namespace autan::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace autan;
  const std::vector<std::string_view> parts = fuzz::SplitParts(fuzz::AsText(data, size), 3);
  if (parts.size() < 2) return 0;
  const std::string_view b = parts.size() > 2 ? parts[2] : std::string_view();
  if (parts[0] == "target") {
    fuzz::Target(parts[1]);
  } else if (parts[0] == "headers") {
    fuzz::Headers(parts[1], b);
  } else if (parts[0] == "keys") {
    fuzz::Keys(parts[1], b);
  }
  return 0;
}
