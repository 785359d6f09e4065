// The pieces of a download that take the server's word: Content-Range and
// the digest in an ETag.
#include "hub/pull.h"

#include <gtest/gtest.h>

namespace autan::hub {
namespace {

TEST(ContentRange, Parses) {
  Result<ContentRange> r = ParseContentRange("bytes 100-999/1000");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->start, 100u);
  EXPECT_EQ(r->end, 999u);
  EXPECT_EQ(r->total, 1000u);
}

TEST(ContentRange, RefusesWhatIsNotAWellFormedRange) {
  for (const char* bad :
       {"", "bytes", "bytes */1000", "bytes 5-4/10", "bytes 0-10/10", "bytes 0-9/*", "items 0-9/10",
        "bytes -1-9/10", "bytes 0-9/10x", "bytes 0 -9/10",
        "bytes 0-99999999999999999999/100000000000000000000", "bytes 9/10-1"}) {
    EXPECT_FALSE(ParseContentRange(bad).ok()) << bad;
  }
}

TEST(Etag, Sha256FromLinkedEtag) {
  const std::string hex = "3a7bd3e2360a3d29eea436fcfb7e44c735d117c42d1c1835420b6b9942dd4f1b";
  EXPECT_EQ(Sha256FromEtag("\"" + hex + "\""), hex);
  EXPECT_EQ(Sha256FromEtag("W/\"" + hex + "\""), hex);
  std::string upper = hex;
  for (char& c : upper) c = static_cast<char>(std::toupper(c));
  EXPECT_EQ(Sha256FromEtag(upper), hex);
  // A git blob id (40 hex digits, what non-LFS files carry) is no SHA-256.
  EXPECT_EQ(Sha256FromEtag("\"e69de29bb2d1d6434b8b29ae775ad8c2e48c5391\""), "");
  EXPECT_EQ(Sha256FromEtag("\"" + hex.substr(0, 63) + "g\""), "");
  EXPECT_EQ(Sha256FromEtag(""), "");
}

// An entry of the hub's tree API as it lists an LFS file (captured shape:
// type, oid, size, path, lfs{oid, size, pointerSize}).
TEST(TreeListing, FindsTheLfsDigestOfThePath) {
  const std::string hex = "3a7bd3e2360a3d29eea436fcfb7e44c735d117c42d1c1835420b6b9942dd4f1b";
  const std::string listing =
      R"([{"type":"directory","oid":"1","size":0,"path":"sub/deeper"},)"
      R"({"type":"file","oid":"e69de29bb2d1d6434b8b29ae775ad8c2e48c5391","size":10,"path":"sub/README.md"},)"
      R"({"type":"file","oid":"2","size":4368438944,"path":"sub/m.gguf",)"
      R"("lfs":{"oid":")" +
      hex + R"(","size":4368438944,"pointerSize":135}}])";
  const ListedFile f = FindInTreeListing(listing, "sub/m.gguf");
  EXPECT_EQ(f.sha256, hex);
  EXPECT_EQ(f.size, 4368438944u);
  // A file without LFS (a git blob id), another path, not a listing.
  EXPECT_EQ(FindInTreeListing(listing, "sub/README.md").sha256, "");
  EXPECT_EQ(FindInTreeListing(listing, "m.gguf").sha256, "");
  EXPECT_EQ(FindInTreeListing(R"({"error":"Repository not found"})", "sub/m.gguf").sha256, "");
  EXPECT_EQ(FindInTreeListing("[{\"path\": 1e999999}]", "sub/m.gguf").sha256, "");
  EXPECT_EQ(FindInTreeListing("[", "sub/m.gguf").sha256, "");
  // A digest that is not 64 hex digits is no digest, and brings no size.
  const ListedFile bad =
      FindInTreeListing(R"([{"path":"m.gguf","lfs":{"oid":"abc","size":5}}])", "m.gguf");
  EXPECT_EQ(bad.sha256, "");
  EXPECT_EQ(bad.size, 0u);
}

TEST(Token, OnlyOnePrintableWordMayBeSent) {
  EXPECT_TRUE(CheckToken("hf_AbC123").ok());
  EXPECT_TRUE(CheckToken("").ok());  // no token: no header
  for (const char* bad : {"hf_a\r\nX-Evil: 1", "hf a", "hf_a\n", "hf_\x7f", "hf_\xc3\xa9"}) {
    Status s = CheckToken(bad);
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_EQ(s.error().message.find("hf_"), std::string::npos) << s.error().message;
  }
}

}  // namespace
}  // namespace autan::hub
