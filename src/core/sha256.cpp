#include "core/sha256.h"

#include <openssl/evp.h>

#include "core/check.h"

namespace autan {
namespace {

std::string Hex(const std::array<uint8_t, 32>& digest) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(64);
  for (uint8_t b : digest) {
    hex += kHex[b >> 4];
    hex += kHex[b & 15];
  }
  return hex;
}

}  // namespace

struct Sha256Hasher::Context {
  struct Free {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
  };
  std::unique_ptr<EVP_MD_CTX, Free> md{EVP_MD_CTX_new()};
};

Sha256Hasher::Sha256Hasher() : ctx_(std::make_unique<Context>()) {
  AUTAN_CHECK(ctx_->md != nullptr);
  Reset();
}

Sha256Hasher::~Sha256Hasher() = default;

void Sha256Hasher::Reset() {
  AUTAN_CHECK(EVP_DigestInit_ex(ctx_->md.get(), EVP_sha256(), nullptr) == 1);
}

void Sha256Hasher::Update(std::string_view data) {
  AUTAN_CHECK(EVP_DigestUpdate(ctx_->md.get(), data.data(), data.size()) == 1);
}

std::array<uint8_t, 32> Sha256Hasher::Finish() {
  std::array<uint8_t, 32> digest{};
  unsigned int n = 0;
  AUTAN_CHECK(EVP_DigestFinal_ex(ctx_->md.get(), digest.data(), &n) == 1 && n == digest.size());
  Reset();
  return digest;
}

std::string Sha256Hasher::FinishHex() { return Hex(Finish()); }

std::array<uint8_t, 32> Sha256(std::string_view data) {
  std::array<uint8_t, 32> digest{};
  unsigned int n = 0;
  AUTAN_CHECK(EVP_Digest(data.data(), data.size(), digest.data(), &n, EVP_sha256(), nullptr) == 1 &&
              n == digest.size());
  return digest;
}

std::string Sha256Hex(std::string_view data) { return Hex(Sha256(data)); }

}  // namespace autan
