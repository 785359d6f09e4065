// The chat web app's files, compiled into the binary (cmake/embed_web.cmake
// generates the table from web/dist), and how they are served: looked up by
// exact path in the table, so no request can reach the file system.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include "server/http_types.h"

namespace autan::server {

struct EmbeddedFile {
  std::string_view path;  // "index.html", "assets/index-3f2a1b.js" (no leading '/')
  std::string_view mime;
  std::string_view etag;  // quoted, from the file's SHA-256
  std::span<const unsigned char> bytes;
};

// The web app (generated source).
std::span<const EmbeddedFile> WebAppFiles();

// The policy every app response carries: only this origin's scripts, styles
// and connections; no plugins, no framing.
inline constexpr char kAppContentSecurityPolicy[] =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'";

// The file with exactly this table path, or null.
const EmbeddedFile* FindEmbedded(std::span<const EmbeddedFile> files, std::string_view path);

// The response to GET `request.path`: the file, index.html for paths the
// client-side router owns, 404 for a missing asset, 304 when If-None-Match
// names the current ETag. Always with the CSP and hardening headers.
HttpResponse StaticResponse(std::span<const EmbeddedFile> files, const HttpRequest& request);

// Content-Security-Policy, nosniff, no-referrer.
void AddAppSecurityHeaders(HttpResponse& response);

}  // namespace autan::server
