// Where the store is and how -m NAME finds a pulled model.
#include "hub/model_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "hub/model_ref.h"

namespace autan::hub {
namespace {

TEST(StoreDir, EnvironmentOrder) {
  EXPECT_EQ(*StoreDir({.models_dir = "/m", .xdg_cache = "/x", .home = "/h"}), "/m");
  EXPECT_EQ(*StoreDir({.xdg_cache = "/x", .home = "/h"}), "/x/autan/models");
  EXPECT_EQ(*StoreDir({.xdg_cache = "relative", .home = "/h"}), "/h/.cache/autan/models");
  EXPECT_FALSE(StoreDir({}).ok());
}

class ResolveTest : public testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/autan-store-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    env_.models_dir = dir_;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void Touch(const std::string& name) { std::ofstream(dir_ + "/" + name) << "x"; }

  std::string dir_;
  HubEnv env_;
};

TEST_F(ResolveTest, ShortNameFindsItsPulledFile) {
  const ShortName* s = FindShortName("mistral-nemo");
  ASSERT_NE(s, nullptr);
  Result<std::string> missing = ResolveModelArg("mistral-nemo", env_);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("autan pull mistral-nemo"), std::string::npos)
      << missing.error().message;
  Touch(StoreFileName(s->repo, s->file));
  Result<std::string> found = ResolveModelArg("mistral-nemo", env_);
  ASSERT_TRUE(found.ok()) << found.error().message;
  EXPECT_EQ(*found, dir_ + "/" + StoreFileName(s->repo, s->file));
}

TEST_F(ResolveTest, StoredNamesWithOrWithoutExtension) {
  Touch("a--b--c.gguf");
  EXPECT_EQ(*ResolveModelArg("a--b--c.gguf", env_), dir_ + "/a--b--c.gguf");
  EXPECT_EQ(*ResolveModelArg("a--b--c", env_), dir_ + "/a--b--c.gguf");
  EXPECT_EQ(*ResolveModelArg("hf://a/b/c.gguf", env_), dir_ + "/a--b--c.gguf");
  EXPECT_FALSE(ResolveModelArg("nothing-here", env_).ok());
}

TEST_F(ResolveTest, ExistingPathsWinAndOthersPassThrough) {
  Touch("x.gguf");
  const std::string path = dir_ + "/x.gguf";
  EXPECT_EQ(*ResolveModelArg(path, env_), path);
  // Not a name: left for the loader to report as a missing file.
  EXPECT_EQ(*ResolveModelArg("/no/such/file.gguf", env_), "/no/such/file.gguf");
  EXPECT_EQ(*ResolveModelArg("missing.gguf", env_), "missing.gguf");
  // A name never reaches outside the store.
  EXPECT_EQ(*ResolveModelArg("../x", env_), "../x");
}

TEST_F(ResolveTest, ListShowsModelsAndPartialDownloads) {
  Touch("b.gguf");
  Touch("a.gguf.part");
  Touch("notes.txt");
  const std::vector<StoredModel> list = ListStore(dir_);
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].name, "a.gguf.part");
  EXPECT_TRUE(list[0].partial);
  EXPECT_EQ(list[1].name, "b.gguf");
  EXPECT_EQ(list[1].bytes, 1u);
  EXPECT_TRUE(ListStore(dir_ + "/none").empty());
}

}  // namespace
}  // namespace autan::hub
