// Argon2id hashes checked against the reference `argon2` command-line tool
// (Debian package argon2), given the same password, salt and parameters.
#include "store/password.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "store_test_util.h"

namespace autan::store {
namespace {

// Runs `printf %s PASSWORD | argon2 SALT -id ... -e`; the password and salt
// must not hold single quotes.
std::string ReferenceHash(const std::string& password, const std::string& salt,
                          const PasswordParams& p) {
  const std::string command = "printf %s '" + password + "' | argon2 '" + salt + "' -id -t " +
                              std::to_string(p.iterations) + " -k " + std::to_string(p.memory_kib) +
                              " -p " + std::to_string(p.parallelism) + " -l 32 -e 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return "popen failed";
  std::string out;
  char buffer[256];
  while (std::fgets(buffer, sizeof(buffer), pipe) != nullptr) out += buffer;
  const int status = pclose(pipe);
  if (status != 0) {
    ADD_FAILURE() << "`argon2` failed (install the argon2 package: scripts/setup.sh): " << out;
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

struct Case {
  std::string password;
  std::string salt;
  PasswordParams params;
};

TEST(Password, MatchesTheReferenceImplementation) {
  const Case cases[] = {
      {"correct horse battery", "somesaltsomesalt", {2, 64, 1}},
      {"p", "saltsalt", {1, 8, 1}},
      {"mot de passe été 🔑", "0123456789abcdef0123", {3, 256, 2}},
      {std::string(120, 'x'), "another salt!", {1, 1024, 4}},  // the tool takes up to 127
      {"defaults", "sixteen byte sal", PasswordParams{}},      // t=3, 64 MiB: the shipped cost
  };
  for (const Case& c : cases) {
    Result<std::string> ours = HashPasswordWithSalt(c.password, c.salt, c.params);
    ASSERT_TRUE(ours.ok()) << ours.error().message;
    const std::string reference = ReferenceHash(c.password, c.salt, c.params);
    EXPECT_EQ(*ours, reference) << "password '" << c.password << "'";
    EXPECT_TRUE(VerifyPassword(reference, c.password));
    EXPECT_FALSE(VerifyPassword(reference, c.password + "!"));
  }
}

TEST(Password, RandomSaltsDifferAndVerify) {
  const PasswordParams params = testing::TinyPasswordParams();
  Result<std::string> a = HashPassword("hunter2hunter2", params);
  Result<std::string> b = HashPassword("hunter2hunter2", params);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
  EXPECT_TRUE(a->starts_with("$argon2id$v=19$m=64,t=1,p=1$")) << *a;
  EXPECT_TRUE(VerifyPassword(*a, "hunter2hunter2"));
  EXPECT_TRUE(VerifyPassword(*b, "hunter2hunter2"));
  EXPECT_FALSE(VerifyPassword(*a, "hunter2hunter3"));
  EXPECT_FALSE(VerifyPassword(*a, ""));
}

TEST(Password, RejectsWhatIsNotAnArgon2idHash) {
  EXPECT_FALSE(VerifyPassword("", "x"));
  EXPECT_FALSE(VerifyPassword("plaintext", "plaintext"));
  // An argon2i hash of the same password: only argon2id is accepted.
  EXPECT_FALSE(VerifyPassword("$argon2i$v=19$m=64,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$AAAA", "p"));
  EXPECT_FALSE(VerifyPassword("$argon2id$v=19$m=64,t=2,p=1$garbage", "p"));
}

TEST(Password, ValidatesParameters) {
  EXPECT_FALSE((PasswordParams{0, 64, 1}).Validate().ok());
  EXPECT_FALSE((PasswordParams{1, 7, 1}).Validate().ok());
  EXPECT_FALSE((PasswordParams{1, 16, 4}).Validate().ok());  // m >= 8 p
  EXPECT_FALSE((PasswordParams{1, 64, 0}).Validate().ok());
  EXPECT_TRUE((PasswordParams{1, 32, 4}).Validate().ok());
  Result<std::string> short_salt = HashPasswordWithSalt("pw", "short", {1, 64, 1});
  ASSERT_FALSE(short_salt.ok());
  EXPECT_NE(short_salt.error().message.find("salt"), std::string::npos);
  Result<std::string> huge = HashPassword(std::string(kMaxPasswordLength + 1, 'a'), {1, 64, 1});
  EXPECT_FALSE(huge.ok());
}

}  // namespace
}  // namespace autan::store
