#include "tokenizer/sentencepiece_writer.h"

#include <cstring>
#include <string_view>

namespace autan {
namespace {

// Protocol buffer encoding of the few field kinds a ModelProto needs.
class Message {
 public:
  void Varint(uint32_t field, uint64_t v) {
    Key(field, 0);
    Raw(v);
  }
  // int32 fields: negative values go out sign-extended to ten bytes.
  void Int32(uint32_t field, int32_t v) { Varint(field, static_cast<uint64_t>(int64_t{v})); }
  void Float(uint32_t field, float v) {
    Key(field, 5);
    uint32_t bits;
    std::memcpy(&bits, &v, 4);
    for (int i = 0; i < 4; ++i) bytes_.push_back(static_cast<uint8_t>(bits >> (8 * i)));
  }
  void Bytes(uint32_t field, std::string_view s) {
    Key(field, 2);
    Raw(s.size());
    bytes_.insert(bytes_.end(), s.begin(), s.end());
  }
  void Sub(uint32_t field, const Message& m) {
    Bytes(field, {reinterpret_cast<const char*>(m.bytes_.data()), m.bytes_.size()});
  }
  std::vector<uint8_t> Take() { return std::move(bytes_); }

 private:
  void Key(uint32_t field, uint32_t wire) { Raw(uint64_t{field} << 3 | wire); }
  void Raw(uint64_t v) {
    while (v >= 0x80) {
      bytes_.push_back(static_cast<uint8_t>(v | 0x80));
      v >>= 7;
    }
    bytes_.push_back(static_cast<uint8_t>(v));
  }
  std::vector<uint8_t> bytes_;
};

}  // namespace

Result<std::vector<uint8_t>> SerializeSentencePiece(const VocabSpec& spec) {
  if (spec.model != "llama") {
    return Fail("a SentencePiece model holds a 'llama' vocabulary, not '%s'", spec.model.c_str());
  }
  const size_t n = spec.tokens.size();
  if ((!spec.scores.empty() && spec.scores.size() != n) ||
      (!spec.token_types.empty() && spec.token_types.size() != n)) {
    return Fail("vocabulary: scores or token types do not match the %zu tokens", n);
  }
  Message model;
  for (size_t i = 0; i < n; ++i) {
    Message piece;
    piece.Bytes(1, spec.tokens[i]);
    piece.Float(2, spec.scores.empty() ? 0.0f : spec.scores[i]);
    // GGUF's token types are SentencePiece's, except 0 (undefined): normal.
    const int32_t type = spec.token_types.empty() ? 1 : spec.token_types[i];
    if (type < 0 || type > 6) return Fail("vocabulary: token %zu has type %d", i, type);
    piece.Varint(3, type == 0 ? 1 : static_cast<uint64_t>(type));
    model.Sub(1, piece);
  }
  // The special ids as llama.cpp defaults them for this model (1/2/0).
  auto id = [](int32_t given, int32_t fallback) { return given >= 0 ? given : fallback; };
  Message trainer;
  trainer.Varint(3, 2);  // model_type: BPE
  trainer.Int32(4, static_cast<int32_t>(n));
  trainer.Varint(35, 1);  // byte_fallback
  trainer.Int32(40, id(spec.unk_id, 0));
  trainer.Int32(41, spec.add_bos == false ? -1 : id(spec.bos_id, 1));
  trainer.Int32(42, id(spec.eos_id, 2));
  trainer.Int32(43, spec.pad_id);
  model.Sub(2, trainer);
  Message normalizer;
  normalizer.Bytes(1, "identity");
  normalizer.Varint(3, spec.add_space_prefix.value_or(true) ? 1 : 0);
  normalizer.Varint(4, 0);  // remove_extra_whitespaces: off, as Llama's model has it
  normalizer.Varint(5, 1);  // escape_whitespaces
  model.Sub(3, normalizer);
  return model.Take();
}

}  // namespace autan
