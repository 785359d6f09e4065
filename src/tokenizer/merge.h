// The two merge algorithms behind Tokenizer, on an immutable token index.
// Internal to the tokenizer library.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace autan::tokenizer_internal {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
template <typename V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

// Token text -> id, and what the merges need per token.
struct TokenIndex {
  StringMap<int32_t> ids;
  std::vector<float> scores;      // [n_vocab]
  std::vector<int32_t> byte_ids;  // [256] SentencePiece byte fallback; -1 where none

  std::optional<int32_t> Find(std::string_view text) const {
    const auto it = ids.find(text);
    if (it == ids.end()) return std::nullopt;
    return it->second;
  }
};

// SentencePiece BPE (llama.cpp's llm_tokenizer_spm): starting from UTF-8
// characters, repeatedly merge the adjacent pair whose concatenation is the
// highest-scoring token (leftmost on ties). A final piece that is not a token
// is spelled as byte tokens <0xXX> (or the raw byte), else as `unk_id`.
// `text` has its spaces already escaped as U+2581.
void SpmEncode(const TokenIndex& index, std::string_view text, int32_t unk_id,
               std::vector<int32_t>& out);

// Merge ranks keyed by the pair of texts.
class BpeRanks {
 public:
  void Add(std::string_view left, std::string_view right, int32_t rank);  // keeps the first rank
  std::optional<int32_t> Find(std::string_view left, std::string_view right) const;
  size_t size() const { return ranks_.size(); }

 private:
  static std::string Key(std::string_view left, std::string_view right);
  StringMap<int32_t> ranks_;
};

// Byte-level BPE of one pre-tokenized word (llama.cpp's llm_tokenizer_bpe):
// repeatedly merge the adjacent pair with the lowest rank (leftmost on ties).
// With `ignore_merges`, a word that is itself a token is emitted as is.
void BpeEncodeWord(const TokenIndex& index, const BpeRanks& ranks, std::string_view word,
                   bool ignore_merges, std::vector<int32_t>& out);

// Byte-level BPE by token rank, as tiktoken (and so Tekken) runs it: a word
// that is a token is emitted as is; otherwise the adjacent pair whose
// concatenation is the lowest-ranked token merges first (leftmost on ties).
// Ranks are ids here; ids below `first_rank_id` (special tokens) never match.
void RankEncodeWord(const TokenIndex& index, int32_t first_rank_id, std::string_view word,
                    std::vector<int32_t>& out);

}  // namespace autan::tokenizer_internal
