// A vocabulary's token pieces arranged so a constraint can find every token
// allowed after its current state in one walk: the pieces form a byte trie
// stored in preorder, so a refused prefix skips its whole subtree. Built once
// per vocabulary and shared (read-only) by every constrained sequence.
//
// Inside a JSON string most tokens are plain text (no quote, backslash or
// control byte); for those the outcome depends only on the UTF-8 state and on
// how many code points they start, so they are tabulated per UTF-8 state and
// only the other tokens need a walk.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"
#include "runtime/constraint/json_lexer.h"
#include "tokenizer/tokenizer.h"

namespace autan::constraint {

// Node i (preorder) is reached by the byte bytes[i] from its parent, at
// depth depths[i] >= 1 (the root is implicit); its subtree is [i, subtree_end[i]).
struct PreorderTrie {
  std::vector<uint8_t> bytes;
  std::vector<int32_t> depths;
  std::vector<int32_t> subtree_end;
  std::vector<int32_t> token_begin;  // [n + 1]: tokens ending at node i are
  std::vector<int32_t> token_ids;    //   token_ids[token_begin[i], token_begin[i + 1])
  int32_t max_depth = 0;

  static PreorderTrie Build(std::vector<std::pair<std::string_view, int32_t>> pieces);
  int32_t size() const { return static_cast<int32_t>(bytes.size()); }
};

class TokenTrie {
 public:
  // Normal and byte tokens by their TokenPiece; control, unknown, unused and
  // user-defined tokens are never produced; the end-of-generation tokens
  // (Tokenizer::IsEndOfGeneration) are allowed once the value is complete.
  static std::shared_ptr<const TokenTrie> FromTokenizer(const Tokenizer& tokenizer);
  // pieces[id]: the bytes of token id, "" for a token never allowed;
  // end_ids: tokens that end the output. Fails on an end id out of range.
  static Result<std::shared_ptr<const TokenTrie>> FromPieces(std::vector<std::string> pieces,
                                                             std::vector<int32_t> end_ids);

  int32_t n_vocab() const { return static_cast<int32_t>(pieces_.size()); }
  const std::string& piece(int32_t id) const { return pieces_[id]; }
  bool IsEnd(int32_t id) const { return is_end_[id]; }
  std::span<const int32_t> end_ids() const { return end_ids_; }

  const PreorderTrie& all() const { return all_; }          // every token with a piece
  const PreorderTrie& special() const { return special_; }  // those that are not plain text
  // Plain-text tokens whose bytes are valid UTF-8 continuing from UTF-8
  // state s (a LexState below kNumUtf8States), by ascending number of code
  // points they start (PlainStarts, same order).
  std::span<const int32_t> PlainTokens(int s) const { return plain_ids_[s]; }
  std::span<const int32_t> PlainStarts(int s) const { return plain_starts_[s]; }

 private:
  TokenTrie() = default;

  std::vector<std::string> pieces_;
  std::vector<bool> is_end_;
  std::vector<int32_t> end_ids_;
  PreorderTrie all_;
  PreorderTrie special_;
  std::array<std::vector<int32_t>, kNumUtf8States> plain_ids_;
  std::array<std::vector<int32_t>, kNumUtf8States> plain_starts_;
};

}  // namespace autan::constraint
