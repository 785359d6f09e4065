#include "tokenizer/sentencepiece_model.h"

#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <vector>

namespace autan {

namespace {

// Protocol buffer wire types.
enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLength = 2, kFixed32 = 5 };

// A bounds-checked reader over one message; offsets are from the file start.
class Reader {
 public:
  Reader(std::span<const uint8_t> bytes, size_t base) : bytes_(bytes), base_(base) {}

  bool done() const { return pos_ >= bytes_.size(); }
  size_t offset() const { return base_ + pos_; }

  Result<uint64_t> Varint() {
    uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= bytes_.size()) return Fail("truncated varint at offset %zu", offset());
      const uint8_t byte = bytes_[pos_++];
      value |= static_cast<uint64_t>(byte & 0x7F) << shift;
      if ((byte & 0x80) == 0) return value;
    }
    return Fail("varint longer than 10 bytes at offset %zu", offset());
  }

  Result<std::span<const uint8_t>> Bytes(size_t count) {
    if (count > bytes_.size() - pos_) {
      return Fail("%zu bytes at offset %zu run past the end (%zu left)", count, offset(),
                  bytes_.size() - pos_);
    }
    const auto out = bytes_.subspan(pos_, count);
    pos_ += count;
    return out;
  }

  // Skips a field of a number this reader does not use.
  Status Skip(uint32_t wire) {
    switch (wire) {
      case kVarint: {
        auto value = Varint();
        if (!value.ok()) return value.error();
        return {};
      }
      case kFixed64:
        return Bytes(8).ok() ? Status{} : Fail("truncated fixed64 at offset %zu", offset());
      case kFixed32:
        return Bytes(4).ok() ? Status{} : Fail("truncated fixed32 at offset %zu", offset());
      case kLength: {
        auto size = Varint();
        if (!size.ok()) return size.error();
        auto skipped = Bytes(static_cast<size_t>(*size));
        if (!skipped.ok()) return skipped.error();
        return {};
      }
      default:
        return Fail("unknown wire type %u at offset %zu", wire, offset());
    }
  }

 private:
  std::span<const uint8_t> bytes_;
  size_t base_;
  size_t pos_ = 0;
};

struct Field {
  uint32_t number;
  uint32_t wire;
  size_t offset;
};

Result<Field> NextField(Reader& r) {
  const size_t offset = r.offset();
  auto key = r.Varint();
  if (!key.ok()) return key.error();
  const auto number = static_cast<uint32_t>(*key >> 3);
  if (number == 0 || *key >> 3 > 0x1FFFFFFF) return Fail("field number 0 at offset %zu", offset);
  return Field{number, static_cast<uint32_t>(*key & 7), offset};
}

Status ExpectWire(const Field& f, uint32_t wire, const std::string& name) {
  static constexpr const char* kWireNames[] = {"varint",      "fixed64",   "length-delimited",
                                               "start group", "end group", "fixed32"};
  if (f.wire == wire) return {};
  return Fail("%s: wire type %u at offset %zu, expected %s", name.c_str(), f.wire, f.offset,
              kWireNames[wire]);
}

// A length-delimited field's payload.
Result<std::span<const uint8_t>> Payload(Reader& r, const Field& f, const std::string& name) {
  AUTAN_TRY(ExpectWire(f, kLength, name));
  auto size = r.Varint();
  if (!size.ok()) return Fail("%s: %s", name.c_str(), size.error().message.c_str());
  auto bytes = r.Bytes(static_cast<size_t>(*size));
  if (!bytes.ok()) return Fail("%s: %s", name.c_str(), bytes.error().message.c_str());
  return bytes;
}

// A reader for an embedded message.
Result<Reader> Submessage(Reader& r, const Field& f, const std::string& name) {
  auto payload = Payload(r, f, name);
  if (!payload.ok()) return payload.error();
  return Reader(*payload, r.offset() - payload->size());
}

