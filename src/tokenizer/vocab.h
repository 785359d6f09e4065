// A tokenizer vocabulary as plain data, the way GGUF files store it under
// tokenizer.ggml.*. Tokenizer::Create validates it and builds the lookups.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace autan {

// Values of tokenizer.ggml.token_type (llama.cpp's llama_token_type).
enum class TokenType : int32_t {
  kUndefined = 0,
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6,
};

struct VocabSpec {
  // "llama" (SentencePiece BPE with scores), "gpt2" (byte-level BPE with merges)
  // or "tekken" (byte-level BPE by token rank, as tiktoken: tokens after the
  // first `num_special_tokens` are ranked by id and spelled in the byte-level
  // alphabet; the special tokens are never produced from plain text).
  std::string model;
  std::string pre = "default";  // tokenizer.ggml.pre; only byte-level BPE uses it
  // "tekken", or "gpt2" from a tokenizer.json: the file's own pre-tokenizer
  // expression, used instead of `pre`.
  std::string pre_pattern;
  int32_t num_special_tokens = 0;    // "tekken": ids [0, num_special_tokens) are control tokens
  std::vector<std::string> tokens;   // [n_vocab]
  std::vector<float> scores;         // [n_vocab] or empty (all 0)
  std::vector<int32_t> token_types;  // [n_vocab] TokenType values, or empty (all normal)
  std::vector<std::string> merges;   // "left right", rank order; byte-level BPE only

  // Special tokens; -1 means "not given": bos/eos/unk then take llama.cpp's
  // default for the model ("llama": 1/2/0), the others are looked up by their
  // usual text ("<|eot_id|>", "<|im_end|>", ...) as llama.cpp does.
  int32_t bos_id = -1;
  int32_t eos_id = -1;
  int32_t unk_id = -1;
  int32_t pad_id = -1;
  int32_t eot_id = -1;
  int32_t eom_id = -1;
  int32_t fim_pre_id = -1;
  int32_t fim_suf_id = -1;
  int32_t fim_mid_id = -1;
  int32_t fim_pad_id = -1;
  int32_t fim_rep_id = -1;
  int32_t fim_sep_id = -1;

  // Unset: the model's default (SentencePiece: BOS and space prefix on;
  // byte-level BPE: as the pre-tokenizer says).
  std::optional<bool> add_bos;
  std::optional<bool> add_eos;
  std::optional<bool> add_space_prefix;
  std::optional<bool> ignore_merges;  // byte-level BPE with pre_pattern: tokenizer.json's flag

  // The Mistral instruct version a Mistral tokenizer file declares ("v1",
  // "v3", "v7", ...: tekken.json's config.version, tokenizer.model.v3's
  // suffix); empty for other vocabularies.
  std::string mistral_instruct;
};

}  // namespace autan
