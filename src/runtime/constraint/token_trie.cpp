#include "runtime/constraint/token_trie.h"

#include <algorithm>

namespace autan::constraint {

PreorderTrie PreorderTrie::Build(std::vector<std::pair<std::string_view, int32_t>> pieces) {
  std::sort(pieces.begin(), pieces.end());
  PreorderTrie t;
  std::vector<int32_t> path;  // path[d - 1]: node at depth d of the current piece
  std::string_view prev;
  bool first = true;
  for (const auto& [piece, id] : pieces) {
    size_t lcp = 0;
    if (!first) {
      while (lcp < prev.size() && lcp < piece.size() && prev[lcp] == piece[lcp]) ++lcp;
    }
    // Sorted input: a piece either extends the newest path or repeats the
    // previous piece, so nodes come out in preorder and each node's tokens
    // are appended right after it is made.
    path.resize(lcp);
    for (size_t d = lcp; d < piece.size(); ++d) {
      path.push_back(t.size());
      t.bytes.push_back(static_cast<uint8_t>(piece[d]));
      t.depths.push_back(static_cast<int32_t>(d + 1));
      t.token_begin.push_back(static_cast<int32_t>(t.token_ids.size()));
    }
    t.token_ids.push_back(id);
    t.max_depth = std::max(t.max_depth, static_cast<int32_t>(piece.size()));
    prev = piece;
    first = false;
  }
  t.token_begin.push_back(static_cast<int32_t>(t.token_ids.size()));
  t.subtree_end.assign(t.bytes.size(), t.size());
  std::vector<int32_t> open;
  for (int32_t i = 0; i < t.size(); ++i) {
    while (!open.empty() && t.depths[open.back()] >= t.depths[i]) {
      t.subtree_end[open.back()] = i;
      open.pop_back();
    }
    open.push_back(i);
  }
  return t;
}

std::shared_ptr<const TokenTrie> TokenTrie::FromTokenizer(const Tokenizer& tokenizer) {
  std::vector<std::string> pieces(tokenizer.n_vocab());
  std::vector<int32_t> end_ids;
  for (int32_t id = 0; id < tokenizer.n_vocab(); ++id) {
    if (tokenizer.IsEndOfGeneration(id)) {
      end_ids.push_back(id);
      continue;
    }
    const TokenType type = tokenizer.token_type(id);
    if (type == TokenType::kNormal || type == TokenType::kByte)
      pieces[id] = tokenizer.TokenPiece(id);
  }
  // Cannot fail: the end ids come from the tokenizer itself.
  return FromPieces(std::move(pieces), std::move(end_ids)).value();
}

Result<std::shared_ptr<const TokenTrie>> TokenTrie::FromPieces(std::vector<std::string> pieces,
                                                               std::vector<int32_t> end_ids) {
  auto t = std::shared_ptr<TokenTrie>(new TokenTrie());
  const int32_t n = static_cast<int32_t>(pieces.size());
  t->is_end_.assign(pieces.size(), false);
  for (int32_t id : end_ids) {
    if (id < 0 || id >= n)
      return Fail("end token id %d is outside the vocabulary (%d tokens)", id, n);
    if (!t->is_end_[id]) t->end_ids_.push_back(id);
    t->is_end_[id] = true;
    pieces[id].clear();  // an end token ends the output; it is never text
  }
  std::sort(t->end_ids_.begin(), t->end_ids_.end());
  t->pieces_ = std::move(pieces);

  std::vector<std::pair<std::string_view, int32_t>> all, special;
  std::array<std::vector<std::pair<int32_t, int32_t>>, kNumUtf8States> plain;  // (starts, id)
  for (int32_t id = 0; id < n; ++id) {
    const std::string& piece = t->pieces_[id];
    if (piece.empty()) continue;
    all.emplace_back(piece, id);
    const bool is_plain = std::all_of(piece.begin(), piece.end(), [](char ch) {
      const uint8_t c = static_cast<uint8_t>(ch);
      return c >= 0x20 && c != '"' && c != '\\';
    });
    if (!is_plain) {
      special.emplace_back(piece, id);
      continue;
    }
    for (int s = 0; s < kNumUtf8States; ++s) {
      uint8_t state = static_cast<uint8_t>(s);
      int32_t starts = 0;
      for (char ch : piece) {
        if (state == kLexPlain) ++starts;
        state = kLexTable.next[state][static_cast<uint8_t>(ch)];
        if (state >= kNumUtf8States) break;  // refused (plain text never reaches an escape)
      }
      if (state < kNumUtf8States) plain[s].emplace_back(starts, id);
    }
  }
  t->all_ = PreorderTrie::Build(std::move(all));
  t->special_ = PreorderTrie::Build(std::move(special));
  for (int s = 0; s < kNumUtf8States; ++s) {
    std::sort(plain[s].begin(), plain[s].end());
    for (const auto& [starts, id] : plain[s]) {
      t->plain_starts_[s].push_back(starts);
      t->plain_ids_[s].push_back(id);
    }
  }
  return std::shared_ptr<const TokenTrie>(std::move(t));
}

}  // namespace autan::constraint
