// The base model's log-probabilities that a KL-divergence run compares a
// quantized model against: llama.cpp's `llama-perplexity
// --kl-divergence-base` file, so either program reads the other's.
//
// Layout (little-endian): the 8 bytes "_logits_"; u32 n_ctx, i32 n_vocab,
// i32 n_chunks; i32 tokens[n_chunks * n_ctx] (the text as tokenized, before
// each chunk's first token becomes BOS); then for each chunk one row per
// scored position (n_ctx - 1 - n_ctx / 2 of them, the second half of the
// window): f32 scale, f32 min_log_prob, u16 q[n_vocab] padded to an even
// count, with log p[i] = scale * q[i] + min_log_prob. The format has no
// version field; the magic and the exact file size identify it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <span>
#include <string>

#include "core/mapped_file.h"
#include "core/result.h"

namespace autan::kld_base {

inline constexpr char kMagic[8] = {'_', 'l', 'o', 'g', 'i', 't', 's', '_'};
inline constexpr size_t kHeaderBytes = 20;

// u16 words in one row: two floats, then the vocabulary padded to even.
inline size_t RowWords(int32_t n_vocab) { return 2 * ((static_cast<size_t>(n_vocab) + 1) / 2) + 4; }
// Positions scored per chunk: from n_ctx / 2 to n_ctx - 2, each predicting the next token.
inline int32_t ScoredPerChunk(int32_t n_ctx) { return n_ctx - 1 - n_ctx / 2; }

// One position's log-probabilities over the vocabulary, 16-bit quantized.
struct Row {
  float scale = 0;
  float min_log_prob = 0;
  const uint16_t* q = nullptr;  // [n_vocab]

  float LogProb(int32_t token) const { return scale * q[token] + min_log_prob; }
};

class File {
 public:
  // Validates the whole file: magic, sizes (n_ctx 3..16777216, n_vocab
  // 1..16777216, n_chunks >= 1), the byte count they imply, every token
  // inside the vocabulary and every row's scale and minimum finite.
  static Result<File> Open(const std::string& path);
  static Result<File> Parse(std::shared_ptr<const MappedFile> bytes);

  int32_t n_ctx() const { return n_ctx_; }
  int32_t n_vocab() const { return n_vocab_; }
  int32_t n_chunks() const { return n_chunks_; }
  std::span<const int32_t> tokens() const { return tokens_; }  // [n_chunks * n_ctx]
  // Scored position `i` (0..ScoredPerChunk(n_ctx) - 1) of chunk `chunk`.
  Row row(int32_t chunk, int32_t i) const;

 private:
  File() = default;
  std::shared_ptr<const MappedFile> map_;
  int32_t n_ctx_ = 0, n_vocab_ = 0, n_chunks_ = 0;
  std::span<const int32_t> tokens_;
  const uint8_t* rows_ = nullptr;
};

// Writes a file chunk by chunk; Finish checks that every chunk came.
class Writer {
 public:
  static Result<std::unique_ptr<Writer>> Create(const std::string& path, int32_t n_ctx,
                                                int32_t n_vocab, int32_t n_chunks,
                                                std::span<const int32_t> tokens);
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // One chunk's rows: ScoredPerChunk(n_ctx) * RowWords(n_vocab) words.
  Status Append(std::span<const uint16_t> rows);
  Status Finish();

 private:
  Writer(std::FILE* f, std::string path, int32_t n_ctx, int32_t n_vocab, int32_t n_chunks)
      : f_(f), path_(std::move(path)), n_ctx_(n_ctx), n_vocab_(n_vocab), n_chunks_(n_chunks) {}
  Status Write(const void* data, size_t n);

  std::FILE* f_;
  std::string path_;
  int32_t n_ctx_, n_vocab_, n_chunks_;
  int32_t written_ = 0;
};

}  // namespace autan::kld_base
