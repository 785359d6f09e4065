// Encode and decode arbitrary bytes with a real vocabulary (AUTAN_FUZZ_VOCAB:
// llama.cpp's Llama SentencePiece or GPT-2 byte-level BPE test vocabulary).
// The first byte picks the options; the rest is the text, and the same bytes
// read as token ids (any value, negative and out of range included) are
// decoded too.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "formats/gguf.h"
#include "fuzz_util.h"
#include "model/vocab_gguf.h"
#include "tokenizer/tokenizer.h"

namespace autan::fuzz {
namespace {

const Tokenizer& Vocab() {
  static const Tokenizer tokenizer = [] {
    gguf::File file = MustHave(gguf::File::Open(TestDataPath(AUTAN_FUZZ_VOCAB)), "vocabulary");
    return MustHave(TokenizerFromGguf(file), "tokenizer");
  }();
  return tokenizer;
}

void CheckIds(const Tokenizer& tok, const std::vector<int32_t>& ids) {
  for (int32_t id : ids) {
    if (id < 0 || id >= tok.n_vocab()) {
      std::fprintf(stderr, "Encode produced id %d outside the vocabulary\n", id);
      std::abort();
    }
  }
}

}  // namespace
}  // namespace autan::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace autan;
  if (size == 0) return 0;
  const Tokenizer& tok = fuzz::Vocab();
  const uint8_t flags = data[0];
  const std::string_view text = fuzz::AsText(data + 1, size - 1);

  const EncodeOptions encode{.add_special = (flags & 1) != 0,
                             .parse_special = (flags & 2) != 0,
                             .space_prefix = (flags & 4) != 0};
  const DecodeOptions decode{.render_special = (flags & 8) != 0};
  const std::vector<int32_t> ids = tok.Encode(text, encode);
  fuzz::CheckIds(tok, ids);
  const std::string back = tok.Decode(ids, decode);
  for (int32_t id : ids) (void)tok.TokenPiece(id);

  // The bytes as ids: decoding must ignore what is not in the vocabulary.
  std::vector<int32_t> raw((size - 1) / sizeof(int32_t));
  if (!raw.empty()) std::memcpy(raw.data(), data + 1, raw.size() * sizeof(int32_t));
  (void)tok.Decode(raw, decode);
  for (int32_t id : raw) {
    if (id >= 0 && id < tok.n_vocab()) (void)tok.TokenPiece(id);
  }
  return 0;
}
