#include "server/static_files.h"

#include "server/api_error.h"

namespace autan::server {
namespace {

constexpr std::string_view kIndex = "index.html";
constexpr std::string_view kAssetsDir = "assets/";

bool EtagListed(std::string_view if_none_match, std::string_view etag) {
  if (if_none_match == "*") return true;
  while (!if_none_match.empty()) {
    const size_t comma = if_none_match.find(',');
    std::string_view tag = if_none_match.substr(0, comma);
    while (!tag.empty() && tag.front() == ' ') tag.remove_prefix(1);
    while (!tag.empty() && tag.back() == ' ') tag.remove_suffix(1);
    if (tag.substr(0, 2) == "W/") tag.remove_prefix(2);  // weak comparison, as for GET
    if (tag == etag) return true;
    if_none_match =
        comma == std::string_view::npos ? std::string_view() : if_none_match.substr(comma + 1);
  }
  return false;
}

}  // namespace

void AddAppSecurityHeaders(HttpResponse& r) {
  r.headers.emplace_back("Content-Security-Policy", kAppContentSecurityPolicy);
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
}

const EmbeddedFile* FindEmbedded(std::span<const EmbeddedFile> files, std::string_view path) {
  for (const EmbeddedFile& f : files) {
    if (f.path == path) return &f;
  }
  return nullptr;
}

HttpResponse StaticResponse(std::span<const EmbeddedFile> files, const HttpRequest& request) {
  std::string_view path = request.path;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  const EmbeddedFile* file = path.empty() ? nullptr : FindEmbedded(files, path);
  if (file == nullptr) {
    // A missing asset is a 404: answering HTML where a script is expected
    // would only hide the mistake. Every other path is a page of the app.
    if (path.substr(0, kAssetsDir.size()) == kAssetsDir) {
      HttpResponse r = ErrorResponse(NotFound("no file /" + std::string(path), "not_found"));
      AddAppSecurityHeaders(r);
      return r;
    }
    file = FindEmbedded(files, kIndex);
  }
  HttpResponse r;
  AddAppSecurityHeaders(r);
  if (file == nullptr) {
    r = ErrorResponse(NotFound("the web app is not part of this build", "not_found"));
    AddAppSecurityHeaders(r);
    return r;
  }
  const bool immutable = file->path.substr(0, kAssetsDir.size()) == kAssetsDir;
  r.headers.emplace_back("Cache-Control",
                         immutable ? "public, max-age=31536000, immutable" : "no-cache");
  r.headers.emplace_back("ETag", std::string(file->etag));
  r.content_type = std::string(file->mime);
  if (EtagListed(request.Header("if-none-match"), file->etag)) {
    r.status = 304;
    return r;
  }
  r.body.assign(reinterpret_cast<const char*>(file->bytes.data()), file->bytes.size());
  return r;
}

}  // namespace autan::server
