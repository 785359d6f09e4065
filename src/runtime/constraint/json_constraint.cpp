#include "runtime/constraint/json_constraint.h"

#include <algorithm>
#include <cstdio>
#include <limits>

#include "core/check.h"

namespace autan::constraint {

namespace {

// A token's text for messages: printable ASCII as is, other bytes as \xNN.
std::string Printable(std::string_view s) {
  std::string out;
  for (char ch : s.substr(0, 40)) {
    const uint8_t c = static_cast<uint8_t>(ch);
    if (c >= 0x20 && c < 0x7F && c != '\\') {
      out += ch;
    } else {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02X", c);
      out += buf;
    }
  }
  if (s.size() > 40) out += "...";
  return out;
}

}  // namespace

JsonConstraint::JsonConstraint(std::shared_ptr<const JsonGrammar> grammar,
                               std::shared_ptr<const TokenTrie> vocab)
    : vocab_(std::move(vocab)), matcher_(std::move(grammar)) {
  const int32_t depth = std::max(vocab_->all().max_depth, vocab_->special().max_depth) + 1;
  levels_.resize(depth);
  marks_.resize(depth + 1);
}

Result<JsonConstraint> JsonConstraint::FromSchema(const nlohmann::ordered_json& schema,
                                                  std::shared_ptr<const TokenTrie> vocab,
                                                  const GrammarOptions& options) {
  Result<std::shared_ptr<const JsonGrammar>> g = JsonGrammar::FromSchema(schema, options);
  if (!g.ok()) return g.error();
  return JsonConstraint(std::move(*g), std::move(vocab));
}

Result<JsonConstraint> JsonConstraint::FromSchema(const nlohmann::json& schema,
                                                  std::shared_ptr<const TokenTrie> vocab,
                                                  const GrammarOptions& options) {
  Result<std::shared_ptr<const JsonGrammar>> g = JsonGrammar::FromSchema(schema, options);
  if (!g.ok()) return g.error();
  return JsonConstraint(std::move(*g), std::move(vocab));
}

JsonConstraint JsonConstraint::AnyObject(std::shared_ptr<const TokenTrie> vocab,
                                         const GrammarOptions& options) {
  return JsonConstraint(JsonGrammar::AnyObject(options), std::move(vocab));
}

void JsonConstraint::Reset() {
  matcher_.Reset();
  finished_ = false;
}

int32_t JsonConstraint::Walk(const PreorderTrie& trie, uint8_t* mask) {
  const size_t start_mark = matcher_.Mark();
  levels_[0].assign(matcher_.parses().begin(), matcher_.parses().end());
  marks_[1] = start_mark;
  int32_t count = 0;
  const int32_t n = trie.size();
  for (int32_t i = 0; i < n;) {
    const int32_t d = trie.depths[i];
    // Whatever the previous sibling subtrees pushed is dead now.
    matcher_.Release(marks_[d]);
    matcher_.Step(levels_[d - 1], trie.bytes[i], levels_[d]);
    if (levels_[d].empty()) {
      i = trie.subtree_end[i];
      continue;
    }
    marks_[d + 1] = matcher_.Mark();
    for (int32_t k = trie.token_begin[i]; k < trie.token_begin[i + 1]; ++k) {
      mask[trie.token_ids[k]] = 1;
      ++count;
    }
    ++i;
  }
  matcher_.Release(start_mark);
  return count;
}

int32_t JsonConstraint::AllowedTokens(std::vector<uint8_t>& mask) {
  mask.assign(vocab_->n_vocab(), 0);
  if (finished_) return 0;
  int32_t count = 0;
  uint8_t lex = 0;
  int32_t room = 0;
  if (string_fast_path_ && matcher_.InPlainText(lex, room)) {
    // Plain text continues the string or key while it stays valid UTF-8 and
    // within maxLength; everything else (quotes, escapes, control bytes) is walked.
    const std::span<const int32_t> starts = vocab_->PlainStarts(lex);
    const std::span<const int32_t> ids = vocab_->PlainTokens(lex);
    const size_t n = std::upper_bound(starts.begin(), starts.end(), room) - starts.begin();
    for (size_t k = 0; k < n; ++k) mask[ids[k]] = 1;
    count += static_cast<int32_t>(n);
    count += Walk(vocab_->special(), mask.data());
  } else {
    count += Walk(vocab_->all(), mask.data());
  }
  if (matcher_.IsComplete()) {
    for (int32_t id : vocab_->end_ids()) {
      count += mask[id] == 0;
      mask[id] = 1;
    }
  }
  return count;
}

int32_t JsonConstraint::MaskLogits(std::span<float> logits) {
  const int32_t count = AllowedTokens(mask_);
  const size_t n = std::min(logits.size(), mask_.size());
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
  for (size_t i = 0; i < n; ++i) {
    if (mask_[i] == 0) logits[i] = kNegInf;
  }
  for (size_t i = n; i < logits.size(); ++i) logits[i] = kNegInf;
  return count;
}

Status JsonConstraint::Accept(int32_t token) {
  if (token < 0 || token >= vocab_->n_vocab()) {
    return Fail("token %d is outside the vocabulary (%d tokens)", token, vocab_->n_vocab());
  }
  if (finished_) return Fail("token %d comes after the end of the JSON output", token);
  if (vocab_->IsEnd(token)) {
    if (!matcher_.IsComplete()) {
      return Fail("end token %d comes before the JSON value is complete", token);
    }
    finished_ = true;
    return {};
  }
  const std::string& piece = vocab_->piece(token);
  if (piece.empty()) return Fail("token %d has no text the JSON output can take", token);
  const size_t mark = matcher_.Mark();
  a_.assign(matcher_.parses().begin(), matcher_.parses().end());
  for (size_t i = 0; i < piece.size(); ++i) {
    matcher_.Step(a_, static_cast<uint8_t>(piece[i]), b_);
    if (b_.empty()) {
      matcher_.Release(mark);
      return Fail("token %d (\"%s\") does not continue the JSON output: its byte %zu is refused",
                  token, Printable(piece).c_str(), i);
    }
    a_.swap(b_);
  }
  matcher_.Commit(a_);
  return {};
}

Status JsonConstraint::AcceptText(std::string_view text) {
  if (finished_) return Fail("text comes after the end of the JSON output");
  for (size_t i = 0; i < text.size(); ++i) {
    if (!matcher_.AcceptByte(static_cast<uint8_t>(text[i]))) {
      return Fail("byte %zu of \"%s\" does not continue the JSON output", i,
                  Printable(text).c_str());
    }
  }
  return {};
}

Result<int32_t> SampleConstrained(Sampler& sampler, JsonConstraint& constraint,
                                  std::span<const float> logits, std::vector<float>& scratch) {
  scratch.assign(logits.begin(), logits.end());
  if (constraint.MaskLogits(scratch) == 0) {
    return Fail("no token can continue the JSON output");
  }
  const int32_t token = sampler.Sample(scratch);
  AUTAN_TRY(constraint.Accept(token));
  return token;
}

}  // namespace autan::constraint
