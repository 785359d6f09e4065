// Constrained decoding for JSON: at every step, the tokens whose bytes keep
// the output a prefix of a JSON text the grammar (a JSON schema, or any
// object) allows; end-of-generation tokens only once the value is complete.
// One JsonConstraint per generated sequence; the grammar and the TokenTrie
// are immutable and shared by all of them.
//
//   auto vocab = TokenTrie::FromTokenizer(tokenizer);       // once per model
//   auto c = JsonConstraint::FromSchema(schema, vocab);     // per request
//   each step:  Result<int32_t> token = SampleConstrained(sampler, *c, logits, scratch);
//               (stop on an end token: allowed only once the value is complete)
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "runtime/constraint/json_grammar.h"
#include "runtime/constraint/json_matcher.h"
#include "runtime/constraint/token_trie.h"
#include "runtime/sampler.h"

namespace autan::constraint {

class JsonConstraint {
 public:
  JsonConstraint(std::shared_ptr<const JsonGrammar> grammar,
                 std::shared_ptr<const TokenTrie> vocab);

  // The schema's errors name the keyword and its JSON pointer (JsonGrammar).
  static Result<JsonConstraint> FromSchema(const nlohmann::ordered_json& schema,
                                           std::shared_ptr<const TokenTrie> vocab,
                                           const GrammarOptions& options = {});
  static Result<JsonConstraint> FromSchema(const nlohmann::json& schema,
                                           std::shared_ptr<const TokenTrie> vocab,
                                           const GrammarOptions& options = {});
  // response_format {"type": "json_object"}: any JSON object.
  static JsonConstraint AnyObject(std::shared_ptr<const TokenTrie> vocab,
                                  const GrammarOptions& options = {});

  // mask[id] = 1 if token id may come next, else 0; resized to n_vocab.
  // Returns how many tokens are allowed: 0 once an end token was accepted,
  // or if the vocabulary cannot spell any continuation.
  int32_t AllowedTokens(std::vector<uint8_t>& mask);
  // Sets the logit of every token that may not come next to -inf (tokens
  // past the vocabulary included). Returns how many are allowed.
  int32_t MaskLogits(std::span<float> logits);

  // Advances by one token. A token the mask refuses is an error that leaves
  // the state unchanged.
  Status Accept(int32_t token);
  // Advances by raw bytes (a forced prefix of the output, tests).
  Status AcceptText(std::string_view text);

  bool IsComplete() const { return matcher_.IsComplete(); }  // an end token may come now
  bool IsFinished() const { return finished_; }              // an end token was accepted
  void Reset();

  const TokenTrie& vocab() const { return *vocab_; }
  const JsonMatcher& matcher() const { return matcher_; }
  // Plain-text tokens inside strings and undeclared keys are looked up in
  // tables instead of walked; off gives the reference walk (tests compare them).
  void set_string_fast_path(bool on) { string_fast_path_ = on; }

 private:
  // Marks the tokens of `trie` allowed after the current parses.
  int32_t Walk(const PreorderTrie& trie, uint8_t* mask);

  std::shared_ptr<const TokenTrie> vocab_;
  JsonMatcher matcher_;
  bool finished_ = false;
  bool string_fast_path_ = true;
  // Scratch, reused by every step.
  std::vector<std::vector<Parse>> levels_;  // [depth] parses after that many bytes
  std::vector<size_t> marks_;               // [depth] arena mark to release to
  std::vector<uint8_t> mask_;
  std::vector<Parse> a_, b_;
};

// One constrained decoding step: copies `logits` into `scratch`, masks them,
// lets the sampler pick and advances the constraint. Errors when nothing may
// follow (a vocabulary that cannot spell any continuation, or an end token
// was already accepted), or when the sampler's fallback picked a refused
// token (every allowed logit NaN or banned by logit_bias).
Result<int32_t> SampleConstrained(Sampler& sampler, JsonConstraint& constraint,
                                  std::span<const float> logits, std::vector<float>& scratch);

}  // namespace autan::constraint
