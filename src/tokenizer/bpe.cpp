// Byte-level BPE of one word, as llama.cpp's llm_tokenizer_bpe_session.
#include <algorithm>
#include <cstring>
#include <queue>

#include "tokenizer/merge.h"
#include "tokenizer/unicode.h"

namespace autan::tokenizer_internal {

namespace {

struct Symbol {
  int prev;
  int next;
  size_t begin;  // byte offset into the word
  size_t size;   // 0 once merged into its left neighbour
};

struct Bigram {
  int left;
  int right;
  int32_t rank;
  size_t size;  // bytes of the merged text when queued; detects stale entries
};

// Lowest rank first; on equal ranks the leftmost pair.
struct BigramOrder {
  bool operator()(const Bigram& a, const Bigram& b) const {
    return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
  }
};

}  // namespace

std::string BpeRanks::Key(std::string_view left, std::string_view right) {
  // The length of `left` first, so that no split of one text aliases another.
  const auto left_size = static_cast<uint32_t>(left.size());
  std::string key(sizeof(left_size), '\0');
  std::memcpy(key.data(), &left_size, sizeof(left_size));
  key.append(left);
  key.append(right);
  return key;
}

void BpeRanks::Add(std::string_view left, std::string_view right, int32_t rank) {
  ranks_.emplace(Key(left, right), rank);
}

std::optional<int32_t> BpeRanks::Find(std::string_view left, std::string_view right) const {
  const auto it = ranks_.find(Key(left, right));
  if (it == ranks_.end()) return std::nullopt;
  return it->second;
}

namespace {

// The merge loop shared by both rules; `rank_of(left, right, merged)` gives the
// rank of merging two adjacent pieces, or nullopt when they do not merge.
template <typename RankOf>
void MergeWord(const TokenIndex& index, std::string_view word, const RankOf& rank_of,
               std::vector<int32_t>& out) {
  std::vector<Symbol> symbols;
  symbols.reserve(word.size());
  for (size_t offset = 0; offset < word.size();) {
    const size_t size =
        std::min(unicode::SequenceLength(static_cast<uint8_t>(word[offset])), word.size() - offset);
    const int index_of_symbol = static_cast<int>(symbols.size());
    symbols.push_back({index_of_symbol - 1, -1, offset, size});
    offset += size;
    if (offset < word.size()) symbols.back().next = index_of_symbol + 1;
  }

  std::priority_queue<Bigram, std::vector<Bigram>, BigramOrder> queue;
  const auto try_add = [&](int left, int right) {
    if (left < 0 || right < 0) return;
    const Symbol& l = symbols[left];
    const Symbol& r = symbols[right];
    // Adjacent symbols are contiguous in the word, so the merged text is a slice of it.
    const auto rank = rank_of(word.substr(l.begin, l.size), word.substr(r.begin, r.size),
                              word.substr(l.begin, l.size + r.size));
    if (!rank) return;
    queue.push({left, right, *rank, l.size + r.size});
  };
  for (int i = 1; i < static_cast<int>(symbols.size()); ++i) try_add(i - 1, i);

  while (!queue.empty()) {
    const Bigram bigram = queue.top();
    queue.pop();
    Symbol& left = symbols[bigram.left];
    Symbol& right = symbols[bigram.right];
    if (left.size == 0 || right.size == 0 || left.size + right.size != bigram.size) continue;
    left.size += right.size;
    right.size = 0;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = bigram.left;
    try_add(left.prev, bigram.left);
    try_add(bigram.left, left.next);
  }

  for (int i = 0; i != -1; i = symbols[i].next) {
    const std::string_view piece = word.substr(symbols[i].begin, symbols[i].size);
    if (const auto id = index.Find(piece)) {
      out.push_back(*id);
      continue;
    }
    // As llama.cpp: look each byte up on its own and drop those without a token.
    for (size_t j = 0; j < piece.size(); ++j) {
      if (const auto id = index.Find(piece.substr(j, 1))) out.push_back(*id);
    }
  }
}

}  // namespace

void BpeEncodeWord(const TokenIndex& index, const BpeRanks& ranks, std::string_view word,
                   bool ignore_merges, std::vector<int32_t>& out) {
  if (word.empty()) return;
  if (ignore_merges) {
    if (const auto id = index.Find(word)) {
      out.push_back(*id);
      return;
    }
  }
  MergeWord(
      index, word,
      [&ranks](std::string_view left, std::string_view right, std::string_view) {
        return ranks.Find(left, right);
      },
      out);
}

void RankEncodeWord(const TokenIndex& index, int32_t first_rank_id, std::string_view word,
                    std::vector<int32_t>& out) {
  if (word.empty()) return;
  const auto rank_of = [&index, first_rank_id](std::string_view text) -> std::optional<int32_t> {
    const auto id = index.Find(text);
    if (!id || *id < first_rank_id) return std::nullopt;
    return id;
  };
  if (const auto id = rank_of(word)) {
    out.push_back(*id);
    return;
  }
  MergeWord(
      index, word,
      [&rank_of](std::string_view, std::string_view, std::string_view merged) {
        return rank_of(merged);
      },
      out);
}

}  // namespace autan::tokenizer_internal