Result<int64_t> VarintField(Reader& r, const Field& f, const std::string& name) {
  AUTAN_TRY(ExpectWire(f, kVarint, name));
  auto value = r.Varint();
  if (!value.ok()) return Fail("%s: %s", name.c_str(), value.error().message.c_str());
  return static_cast<int64_t>(*value);  // int32 fields: negative values are sign-extended
}

// sentencepiece_model.proto: SentencePiece { piece = 1; score = 2; type = 3 }.
Status ReadPiece(Reader r, const std::string& name, VocabSpec& spec) {
  std::optional<std::string> piece;
  float score = 0;
  int64_t type = 1;  // NORMAL
  while (!r.done()) {
    auto f = NextField(r);
    if (!f.ok()) return Fail("%s: %s", name.c_str(), f.error().message.c_str());
    if (f->number == 1) {
      auto text = Payload(r, *f, name + ".piece");
      if (!text.ok()) return text.error();
      piece.emplace(reinterpret_cast<const char*>(text->data()), text->size());
    } else if (f->number == 2) {
      AUTAN_TRY(ExpectWire(*f, kFixed32, name + ".score"));
      auto bytes = r.Bytes(4);
      if (!bytes.ok()) return Fail("%s.score: %s", name.c_str(), bytes.error().message.c_str());
      uint32_t bits = 0;
      for (int i = 3; i >= 0; --i) bits = bits << 8 | (*bytes)[i];  // little-endian
      std::memcpy(&score, &bits, sizeof(score));
    } else if (f->number == 3) {
      auto value = VarintField(r, *f, name + ".type");
      if (!value.ok()) return value.error();
      if (*value < 1 || *value > 6) {
        return Fail("%s.type: %lld is not a piece type (1..6)", name.c_str(),
                    static_cast<long long>(*value));
      }
      type = *value;
    } else {
      auto skipped = r.Skip(f->wire);
      if (!skipped.ok()) return Fail("%s: %s", name.c_str(), skipped.error().message.c_str());
    }
  }
  if (!piece) return Fail("%s.piece: missing", name.c_str());
  spec.tokens.push_back(std::move(*piece));
  spec.scores.push_back(score);
  spec.token_types.push_back(static_cast<int32_t>(type));  // same values as GGUF's
  return {};
}

struct TrainerSpec {
  int64_t model_type = 1;  // UNIGRAM
  int64_t unk_id = 0, bos_id = 1, eos_id = 2, pad_id = -1;
};

Status ReadTrainerSpec(Reader r, TrainerSpec& t) {
  while (!r.done()) {
    auto f = NextField(r);
    if (!f.ok()) return Fail("trainer_spec: %s", f.error().message.c_str());
    int64_t* target = nullptr;
    const char* name = nullptr;
    switch (f->number) {
      case 3:
        target = &t.model_type, name = "trainer_spec.model_type";
        break;
      case 40:
        target = &t.unk_id, name = "trainer_spec.unk_id";
        break;
      case 41:
        target = &t.bos_id, name = "trainer_spec.bos_id";
        break;
      case 42:
        target = &t.eos_id, name = "trainer_spec.eos_id";
        break;
      case 43:
        target = &t.pad_id, name = "trainer_spec.pad_id";
        break;
      default:
        break;
    }
    if (target == nullptr) {
      auto skipped = r.Skip(f->wire);
      if (!skipped.ok()) return Fail("trainer_spec: %s", skipped.error().message.c_str());
      continue;
    }
    auto value = VarintField(r, *f, name);
    if (!value.ok()) return value.error();
    *target = static_cast<int32_t>(*value);  // int32 on the wire
  }
  return {};
}

