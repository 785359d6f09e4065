// Pre-tokenizers of byte-level BPE vocabularies: the regular expressions that
// cut text into words before merges apply, chosen by the GGUF key
// `tokenizer.ggml.pre`. The expressions and the way several of them compose
// are those of llama.cpp (src/llama-vocab.cpp, src/unicode.cpp), run with PCRE2.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace autan {

// Per-vocabulary settings that llama.cpp derives from the pre-tokenizer name.
struct PreTokenizerTraits {
  bool clean_spaces = true;    // detokenizer removes spaces before punctuation
  bool ignore_merges = false;  // a word that is itself a token skips the merges
  bool add_bos = false;        // default of tokenizer.ggml.add_bos_token
  bool default_bos = true;     // false: the vocabulary has no default BOS token
};

class PreTokenizer {
 public:
  // `name` is the value of tokenizer.ggml.pre ("default" when the key is absent).
  static Result<PreTokenizer> Create(std::string_view name);
  // One expression given by the vocabulary file itself (Tekken's config.pattern,
  // a tokenizer.json Split pattern), read as llama.cpp reads the named ones.
  // Errors say where the expression fails to compile.
  static Result<PreTokenizer> FromPattern(std::string_view pattern,
                                          const PreTokenizerTraits& traits);

  const PreTokenizerTraits& traits() const { return traits_; }
  const std::string& name() const { return name_; }

  // Appends the words of `text` to `words`, each spelled in the byte-level
  // alphabet (see unicode::ByteToCodepoint). Invalid UTF-8 is read as U+FFFD.
  void Split(std::string_view text, std::vector<std::string>& words) const;

  struct Regex;  // a compiled expression (PCRE2), shared between copies

 private:
  static Result<std::shared_ptr<const Regex>> Compile(std::string_view source);

  std::string name_;
  PreTokenizerTraits traits_;
  std::vector<std::shared_ptr<const Regex>> regexes_;
};

// Rewrites an expression so that PCRE2 reads it as llama.cpp does: \s and \S
// become the ASCII whitespace class (non-ASCII whitespace is folded to \v
// before matching, as llama.cpp does), and \p{L}, \p{N}, \p{P}, \p{S}, \p{M}
// gain the codepoints of Unicode 15.0/15.1 that PCRE2 10.42 does not know.
// Exposed for tests. Error when \S appears inside [...].
Result<std::string> PortRegex(std::string_view pattern);

}  // namespace autan
