#include "runtime/kv_blocks.h"

#include <algorithm>
#include <cstring>

#include "core/check.h"

namespace autan {

KvBlockPool::KvBlockPool(const ModelConfig& config, int32_t n_blocks, int32_t block_size,
                         KvType type)
    : block_size_(block_size),
      type_(type),
      n_layers_(config.n_layers),
      row_bytes_(kernels::KvRowBytes(type, static_cast<size_t>(config.kv_dim()))),
      blocks_(static_cast<size_t>(n_blocks)) {
  AUTAN_CHECK(n_blocks > 0 && block_size > 0);
  const size_t bytes = static_cast<size_t>(n_layers_) * n_blocks * BlockBytes();
  // Default-initialized: the kernel maps zero pages lazily, so an idle pool
  // costs address space, not memory.
  k_.reset(new uint8_t[bytes]);
  v_.reset(new uint8_t[bytes]);
  free_.reserve(static_cast<size_t>(n_blocks));
  for (int32_t b = n_blocks - 1; b >= 0; --b) free_.push_back(b);
}

int32_t KvBlockPool::Allocate() {
  int32_t b = -1;
  if (!free_.empty()) {
    b = free_.back();
    free_.pop_back();
  } else if (!lru_.empty()) {
    b = lru_.front();
    lru_.pop_front();
    Unpublish(b);
  } else {
    return -1;
  }
  blocks_[static_cast<size_t>(b)].refs = 1;
  ++in_use_;
  return b;
}

void KvBlockPool::Retain(int32_t block) {
  Block& b = blocks_[static_cast<size_t>(block)];
  if (b.refs++ == 0) {
    ++in_use_;
    if (b.published) lru_.erase(b.lru);
  }
}

void KvBlockPool::Release(int32_t block) {
  Block& b = blocks_[static_cast<size_t>(block)];
  AUTAN_CHECK(b.refs > 0);
  if (--b.refs > 0) return;
  --in_use_;
  if (b.published) {
    b.lru = lru_.insert(lru_.end(), block);
  } else {
    free_.push_back(block);
  }
}

bool KvBlockPool::ReadOnly(int32_t block) const {
  const Block& b = blocks_[static_cast<size_t>(block)];
  return b.published || b.refs > 1;
}

void KvBlockPool::Copy(int32_t from, int32_t to) {
  const size_t block = BlockBytes();
  const size_t layer = static_cast<size_t>(n_blocks()) * block;
  for (int32_t l = 0; l < n_layers_; ++l) {
    const size_t base = static_cast<size_t>(l) * layer;
    std::memcpy(&k_[base + static_cast<size_t>(to) * block],
                &k_[base + static_cast<size_t>(from) * block], block);
    std::memcpy(&v_[base + static_cast<size_t>(to) * block],
                &v_[base + static_cast<size_t>(from) * block], block);
  }
}

uint64_t KvBlockPool::ChainHash(uint64_t parent, std::span<const int32_t> tokens) {
  // FNV-1a over the parent and the tokens, then a final avalanche
  // (splitmix64), so that nearby chains land far apart in the table. Lookup
  // also compares the tokens, so only a 64-bit collision of two different
  // parents could ever match the wrong block.
  uint64_t h = 0xcbf29ce484222325ull;
  auto mix = [&h](uint64_t x) {
    for (int i = 0; i < 8; ++i) {
      h ^= (x >> (8 * i)) & 0xff;
      h *= 0x100000001b3ull;
    }
  };
  mix(parent);
  for (int32_t t : tokens) mix(static_cast<uint32_t>(t));
  h += 0x9e3779b97f4a7c15ull;
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
  return h ^ (h >> 31);
}

int32_t KvBlockPool::Lookup(uint64_t hash, uint64_t parent, std::span<const int32_t> tokens) {
  auto [it, end] = published_.equal_range(hash);
  for (; it != end; ++it) {
    const Block& b = blocks_[static_cast<size_t>(it->second)];
    if (b.parent == parent &&
        std::equal(tokens.begin(), tokens.end(), b.tokens.begin(), b.tokens.end())) {
      Retain(it->second);
      return it->second;
    }
  }
  return -1;
}

void KvBlockPool::Publish(int32_t block, uint64_t hash, uint64_t parent,
                          std::span<const int32_t> tokens) {
  Block& b = blocks_[static_cast<size_t>(block)];
  AUTAN_CHECK(b.refs > 0 && static_cast<int32_t>(tokens.size()) == block_size_);
  if (b.published) return;
  auto [it, end] = published_.equal_range(hash);
  for (; it != end; ++it) {
    const Block& other = blocks_[static_cast<size_t>(it->second)];
    if (other.parent == parent &&
        std::equal(tokens.begin(), tokens.end(), other.tokens.begin(), other.tokens.end())) {
      return;
    }
  }
  b.published = true;
  b.hash = hash;
  b.parent = parent;
  b.tokens.assign(tokens.begin(), tokens.end());
  published_.emplace(hash, block);
}

void KvBlockPool::Unpublish(int32_t block) {
  Block& b = blocks_[static_cast<size_t>(block)];
  auto [it, end] = published_.equal_range(b.hash);
  for (; it != end; ++it) {
    if (it->second == block) {
      published_.erase(it);
      break;
    }
  }
  b.published = false;
  b.tokens.clear();
}

void KvBlockPool::CountLookup(int64_t offered, int64_t hits) {
  lookup_tokens_ += offered;
  hit_tokens_ += hits;
}

KvBlockStats KvBlockPool::Stats() const {
  return {.total = n_blocks(),
          .in_use = in_use_,
          .cached = static_cast<int32_t>(published_.size()),
          .lookup_tokens = lookup_tokens_,
          .hit_tokens = hit_tokens_};
}

PagedSequence::PagedSequence(KvBlockPool& pool, int32_t capacity)
    : pool_(&pool),
      capacity_(capacity),
      table_(static_cast<size_t>((capacity + pool.block_size() - 1) / pool.block_size()), -1) {}

PagedSequence::PagedSequence(PagedSequence&& other) noexcept
    : pool_(other.pool_),
      capacity_(other.capacity_),
      table_(std::move(other.table_)),
      hashes_(std::move(other.hashes_)) {
  other.table_.clear();
  other.hashes_.clear();
}

int32_t PagedSequence::AttachPrefix(std::span<const int32_t> prompt) {
  AUTAN_CHECK(hashes_.empty());
  const size_t bs = static_cast<size_t>(pool_->block_size());
  // At least the prompt's last token is evaluated, for its logits.
  const size_t limit =
      std::min(prompt.size() > 0 ? prompt.size() - 1 : 0, static_cast<size_t>(capacity_));
  uint64_t parent = 0;
  size_t i = 0;
  for (; (i + 1) * bs <= limit; ++i) {
    const std::span<const int32_t> tokens = prompt.subspan(i * bs, bs);
    const uint64_t hash = KvBlockPool::ChainHash(parent, tokens);
    const int32_t block = pool_->Lookup(hash, parent, tokens);
    if (block < 0) break;
    AUTAN_CHECK(table_[i] < 0);
    table_[i] = block;
    hashes_.push_back(hash);
    parent = hash;
  }
  const int32_t attached = static_cast<int32_t>(i * bs);
  pool_->CountLookup(static_cast<int64_t>(prompt.size()), attached);
  return attached;
}

bool PagedSequence::PrepareWrite(int32_t begin, int32_t end) {
  const int32_t bs = pool_->block_size();
  int32_t last_block = -1;
  for (int32_t pos = begin; pos < end; ++pos) {
    const int32_t logical = pos % capacity_ / bs;
    if (logical == last_block) continue;
    last_block = logical;
    int32_t& entry = table_[static_cast<size_t>(logical)];
    if (entry >= 0 && !pool_->ReadOnly(entry)) continue;
    const int32_t fresh = pool_->Allocate();
    if (fresh < 0) return false;
    if (entry >= 0) {
      // Rows of the block before `pos` may still be visible: keep them.
      pool_->Copy(entry, fresh);
      pool_->Release(entry);
    }
    entry = fresh;
  }
  return true;
}

void PagedSequence::PublishFull(std::span<const int32_t> tokens, int32_t n_past) {
  const size_t bs = static_cast<size_t>(pool_->block_size());
  const size_t limit = std::min(static_cast<size_t>(std::min(n_past, capacity_)), tokens.size());
  for (size_t i = hashes_.size(); (i + 1) * bs <= limit; ++i) {
    const uint64_t parent = i == 0 ? 0 : hashes_[i - 1];
    const std::span<const int32_t> block_tokens = tokens.subspan(i * bs, bs);
    const uint64_t hash = KvBlockPool::ChainHash(parent, block_tokens);
    pool_->Publish(table_[i], hash, parent, block_tokens);
    hashes_.push_back(hash);
  }
}

void PagedSequence::Clear() {
  for (int32_t& b : table_) {
    if (b >= 0) pool_->Release(b);
    b = -1;
  }
  hashes_.clear();
}

KvCacheView PagedSequence::view() const {
  return {.k = pool_->k(),
          .v = pool_->v(),
          .capacity = capacity_,
          .type = pool_->type(),
          .blocks = table_.data(),
          .block_size = pool_->block_size(),
          .layer_rows = pool_->layer_rows()};
}

}  // namespace autan
