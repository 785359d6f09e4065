// Text <-> token ids for the vocabularies GGUF files carry: SentencePiece BPE
// ("llama") and byte-level BPE ("gpt2") with its pre-tokenizers. The ids are
// those llama.cpp produces for the same vocabulary, which for SentencePiece
// vocabularies are also libsentencepiece's.
//
// A Tokenizer is immutable; copies share the tables and every method may be
// called from any number of threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "tokenizer/vocab.h"

namespace autan {

struct EncodeOptions {
  bool add_special = true;     // BOS/EOS as the vocabulary asks (add_bos, add_eos)
  bool parse_special = false;  // text such as "<s>" or "[INST]" becomes its control token
  // SentencePiece: the space the vocabulary puts before text (add_space_prefix).
  // Off for text that continues other text, as Mistral encodes a FIM suffix.
  bool space_prefix = true;
};

struct DecodeOptions {
  bool render_special = false;  // control and unknown tokens as their text instead of nothing
};

enum class VocabKind { kSentencePiece, kByteLevelBpe };

class Tokenizer {
 public:
  static Result<Tokenizer> Create(VocabSpec spec);

  std::vector<int32_t> Encode(std::string_view text, const EncodeOptions& options = {}) const;

  // Text of `ids`: SentencePiece's U+2581 becomes a space and the space the
  // encoder put in front is removed again (at the start, or right after a
  // leading BOS, as sentencepiece's DecodeIds does); byte tokens are joined
  // into UTF-8. Byte-level BPE reverses the byte alphabet and, where llama.cpp
  // does for this pre-tokenizer, removes spaces before punctuation.
  // Ids outside the vocabulary decode to nothing.
  std::string Decode(std::span<const int32_t> ids, const DecodeOptions& options = {}) const;

  // The bytes one token stands for, for streaming: may be a partial UTF-8
  // sequence (byte tokens) and keeps a leading space. Control tokens give "".
  std::string TokenPiece(int32_t id) const;
  // The token's spelling in the vocabulary ("▁Hello", "<0x0A>", "Ġworld").
  const std::string& TokenText(int32_t id) const;
  TokenType token_type(int32_t id) const;

  std::optional<int32_t> FindToken(std::string_view text) const;

  int32_t n_vocab() const;
  VocabKind kind() const;
  int32_t bos() const;  // -1 when the vocabulary has none
  int32_t eos() const;
  int32_t eot() const;
  int32_t unk() const;
  int32_t pad() const;
  bool add_bos() const;
  bool add_eos() const;
  // VocabSpec::mistral_instruct: the chat format a Mistral tokenizer file
  // declares, or empty.
  const std::string& mistral_instruct() const;
  // EOS, EOT, EOM and the other tokens that end a generated turn, as llama.cpp's is_eog.
  bool IsEndOfGeneration(int32_t id) const;

  struct Impl;

 private:
  explicit Tokenizer(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

}  // namespace autan
