// Splitting text on special-token spellings before the merges run, the way
// llama.cpp's tokenizer_st_partition does. Internal to the tokenizer library.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace autan::tokenizer_internal {

// A piece of the input: raw text to tokenize, or one special token.
struct Fragment {
  int32_t token = -1;  // -1: raw text
  size_t begin = 0;    // raw text: byte range in the input
  size_t size = 0;
};

class SpecialTokenSplitter {
 public:
  struct Entry {
    int32_t id;
    std::string text;
    bool always;  // user-defined: split even when special tokens are not parsed
  };
  SpecialTokenSplitter() = default;
  // `entries` in the order they are applied: longest text first.
  explicit SpecialTokenSplitter(std::vector<Entry> entries);

  // Each entry in turn cuts every remaining raw fragment at its occurrences
  // (left to right, not overlapping); so a longer spelling wins over a shorter
  // one wherever both could match.
  std::vector<Fragment> Split(std::string_view text, bool parse_special) const;

 private:
  struct Node {
    std::vector<std::pair<uint8_t, int32_t>> edges;  // byte -> child, sorted
    int32_t entry = -1;  // index into entries_ when a spelling ends here
  };
  int32_t Child(int32_t node, uint8_t byte) const;
  // Marks which entries occur anywhere in `text` (only those can split it).
  std::vector<bool> Occurring(std::string_view text) const;

  std::vector<Entry> entries_;
  std::vector<Node> trie_;
};

}  // namespace autan::tokenizer_internal
