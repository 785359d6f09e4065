// What `autan pull` accepts and the store names it derives: every input that
// could name a path outside the store is refused.
#include "hub/model_ref.h"

#include <gtest/gtest.h>

#include <set>

namespace autan::hub {
namespace {

constexpr const char* kHub = "https://huggingface.co";

TEST(ModelRef, ShortNameMapsToItsRepositoryFile) {
  Result<ModelRef> ref = ParseModelRef("mistral-7b-instruct", kHub);
  ASSERT_TRUE(ref.ok()) << ref.error().message;
  EXPECT_EQ(ref->repo, "bartowski/Mistral-7B-Instruct-v0.3-GGUF");
  EXPECT_EQ(ref->file, "Mistral-7B-Instruct-v0.3-Q4_K_M.gguf");
  EXPECT_EQ(ref->url,
            "https://huggingface.co/bartowski/Mistral-7B-Instruct-v0.3-GGUF/resolve/main/"
            "Mistral-7B-Instruct-v0.3-Q4_K_M.gguf");
  EXPECT_EQ(ref->store_name,
            "bartowski--Mistral-7B-Instruct-v0.3-GGUF--Mistral-7B-Instruct-v0.3-Q4_K_M.gguf");
}

TEST(ModelRef, TheIssuesNamesExistAndEveryEntryIsValid) {
  for (const char* name : {"mistral-7b-instruct", "mistral-nemo", "mixtral-8x7b"}) {
    EXPECT_NE(FindShortName(name), nullptr) << name;
  }
  std::set<std::string_view> names;
  for (const ShortName& s : ShortNames()) {
    EXPECT_TRUE(names.insert(s.name).second) << "duplicate " << s.name;
    EXPECT_TRUE(CheckRepoId(s.repo).ok()) << s.repo;
    EXPECT_TRUE(CheckRepoFile(s.file).ok()) << s.file;
  }
}

TEST(ModelRef, EndpointAndRevisionAreUsed) {
  Result<ModelRef> ref = ParseModelRef("mistral-nemo", "http://127.0.0.1:8123", "v2");
  ASSERT_TRUE(ref.ok()) << ref.error().message;
  EXPECT_EQ(ref->url,
            "http://127.0.0.1:8123/bartowski/Mistral-Nemo-Instruct-2407-GGUF/resolve/v2/"
            "Mistral-Nemo-Instruct-2407-Q4_K_M.gguf");
}

TEST(ModelRef, HfSchemeWithASubfolder) {
  Result<ModelRef> ref = ParseModelRef("hf://owner/repo/q4/model.gguf", kHub);
  ASSERT_TRUE(ref.ok()) << ref.error().message;
  EXPECT_EQ(ref->repo, "owner/repo");
  EXPECT_EQ(ref->file, "q4/model.gguf");
  EXPECT_EQ(ref->url, "https://huggingface.co/owner/repo/resolve/main/q4/model.gguf");
  EXPECT_EQ(ref->store_name, "owner--repo--q4--model.gguf");
}

TEST(ModelRef, ResolveAndBlobUrlsAreHubFiles) {
  Result<ModelRef> ref =
      ParseModelRef("https://HuggingFace.co/a/b/resolve/0123abc/x.gguf?download=true", kHub);
  ASSERT_TRUE(ref.ok()) << ref.error().message;
  EXPECT_EQ(ref->repo, "a/b");
  EXPECT_EQ(ref->revision, "0123abc");
  EXPECT_EQ(ref->url, "https://huggingface.co/a/b/resolve/0123abc/x.gguf");
  EXPECT_EQ(ref->store_name, "a--b--x.gguf");
  Result<ModelRef> blob = ParseModelRef("https://huggingface.co/a/b/blob/main/x.gguf", kHub);
  ASSERT_TRUE(blob.ok()) << blob.error().message;
  EXPECT_EQ(blob->url, "https://huggingface.co/a/b/resolve/main/x.gguf");
}

TEST(ModelRef, PlainUrlKeepsItsQueryAndIsNamedByItsLastSegment) {
  Result<ModelRef> ref = ParseModelRef("https://example.org/files/m.gguf?sig=1", kHub);
  ASSERT_TRUE(ref.ok()) << ref.error().message;
  EXPECT_EQ(ref->repo, "");
  EXPECT_EQ(ref->url, "https://example.org/files/m.gguf?sig=1");
  EXPECT_EQ(ref->store_name, "m.gguf");
}

TEST(ModelRef, TraversalAndOddNamesAreRefused) {
  const char* bad[] = {
      "hf://owner/repo/../../etc/passwd.gguf",
      "hf://owner/repo/..gguf",
      "hf://../repo/x.gguf",
      "hf://owner/../x.gguf",
      "hf://owner/repo/.hidden.gguf",
      "hf://owner/repo/-rf.gguf",
      "hf://owner/repo/a//b.gguf",
      "hf://owner/repo/a\\b.gguf",
      "hf://owner/repo/x.gguf/",
      "hf://own--er/repo/x.gguf",
      "hf://owner/repo/notes.txt",
      "hf://owner/repo",
      "https://huggingface.co/a/b/resolve/main/%2e%2e/%2e%2e/x.gguf",
      "https://huggingface.co/a/b/resolve/main/sub%2f..%2f..%2fx.gguf",
      "https://huggingface.co/a/b/resolve/..%2f..%2f/x.gguf",
      "https://example.org/%2e%2e",
      "https://example.org/",
      "http://example.org/x.gguf",  // plain http off this machine
      "http://127.0.0.1.evil.org/x.gguf",
      "https://user:pw@example.org/x.gguf",
      "ftp://example.org/x.gguf",
      "file:///etc/passwd",
      "no-such-model",
      "/etc/passwd",
  };
  for (const char* input : bad) {
    Result<ModelRef> ref = ParseModelRef(input, kHub);
    EXPECT_FALSE(ref.ok()) << input << " -> " << (ref.ok() ? ref->store_name : "");
  }
}

TEST(ModelRef, StoreNamesNeverLeaveTheStore) {
  // Whatever is accepted maps to one flat name of safe characters.
  const char* good[] = {"hf://a/b/c/d/e.gguf",
                        "https://huggingface.co/a.b/c_d/resolve/main/e-f.gguf",
                        "http://127.0.0.1:9/x/y/resolve/r/z.gguf", "http://[::1]:9/m.gguf"};
  for (const char* input : good) {
    Result<ModelRef> ref = ParseModelRef(input, kHub);
    ASSERT_TRUE(ref.ok()) << input << ": " << ref.error().message;
    EXPECT_EQ(ref->store_name.find('/'), std::string::npos) << input;
    EXPECT_NE(ref->store_name.front(), '.') << input;
    EXPECT_EQ(ref->store_name.find(".."), std::string::npos) << input;
  }
}

TEST(Origin, PlainHttpOnlyToLoopback) {
  EXPECT_TRUE(IsLoopbackHost("127.0.0.1"));
  EXPECT_TRUE(IsLoopbackHost("127.255.3.4"));
  EXPECT_TRUE(IsLoopbackHost("localhost"));
  EXPECT_TRUE(IsLoopbackHost("::1"));
  EXPECT_FALSE(IsLoopbackHost("127.0.0.1.nip.io"));
  EXPECT_FALSE(IsLoopbackHost("127.0.0.256"));
  EXPECT_FALSE(IsLoopbackHost("10.0.0.1"));
  Result<Origin> o = ParseOrigin("http://[::1]:8080/x");
  ASSERT_TRUE(o.ok()) << o.error().message;
  EXPECT_EQ(o->host, "::1");
  EXPECT_EQ(o->port, 8080);
  Result<Origin> https = ParseOrigin("https://HuggingFace.co/x");
  ASSERT_TRUE(https.ok());
  EXPECT_EQ(https->host, "huggingface.co");
  EXPECT_EQ(https->port, 443);
  EXPECT_FALSE(ParseOrigin("http://192.168.1.2/x").ok());
}

TEST(Origin, TokenHostComparisonSeesPortAndScheme) {
  EXPECT_EQ(*ParseOrigin("https://huggingface.co/a"), *ParseOrigin("https://huggingface.co:443/b"));
  EXPECT_FALSE(*ParseOrigin("http://127.0.0.1:1/a") == *ParseOrigin("http://127.0.0.1:2/a"));
  EXPECT_FALSE(*ParseOrigin("https://huggingface.co/a") == *ParseOrigin("https://cdn.hf.co/a"));
}

TEST(Endpoint, TrailingSlashDroppedPathRefused) {
  Result<std::string> e = CheckEndpoint("http://127.0.0.1:5000/");
  ASSERT_TRUE(e.ok()) << e.error().message;
  EXPECT_EQ(*e, "http://127.0.0.1:5000");
  EXPECT_EQ(*CheckEndpoint("https://huggingface.co"), "https://huggingface.co");
  EXPECT_FALSE(CheckEndpoint("https://mirror.example/hf").ok());
  EXPECT_FALSE(CheckEndpoint("http://mirror.example").ok());
  EXPECT_FALSE(CheckEndpoint("huggingface.co").ok());
}

}  // namespace
}  // namespace autan::hub
