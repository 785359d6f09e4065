// What the fuzz targets share: splitting one input into parts, and the paths
// of the files they load once (vocabularies, templates, the seed model).
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace autan::fuzz {

// Parts of an input are separated by this line, so seeds stay readable
// ("template\n----\n{json}"); the dictionaries carry it too.
inline constexpr std::string_view kSeparator = "\n----\n";

inline std::string_view AsText(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// The first `n - 1` separators cut `text` into at most `n` parts.
inline std::vector<std::string_view> SplitParts(std::string_view text, size_t n) {
  std::vector<std::string_view> parts;
  while (parts.size() + 1 < n) {
    const size_t at = text.find(kSeparator);
    if (at == std::string_view::npos) break;
    parts.push_back(text.substr(0, at));
    text.remove_prefix(at + kSeparator.size());
  }
  parts.push_back(text);
  return parts;
}

// Files next to the sources; set at build time, overridable (AUTAN_TESTDATA,
// AUTAN_FUZZ_DIR) when the binary runs elsewhere.
inline std::string DirFromEnv(const char* name, const char* built_in) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : built_in;
}
inline std::string TestDataPath(const std::string& relative) {
  return DirFromEnv("AUTAN_TESTDATA", AUTAN_TESTDATA) + "/" + relative;
}
inline std::string FuzzDirPath(const std::string& relative) {
  return DirFromEnv("AUTAN_FUZZ_DIR", AUTAN_FUZZ_DIR) + "/" + relative;
}

// Setup that must work (a missing vocabulary is a broken build, not a finding).
template <typename T>
T MustHave(Result<T> r, const char* what) {
  if (!r.ok()) {
    std::fprintf(stderr, "fuzz setup: %s: %s\n", what, r.error().message.c_str());
    std::abort();
  }
  return std::move(r).value();
}

// Every error must say what went wrong (the design's "errors, not crashes"
// asks for a message naming the problem); an empty one is a finding.
inline void CheckMessage(const Error& e) {
  if (e.message.empty()) {
    std::fprintf(stderr, "an error without a message\n");
    std::abort();
  }
}

}  // namespace autan::fuzz
