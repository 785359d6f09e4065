#include "tokenizer/special.h"

#include <algorithm>
#include <utility>

namespace autan::tokenizer_internal {

SpecialTokenSplitter::SpecialTokenSplitter(std::vector<Entry> entries)
    : entries_(std::move(entries)) {
  trie_.emplace_back();
  for (size_t e = 0; e < entries_.size(); ++e) {
    int32_t node = 0;
    for (const char c : entries_[e].text) {
      const auto byte = static_cast<uint8_t>(c);
      int32_t child = Child(node, byte);
      if (child < 0) {
        child = static_cast<int32_t>(trie_.size());
        trie_.emplace_back();  // may move trie_; index again below
        auto& edges = trie_[node].edges;
        const auto at = std::lower_bound(edges.begin(), edges.end(), std::make_pair(byte, 0));
        edges.insert(at, {byte, child});
      }
      node = child;
    }
    // Duplicate spellings cannot happen (token texts are unique); keep the first.
    if (trie_[node].entry < 0) trie_[node].entry = static_cast<int32_t>(e);
  }
}

int32_t SpecialTokenSplitter::Child(int32_t node, uint8_t byte) const {
  const auto& edges = trie_[node].edges;
  const auto at = std::lower_bound(edges.begin(), edges.end(), std::make_pair(byte, 0));
  return at != edges.end() && at->first == byte ? at->second : -1;
}

std::vector<bool> SpecialTokenSplitter::Occurring(std::string_view text) const {
  std::vector<bool> found(entries_.size(), false);
  for (size_t start = 0; start < text.size(); ++start) {
    int32_t node = 0;
    for (size_t i = start; i < text.size(); ++i) {
      node = Child(node, static_cast<uint8_t>(text[i]));
      if (node < 0) break;
      if (trie_[node].entry >= 0) found[trie_[node].entry] = true;
    }
  }
  return found;
}

std::vector<Fragment> SpecialTokenSplitter::Split(std::string_view text, bool parse_special) const {
  std::vector<Fragment> fragments;
  if (text.empty()) return fragments;
  fragments.push_back({-1, 0, text.size()});
  if (entries_.empty()) return fragments;

  const std::vector<bool> occurring = Occurring(text);
  std::vector<Fragment> next;
  for (size_t e = 0; e < entries_.size(); ++e) {
    const Entry& entry = entries_[e];
    if (!occurring[e] || !(parse_special || entry.always)) continue;
    next.clear();
    for (const Fragment& fragment : fragments) {
      if (fragment.token >= 0) {
        next.push_back(fragment);
        continue;
      }
      const std::string_view raw = text.substr(fragment.begin, fragment.size);
      size_t pos = 0;
      for (size_t hit = raw.find(entry.text); hit != std::string_view::npos;
           hit = raw.find(entry.text, pos)) {
        if (hit > pos) next.push_back({-1, fragment.begin + pos, hit - pos});
        next.push_back({entry.id, 0, 0});
        pos = hit + entry.text.size();
      }
      if (pos < raw.size()) next.push_back({-1, fragment.begin + pos, raw.size() - pos});
    }
    fragments.swap(next);
  }
  return fragments;
}

}  // namespace autan::tokenizer_internal
