// The embedded app: table contents against the fixture files on disk, and
// the headers and answers of StaticResponse.
#include "server/static_files.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "core/sha256.h"

namespace autan::server {
std::span<const EmbeddedFile> TestWebFiles();  // generated from tests/server/web_fixture
namespace {

const std::string kFixture = std::string(AUTAN_SOURCE_DIR) + "/tests/server/web_fixture/";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string Header(const HttpResponse& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

HttpResponse Get(const std::string& path, const std::string& if_none_match = "") {
  HttpRequest req;
  req.method = "GET";
  req.path = path;
  if (!if_none_match.empty()) req.headers.emplace_back("if-none-match", if_none_match);
  return StaticResponse(TestWebFiles(), req);
}

TEST(StaticFiles, TableHoldsEveryFixtureFileWithItsBytesTypeAndHash) {
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"assets/app-1a2b3c4d.js", "text/javascript; charset=utf-8"},
      {"assets/style-5e6f7a8b.css", "text/css; charset=utf-8"},
      {"favicon.svg", "image/svg+xml"},
      {"index.html", "text/html; charset=utf-8"}};
  ASSERT_EQ(TestWebFiles().size(), expected.size());
  for (const auto& [path, mime] : expected) {
    const EmbeddedFile* f = FindEmbedded(TestWebFiles(), path);
    ASSERT_NE(f, nullptr) << path;
    const std::string bytes = ReadFile(kFixture + path);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(f->bytes.data()), f->bytes.size()), bytes);
    EXPECT_EQ(f->mime, mime);
    EXPECT_EQ(f->etag, "\"" + Sha256Hex(bytes).substr(0, 32) + "\"");
  }
}

TEST(StaticFiles, AssetsAreImmutableAndIndexIsRevalidated) {
  HttpResponse js = Get("/assets/app-1a2b3c4d.js");
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(Header(js, "Cache-Control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(js.body, ReadFile(kFixture + "assets/app-1a2b3c4d.js"));
  HttpResponse index = Get("/");
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(Header(index, "Cache-Control"), "no-cache");
  EXPECT_EQ(index.body, ReadFile(kFixture + "index.html"));
  for (const HttpResponse* r : {&js, &index}) {
    EXPECT_EQ(Header(*r, "Content-Security-Policy"), kAppContentSecurityPolicy);
    EXPECT_EQ(Header(*r, "X-Content-Type-Options"), "nosniff");
    EXPECT_EQ(Header(*r, "Referrer-Policy"), "no-referrer");
  }
}

TEST(StaticFiles, UnknownPagesGetTheIndexAndUnknownAssetsA404) {
  const std::string index = ReadFile(kFixture + "index.html");
  for (const char* path : {"/chat/123", "/settings", "/../../etc/passwd", "/..%2f..%2fetc/passwd",
                           "/index.html/../favicon.svg", "//etc/passwd"}) {
    HttpResponse r = Get(path);
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_EQ(r.body, index) << path;
  }
  for (const char* path : {"/assets/missing.js", "/assets/../index.html"}) {
    HttpResponse r = Get(path);
    EXPECT_EQ(r.status, 404) << path;
    EXPECT_EQ(Header(r, "Content-Security-Policy"), kAppContentSecurityPolicy);
  }
}

TEST(StaticFiles, MatchingEtagGives304WithoutBody) {
  const std::string etag = std::string(FindEmbedded(TestWebFiles(), "favicon.svg")->etag);
  HttpResponse same = Get("/favicon.svg", "\"other\", " + etag);
  EXPECT_EQ(same.status, 304);
  EXPECT_TRUE(same.body.empty());
  EXPECT_EQ(Header(same, "ETag"), etag);
  EXPECT_EQ(Get("/favicon.svg", "W/" + etag).status, 304);
  EXPECT_EQ(Get("/favicon.svg", "\"stale\"").status, 200);
}

}  // namespace
}  // namespace autan::server
