// SHA-256 given in pieces equals the NIST vectors (FIPS 180-4 examples).
#include "core/sha256.h"

#include <gtest/gtest.h>

#include <string>

namespace autan {
namespace {

TEST(Sha256Hasher, PiecesGiveTheNistDigests) {
  Sha256Hasher h;
  const std::string two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  for (size_t at = 0; at < two_blocks.size(); at += 7) h.Update(two_blocks.substr(at, 7));
  EXPECT_EQ(h.FinishHex(), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  // Finish starts over: a million 'a' in uneven pieces.
  const std::string piece(999, 'a');
  for (int i = 0; i < 1001; ++i) h.Update(piece);
  h.Update(std::string(1000000 - 999 * 1001, 'a'));
  EXPECT_EQ(h.FinishHex(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  h.Update("abc");
  h.Reset();
  EXPECT_EQ(h.FinishHex(), Sha256Hex(""));
}

}  // namespace
}  // namespace autan
