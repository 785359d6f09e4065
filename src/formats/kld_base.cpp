#include "formats/kld_base.h"

#include <cerrno>
#include <cinttypes>
#include <cmath>
#include <cstring>

namespace autan::kld_base {
namespace {

constexpr int32_t kMaxCount = 1 << 24;

template <typename T>
T Load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

}  // namespace

Result<File> File::Open(const std::string& path) {
  Result<std::shared_ptr<const MappedFile>> map = MappedFile::Open(path);
  if (!map.ok()) return map.error();
  return Parse(std::move(*map));
}

Result<File> File::Parse(std::shared_ptr<const MappedFile> bytes) {
  const char* where = bytes->path().c_str();
  const uint8_t* p = bytes->data();
  const size_t size = bytes->size();
  if (size < kHeaderBytes) {
    return Fail("%s: %zu bytes, too short for a KL-divergence base header (%zu)", where, size,
                kHeaderBytes);
  }
  if (std::memcmp(p, kMagic, sizeof(kMagic)) != 0) {
    return Fail("%s: no \"_logits_\" magic at offset 0: not a KL-divergence base file", where);
  }
  const uint32_t n_ctx = Load<uint32_t>(p + 8);
  const int32_t n_vocab = Load<int32_t>(p + 12);
  const int32_t n_chunks = Load<int32_t>(p + 16);
  if (n_ctx < 3 || n_ctx > static_cast<uint32_t>(kMaxCount)) {
    return Fail("%s: n_ctx %" PRIu32 " at offset 8 out of range (3..%d)", where, n_ctx, kMaxCount);
  }
  if (n_vocab < 1 || n_vocab > kMaxCount) {
    return Fail("%s: n_vocab %d at offset 12 out of range (1..%d)", where, n_vocab, kMaxCount);
  }
  if (n_chunks < 1 || n_chunks > kMaxCount) {
    return Fail("%s: n_chunks %d at offset 16 out of range (1..%d)", where, n_chunks, kMaxCount);
  }
  // Each factor is below 2^25, so these products fit in 64 bits.
  const uint64_t n_tokens = uint64_t{n_ctx} * static_cast<uint64_t>(n_chunks);
  const uint64_t row_bytes = RowWords(n_vocab) * sizeof(uint16_t);
  const uint64_t n_rows =
      static_cast<uint64_t>(ScoredPerChunk(static_cast<int32_t>(n_ctx))) * uint64_t(n_chunks);
  const uint64_t tokens_end = kHeaderBytes + n_tokens * sizeof(int32_t);
  if (n_rows > (UINT64_MAX - tokens_end) / row_bytes) {
    return Fail("%s: sizes at offset 8 overflow the file size", where);
  }
  const uint64_t expected = tokens_end + n_rows * row_bytes;
  if (expected != size) {
    return Fail("%s: %zu bytes, but n_ctx %" PRIu32 ", n_vocab %d and n_chunks %d make %" PRIu64
                " (truncated, or written for other sizes)",
                where, size, n_ctx, n_vocab, n_chunks, expected);
  }
  File f;
  f.map_ = std::move(bytes);
  f.n_ctx_ = static_cast<int32_t>(n_ctx);
  f.n_vocab_ = n_vocab;
  f.n_chunks_ = n_chunks;
  // The mapping is page-aligned (or heap-aligned) and the tokens start at byte 20.
  f.tokens_ = {reinterpret_cast<const int32_t*>(p + kHeaderBytes), static_cast<size_t>(n_tokens)};
  for (size_t i = 0; i < f.tokens_.size(); ++i) {
    if (f.tokens_[i] < 0 || f.tokens_[i] >= n_vocab) {
      return Fail("%s: token %d at offset %zu is outside the vocabulary (0..%d)", where,
                  f.tokens_[i], kHeaderBytes + i * sizeof(int32_t), n_vocab - 1);
    }
  }
  f.rows_ = p + tokens_end;
  for (uint64_t r = 0; r < n_rows; ++r) {
    const uint8_t* row = f.rows_ + r * row_bytes;
    const float scale = Load<float>(row);
    const float min_log_prob = Load<float>(row + 4);
    if (!std::isfinite(scale) || scale < 0 || !std::isfinite(min_log_prob) || min_log_prob > 0) {
      return Fail("%s: row %" PRIu64 " at offset %" PRIu64
                  ": scale %g or minimum log-probability %g is not a valid log-probability range",
                  where, r, tokens_end + r * row_bytes, scale, min_log_prob);
    }
  }
  return f;
}

Row File::row(int32_t chunk, int32_t i) const {
  const size_t index = static_cast<size_t>(chunk) * ScoredPerChunk(n_ctx_) + i;
  const uint8_t* p = rows_ + index * RowWords(n_vocab_) * sizeof(uint16_t);
  return {Load<float>(p), Load<float>(p + 4), reinterpret_cast<const uint16_t*>(p + 8)};
}

Result<std::unique_ptr<Writer>> Writer::Create(const std::string& path, int32_t n_ctx,
                                               int32_t n_vocab, int32_t n_chunks,
                                               std::span<const int32_t> tokens) {
  if (n_ctx < 3 || n_vocab < 1 || n_chunks < 1 ||
      tokens.size() != static_cast<size_t>(n_ctx) * static_cast<size_t>(n_chunks)) {
    return Fail("%s: cannot write %zu tokens as %d chunks of %d", path.c_str(), tokens.size(),
                n_chunks, n_ctx);
  }
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) {
    return Error{path + ": cannot open for writing: " + std::strerror(errno), true};
  }
  std::unique_ptr<Writer> w(new Writer(f, path, n_ctx, n_vocab, n_chunks));
  const uint32_t ctx = static_cast<uint32_t>(n_ctx);
  AUTAN_TRY(w->Write(kMagic, sizeof(kMagic)));
  AUTAN_TRY(w->Write(&ctx, sizeof(ctx)));
  AUTAN_TRY(w->Write(&n_vocab, sizeof(n_vocab)));
  AUTAN_TRY(w->Write(&n_chunks, sizeof(n_chunks)));
  AUTAN_TRY(w->Write(tokens.data(), tokens.size_bytes()));
  return w;
}

Writer::~Writer() {
  if (f_ != nullptr) std::fclose(f_);
}

Status Writer::Write(const void* data, size_t n) {
  if (std::fwrite(data, 1, n, f_) != n) {
    return Error{path_ + ": write failed: " + std::strerror(errno), true};
  }
  return {};
}

Status Writer::Append(std::span<const uint16_t> rows) {
  const size_t want = static_cast<size_t>(ScoredPerChunk(n_ctx_)) * RowWords(n_vocab_);
  if (rows.size() != want || written_ >= n_chunks_) {
    return Fail("%s: chunk %d of %d: %zu words, expected %zu", path_.c_str(), written_ + 1,
                n_chunks_, rows.size(), want);
  }
  AUTAN_TRY(Write(rows.data(), rows.size_bytes()));
  ++written_;
  return {};
}

Status Writer::Finish() {
  if (written_ != n_chunks_) {
    return Fail("%s: %d of %d chunks written", path_.c_str(), written_, n_chunks_);
  }
  const int rc = std::fclose(f_);
  f_ = nullptr;
  if (rc != 0) return Error{path_ + ": close failed: " + std::strerror(errno), true};
  return {};
}

}  // namespace autan::kld_base