Status ReadNormalizerSpec(Reader r, VocabSpec& spec) {
  while (!r.done()) {
    auto f = NextField(r);
    if (!f.ok()) return Fail("normalizer_spec: %s", f.error().message.c_str());
    if (f->number == 3) {
      auto value = VarintField(r, *f, "normalizer_spec.add_dummy_prefix");
      if (!value.ok()) return value.error();
      spec.add_space_prefix = *value != 0;
    } else {
      auto skipped = r.Skip(f->wire);
      if (!skipped.ok()) return Fail("normalizer_spec: %s", skipped.error().message.c_str());
    }
  }
  return {};
}

Result<VocabSpec> ReadModel(std::span<const uint8_t> bytes) {
  VocabSpec spec;
  spec.model = "llama";
  spec.add_space_prefix = true;  // normalizer_spec's default
  TrainerSpec trainer;
  Reader r(bytes, 0);
  while (!r.done()) {
    auto f = NextField(r);
    if (!f.ok()) return f.error();
    if (f->number == 1) {
      const std::string name = "pieces[" + std::to_string(spec.tokens.size()) + "]";
      auto piece = Submessage(r, *f, name);
      if (!piece.ok()) return piece.error();
      AUTAN_TRY(ReadPiece(*piece, name, spec));
    } else if (f->number == 2) {
      auto sub = Submessage(r, *f, "trainer_spec");
      if (!sub.ok()) return sub.error();
      AUTAN_TRY(ReadTrainerSpec(*sub, trainer));
    } else if (f->number == 3) {
      auto sub = Submessage(r, *f, "normalizer_spec");
      if (!sub.ok()) return sub.error();
      AUTAN_TRY(ReadNormalizerSpec(*sub, spec));
    } else {
      AUTAN_TRY(r.Skip(f->wire));
    }
  }
  if (spec.tokens.empty()) return Fail("pieces: none (not a SentencePiece model?)");
  if (trainer.model_type != 2) {
    return Fail("trainer_spec.model_type: %lld, only BPE (2) is supported",
                static_cast<long long>(trainer.model_type));
  }
  const auto n = static_cast<int64_t>(spec.tokens.size());
  const auto check_id = [n](int64_t id, const char* name) -> Status {
    if (id < -1 || id >= n) {
      return Fail("%s: %lld is outside the %lld pieces", name, static_cast<long long>(id),
                  static_cast<long long>(n));
    }
    return {};
  };
  AUTAN_TRY(check_id(trainer.unk_id, "trainer_spec.unk_id"));
  AUTAN_TRY(check_id(trainer.bos_id, "trainer_spec.bos_id"));
  AUTAN_TRY(check_id(trainer.eos_id, "trainer_spec.eos_id"));
  AUTAN_TRY(check_id(trainer.pad_id, "trainer_spec.pad_id"));
  spec.unk_id = static_cast<int32_t>(trainer.unk_id);
  spec.bos_id = static_cast<int32_t>(trainer.bos_id);
  spec.eos_id = static_cast<int32_t>(trainer.eos_id);
  spec.pad_id = static_cast<int32_t>(trainer.pad_id);
  if (spec.bos_id < 0) spec.add_bos = false;
  return spec;
}

}  // namespace

Result<VocabSpec> VocabSpecFromSentencePiece(std::span<const uint8_t> bytes,
                                             std::string_view file_name) {
  auto spec = ReadModel(bytes);
  if (!spec.ok()) {
    return Fail("%.*s: %s", static_cast<int>(file_name.size()), file_name.data(),
                spec.error().message.c_str());
  }
  return spec;
}

Result<Tokenizer> LoadSentencePiece(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail("%s: cannot open", path.c_str());
  const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                   std::istreambuf_iterator<char>());
  auto spec = VocabSpecFromSentencePiece(bytes, path);
  if (!spec.ok()) return spec.error();
  auto tokenizer = Tokenizer::Create(std::move(*spec));
  if (!tokenizer.ok()) return Fail("%s: %s", path.c_str(), tokenizer.error().message.c_str());
  return tokenizer;
}

}  // namespace autan
