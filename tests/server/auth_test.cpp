#include "server/auth.h"

#include <gtest/gtest.h>

#include <string>

#include "server/sha256.h"

namespace autan::server {
namespace {

// FIPS 180-4 / NIST CAVP example digests.
TEST(Sha256, MatchesNistVectors) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(Sha256Hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, HandlesEveryTailLength) {
  // Lengths around the one- and two-block padding boundary, checked against
  // sha256sum's digests of 'a' * n.
  EXPECT_EQ(Sha256Hex(std::string(55, 'a')),
            "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
  EXPECT_EQ(Sha256Hex(std::string(56, 'a')),
            "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
  EXPECT_EQ(Sha256Hex(std::string(64, 'a')),
            "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
}

TEST(ApiKeys, AcceptsListedKeysOnly) {
  const std::string file =
      "# team keys\n" + KeyFileLine("sk-alpha") + "  alpha\n\n" + KeyFileLine("sk-beta") + "\r\n";
  Result<ApiKeys> keys = ApiKeys::Parse(file, "keys.txt");
  ASSERT_TRUE(keys.ok()) << keys.error().message;
  EXPECT_EQ(keys->size(), 2u);
  EXPECT_TRUE(keys->Check("Bearer sk-alpha"));
  EXPECT_TRUE(keys->Check("bearer sk-beta"));
  EXPECT_FALSE(keys->Check("Bearer sk-gamma"));
  EXPECT_FALSE(keys->Check("Bearer sk-alph"));
  EXPECT_FALSE(keys->Check("sk-alpha"));
  EXPECT_FALSE(keys->Check("Bearer "));
  EXPECT_FALSE(keys->Check(""));
  EXPECT_FALSE(keys->Check("Basic sk-alpha"));
}

TEST(ApiKeys, RejectsMalformedLinesByNumber) {
  Result<ApiKeys> keys = ApiKeys::Parse(KeyFileLine("a") + "\nsk-plaintext-key\n", "keys.txt");
  ASSERT_FALSE(keys.ok());
  EXPECT_NE(keys.error().message.find("keys.txt:2"), std::string::npos) << keys.error().message;
  EXPECT_FALSE(ApiKeys::Parse("# only a comment\n", "k").ok());
  EXPECT_FALSE(ApiKeys::Parse(std::string(63, 'a'), "k").ok());
  EXPECT_FALSE(ApiKeys::Parse(std::string(64, 'g'), "k").ok());
}

TEST(ApiKeys, LabelsAndPerKeyLimits) {
  const std::string file = KeyFileLine("sk-a") + "  ci pipeline  rpm=60 tpm=100000\n" +
                           KeyFileLine("sk-b") + "\ttpm=0\n" + KeyFileLine("sk-c") + "\n";
  Result<ApiKeys> keys = ApiKeys::Parse(file, "keys.txt");
  ASSERT_TRUE(keys.ok()) << keys.error().message;
  ASSERT_EQ(keys->size(), 3u);
  EXPECT_EQ(keys->Find("Bearer sk-a"), 0u);
  EXPECT_EQ(keys->Find("Bearer sk-b"), 1u);
  EXPECT_EQ(keys->Find("Bearer sk-c"), 2u);
  EXPECT_EQ(keys->Find("Bearer sk-d"), std::nullopt);
  EXPECT_EQ(keys->key(0).label, "ci pipeline");
  EXPECT_EQ(keys->key(0).limits.rpm, 60);
  EXPECT_EQ(keys->key(0).limits.tpm, 100000);
  EXPECT_EQ(keys->key(1).label, "");
  EXPECT_EQ(keys->key(1).limits.rpm, std::nullopt);  // the server's default
  EXPECT_EQ(keys->key(1).limits.tpm, 0);             // explicitly unlimited
  EXPECT_EQ(keys->key(2).limits.rpm, std::nullopt);

  // The last: a long value that once overflowed while it was read (found by fuzzing).
  for (const char* bad : {"rpm=", "rpm=-1", "tpm=1e6", "rpm=12x", "tpm=9999999999999999",
                          "tpm=100:80800000000000000000000000000000000000000000"}) {
    Result<ApiKeys> k = ApiKeys::Parse("# x\n" + KeyFileLine("sk-a") + " " + bad + "\n", "k.txt");
    ASSERT_FALSE(k.ok()) << bad;
    EXPECT_NE(k.error().message.find("k.txt:2"), std::string::npos) << k.error().message;
    EXPECT_NE(k.error().message.find(bad), std::string::npos) << k.error().message;
  }
}

TEST(Auth, LoopbackHosts) {
  EXPECT_TRUE(IsLoopbackHost("127.0.0.1"));
  EXPECT_TRUE(IsLoopbackHost("127.1.2.3"));
  EXPECT_TRUE(IsLoopbackHost("localhost"));
  EXPECT_TRUE(IsLoopbackHost("::1"));
  EXPECT_FALSE(IsLoopbackHost("0.0.0.0"));
  EXPECT_FALSE(IsLoopbackHost("::"));
  EXPECT_FALSE(IsLoopbackHost("10.0.0.1"));
  EXPECT_FALSE(IsLoopbackHost("127.0.0.1.example.com"));
}

}  // namespace
}  // namespace autan::server
