// Paged KV cache: one pool of fixed-size blocks shared by a scheduler's
// sequences, with a prefix cache. A full block is keyed by a hash chain over
// every token up to its end, so a later sequence whose prompt starts with the
// same tokens (a system prompt, a chat history) maps the cached block into its
// own table instead of computing it again. Cached blocks are read-only: a
// sequence about to write into a shared block copies it first. Blocks no
// sequence uses stay cached until the space is needed, least recently used
// first.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <span>
#include <unordered_map>
#include <vector>

#include "model/config.h"
#include "model/forward.h"

namespace autan {

struct KvBlockStats {
  int32_t total = 0;          // blocks in the pool
  int32_t in_use = 0;         // referenced by at least one sequence
  int32_t cached = 0;         // holding a published prefix (in use or not)
  int64_t lookup_tokens = 0;  // prompt tokens offered to the prefix cache
  int64_t hit_tokens = 0;     // of those, found already computed
};

class KvBlockPool {
 public:
  // Storage is reserved but not touched: pages are only backed once written.
  KvBlockPool(const ModelConfig& config, int32_t n_blocks, int32_t block_size, KvType type);
  KvBlockPool(const KvBlockPool&) = delete;
  KvBlockPool& operator=(const KvBlockPool&) = delete;

  int32_t block_size() const { return block_size_; }
  int32_t n_blocks() const { return static_cast<int32_t>(blocks_.size()); }
  KvType type() const { return type_; }
  uint8_t* k() { return k_.get(); }
  uint8_t* v() { return v_.get(); }
  int32_t layer_rows() const { return n_blocks() * block_size_; }

  // A block for one sequence to write (reference count 1). Takes a never
  // cached block first, then evicts the least recently used cached one;
  // returns -1 only when every block is referenced.
  int32_t Allocate();
  void Retain(int32_t block);
  void Release(int32_t block);
  // True when writing the block would change what someone else reads: it is
  // shared or published.
  bool ReadOnly(int32_t block) const;
  // Copies every layer's rows of `from` into `to`.
  void Copy(int32_t from, int32_t to);

  // Hash of a block's tokens chained to the hash of everything before it
  // (0 for the first block).
  static uint64_t ChainHash(uint64_t parent, std::span<const int32_t> tokens);
  // The published block for this chain and these tokens, retained, or -1.
  int32_t Lookup(uint64_t hash, uint64_t parent, std::span<const int32_t> tokens);
  // Makes a full block findable; it becomes read-only. A no-op when an equal
  // block is already published.
  void Publish(int32_t block, uint64_t hash, uint64_t parent, std::span<const int32_t> tokens);

  void CountLookup(int64_t offered, int64_t hits);
  KvBlockStats Stats() const;

 private:
  struct Block {
    int32_t refs = 0;
    bool published = false;
    uint64_t hash = 0;
    uint64_t parent = 0;
    std::vector<int32_t> tokens;       // what was published, compared on lookup
    std::list<int32_t>::iterator lru;  // position among unreferenced cached blocks
  };
  void Unpublish(int32_t block);
  size_t BlockBytes() const { return static_cast<size_t>(block_size_) * row_bytes_; }

  int32_t block_size_;
  KvType type_;
  int32_t n_layers_;
  size_t row_bytes_;
  std::unique_ptr<uint8_t[]> k_, v_;  // [n_layers][n_blocks * block_size][row]
  std::vector<Block> blocks_;
  std::vector<int32_t> free_;  // never published or evicted; last freed first
  std::list<int32_t> lru_;     // unreferenced published blocks, oldest first
  std::unordered_multimap<uint64_t, int32_t> published_;
  int32_t in_use_ = 0;
  int64_t lookup_tokens_ = 0;
  int64_t hit_tokens_ = 0;
};

// One sequence's table of blocks over a ring of `capacity` slots, and what
// it has published. Positions < capacity fill the ring the first time round;
// only those blocks hold a plain prefix and can be published.
class PagedSequence {
 public:
  PagedSequence(KvBlockPool& pool, int32_t capacity);
  ~PagedSequence() { Clear(); }
  PagedSequence(const PagedSequence&) = delete;
  PagedSequence& operator=(const PagedSequence&) = delete;
  PagedSequence(PagedSequence&&) noexcept;

  // Maps the longest cached prefix of `prompt` (whole blocks, leaving at
  // least one token to evaluate) into an empty table; returns its length.
  int32_t AttachPrefix(std::span<const int32_t> prompt);
  // Gives positions [begin, end) private, writable blocks (allocating, or
  // copying shared ones). False when the pool is out of blocks.
  bool PrepareWrite(int32_t begin, int32_t end);
  // Publishes every block completed by positions < n_past of `tokens`
  // (tokens[i] is position i).
  void PublishFull(std::span<const int32_t> tokens, int32_t n_past);
  // Releases every block.
  void Clear();

  KvCacheView view() const;
  int32_t capacity() const { return capacity_; }

 private:
  KvBlockPool* pool_;
  int32_t capacity_;
  std::vector<int32_t> table_;    // logical block -> pool block, or -1
  std::vector<uint64_t> hashes_;  // chain hash of each published leading block
};

}  // namespace autan
