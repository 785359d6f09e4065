// SentencePiece BPE, as llama.cpp's llm_tokenizer_spm (which in turn follows
// sentencepiece's bpe_model.cc).
#include <algorithm>
#include <queue>

#include "tokenizer/merge.h"
#include "tokenizer/unicode.h"

namespace autan::tokenizer_internal {

namespace {

struct Symbol {
  int prev;
  int next;
  size_t begin;  // byte offset into the text
  size_t size;   // 0 once merged into its left neighbour
};

struct Bigram {
  int left;
  int right;
  float score;
  size_t size;  // bytes of the merged text when queued; detects stale entries
};

// Highest score first; on equal scores the leftmost pair.
struct BigramOrder {
  bool operator()(const Bigram& a, const Bigram& b) const {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  }
};

void EmitPiece(const TokenIndex& index, std::string_view piece, int32_t unk_id,
               std::vector<int32_t>& out) {
  if (const auto id = index.Find(piece)) {
    out.push_back(*id);
    return;
  }
  // Byte fallback: <0xXX> tokens, or tokens made of the raw byte.
  const size_t first = out.size();
  for (const char c : piece) {
    const int32_t id = index.byte_ids[static_cast<uint8_t>(c)];
    if (id < 0) {
      // Without byte tokens the piece is unknown (llama.cpp would abort here).
      out.resize(first);
      if (unk_id >= 0) out.push_back(unk_id);
      return;
    }
    out.push_back(id);
  }
}

}  // namespace

void SpmEncode(const TokenIndex& index, std::string_view text, int32_t unk_id,
               std::vector<int32_t>& out) {
  if (text.empty()) return;
  std::vector<Symbol> symbols;
  symbols.reserve(text.size());
  for (size_t offset = 0; offset < text.size();) {
    const size_t size =
        std::min(unicode::SequenceLength(static_cast<uint8_t>(text[offset])), text.size() - offset);
    const int index_of_symbol = static_cast<int>(symbols.size());
    symbols.push_back({index_of_symbol - 1, -1, offset, size});
    offset += size;
    if (offset < text.size()) symbols.back().next = index_of_symbol + 1;
  }

  std::priority_queue<Bigram, std::vector<Bigram>, BigramOrder> queue;
  const auto try_add = [&](int left, int right) {
    if (left < 0 || right < 0) return;
    const std::string_view merged =
        text.substr(symbols[left].begin, symbols[left].size + symbols[right].size);
    const auto id = index.Find(merged);
    if (!id) return;
    queue.push({left, right, index.scores[*id], merged.size()});
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
    EmitPiece(index, text.substr(symbols[i].begin, symbols[i].size), unk_id, out);
  }
}

}  // namespace autan::tokenizer_internal
