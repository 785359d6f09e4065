// Constrained generation over a real vocabulary (Llama's 32k SentencePiece
// pieces): random walks that pick any allowed token must always end in text
// that nlohmann parses and that a small independent schema validator (below,
// written from the JSON Schema spec, sharing no code with the recognizer)
// accepts. Also checks the mask against Accept, and the string fast path
// against the plain trie walk.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "core/rng.h"
#include "formats/gguf.h"
#include "model/vocab_gguf.h"
#include "runtime/constraint/json_constraint.h"

namespace autan::constraint {
namespace {

using Json = nlohmann::json;
using Schema = nlohmann::ordered_json;

std::shared_ptr<const TokenTrie> LoadVocab(const char* name) {
  auto file = gguf::File::Open(std::string(AUTAN_TESTDATA) + "/vocab/" + name);
  EXPECT_TRUE(file.ok()) << file.error().message;
  if (!file.ok()) return nullptr;
  auto tokenizer = TokenizerFromGguf(*file);
  EXPECT_TRUE(tokenizer.ok()) << tokenizer.error().message;
  return tokenizer.ok() ? TokenTrie::FromTokenizer(*tokenizer) : nullptr;
}

const std::shared_ptr<const TokenTrie>& LlamaVocab() {
  static const std::shared_ptr<const TokenTrie> vocab = LoadVocab("ggml-vocab-llama-spm.gguf");
  return vocab;
}

// ---- An independent validator for the schema subset ----------------------

size_t CodePoints(const std::string& s) {
  return std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; });
}

bool HasType(const Json& v, const std::string& type) {
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  if (type == "string") return v.is_string();
  if (type == "boolean") return v.is_boolean();
  if (type == "null") return v.is_null();
  if (type == "number") return v.is_number();
  if (type == "integer") {
    return v.is_number_integer() ||
           (v.is_number_float() && v.get<double>() == std::floor(v.get<double>()));
  }
  return false;
}

Json Plain(const Schema& s) { return Json::parse(s.dump()); }

// "" when v is valid, else what is wrong and where.
std::string Validate(const Json& v, const Schema& s, const Schema& root, const std::string& at) {
  if (s.is_boolean()) return s.get<bool>() ? "" : at + ": schema false";
  if (s.contains("$ref")) {
    const std::string ref = s["$ref"].get<std::string>().substr(1);
    return Validate(v, root.at(Schema::json_pointer(ref)), root, at);
  }
  for (const Schema& sub : s.value("allOf", Schema::array())) {
    if (std::string e = Validate(v, sub, root, at); !e.empty()) return e;
  }
  for (const char* key : {"anyOf", "oneOf"}) {
    if (!s.contains(key)) continue;
    int matches = 0;
    for (const Schema& sub : s[key]) matches += Validate(v, sub, root, at).empty();
    if (matches == 0) return at + ": matches no alternative of " + key;
    if (std::string(key) == "oneOf" && matches > 1) return at + ": matches several of oneOf";
  }
  if (s.contains("const") && v != Plain(s["const"])) return at + ": not the const";
  if (s.contains("enum")) {
    bool found = false;
    for (const Schema& e : s["enum"]) found = found || v == Plain(e);
    if (!found) return at + ": not in the enum";
  }
  if (s.contains("type")) {
    const Schema& t = s["type"];
    bool ok = false;
    for (const Schema& name : t.is_array() ? t : Schema::array({t})) {
      ok = ok || HasType(v, name.get<std::string>());
    }
    if (!ok) return at + ": wrong type for " + t.dump();
  }
  if (v.is_string()) {
    const size_t n = CodePoints(v.get<std::string>());
    if (s.contains("minLength") && n < s["minLength"].get<size_t>()) return at + ": too short";
    if (s.contains("maxLength") && n > s["maxLength"].get<size_t>()) return at + ": too long";
  }
  if (v.is_array()) {
    if (s.contains("minItems") && v.size() < s["minItems"].get<size_t>()) return at + ": few";
    if (s.contains("maxItems") && v.size() > s["maxItems"].get<size_t>()) return at + ": many";
    const Schema items = s.value("items", Schema(true));
    for (size_t i = 0; i < v.size(); ++i) {
      if (std::string e = Validate(v[i], items, root, at + "/" + std::to_string(i)); !e.empty()) {
        return e;
      }
    }
  }
  if (v.is_object()) {
    const Schema props = s.value("properties", Schema::object());
    for (const Schema& name : s.value("required", Schema::array())) {
      if (!v.contains(name.get<std::string>())) return at + ": missing " + name.dump();
    }
    for (const auto& [key, value] : v.items()) {
      const Schema sub =
          props.contains(key) ? props[key] : s.value("additionalProperties", Schema(true));
      if (std::string e = Validate(value, sub, root, at + "/" + key); !e.empty()) return e;
    }
  }
  return "";
}

// Parses strictly; a repeated key in any object counts as an error too.
bool ParseStrict(const std::string& text, Json& out) {
  std::vector<std::set<std::string>> keys;
  bool repeated = false;
  out = Json::parse(
      text,
      [&](int, Json::parse_event_t event, Json& parsed) {
        if (event == Json::parse_event_t::object_start) keys.emplace_back();
        if (event == Json::parse_event_t::object_end) keys.pop_back();
        if (event == Json::parse_event_t::key &&
            !keys.back().insert(parsed.get<std::string>()).second) {
          repeated = true;
        }
        return true;
      },
      /*allow_exceptions=*/false);
  return !out.is_discarded() && !repeated;
}

// ---- Random constrained walks -------------------------------------------

struct Walk {
  std::string text;
  bool finished = false;  // an end token was accepted
  int steps = 0;
};

// Where a step starts, for the timing breakdown.
enum StepKind { kInString, kInKey, kElsewhere, kNumStepKinds };
const char* const kStepKindNames[] = {"string values", "object keys", "elsewhere"};

StepKind KindOf(const JsonConstraint& c) {
  const Frame& top = c.matcher().parses()[0].top;
  if (top.kind == kString) return kInString;
  if (top.kind == kObject && top.phase == kObjKey) return kInKey;
  return kElsewhere;
}

struct WalkChecks {
  bool compare_fast_path = false;              // also compute every mask by the plain walk
  std::vector<double>* mask_micros = nullptr;  // [kNumStepKinds] times of each step
};

// Tokens that end the output, or close or separate something.
std::vector<bool> StructuralTokens(const TokenTrie& vocab) {
  std::vector<bool> out(vocab.n_vocab());
  for (int32_t id = 0; id < vocab.n_vocab(); ++id) {
    out[id] = vocab.IsEnd(id) || vocab.piece(id).find_first_of("\"}],:") != std::string::npos;
  }
  return out;
}

// Each step picks a random allowed token; half the time among those that
// close or separate something, so most walks finish within the cap.
Walk RandomWalk(JsonConstraint& c, uint64_t seed, int max_tokens, const WalkChecks& checks) {
  const TokenTrie& vocab = c.vocab();
  const std::vector<bool> is_structural = StructuralTokens(vocab);
  Rng rng(seed);
  Walk w;
  std::vector<uint8_t> mask, reference;
  std::vector<int32_t> allowed, structural;
  for (; w.steps < max_tokens; ++w.steps) {
    const StepKind kind = KindOf(c);
    const auto t0 = std::chrono::steady_clock::now();
    const int32_t n = c.AllowedTokens(mask);
    const auto t1 = std::chrono::steady_clock::now();
    if (checks.mask_micros != nullptr) {
      checks.mask_micros[kind].push_back(
          std::chrono::duration<double, std::micro>(t1 - t0).count());
    }
    if (checks.compare_fast_path) {
      c.set_string_fast_path(false);
      c.AllowedTokens(reference);
      c.set_string_fast_path(true);
      EXPECT_EQ(mask, reference) << "after " << w.text;
    }
    allowed.clear();
    structural.clear();
    for (int32_t id = 0; id < vocab.n_vocab(); ++id) {
      if (mask[id] == 0) continue;
      allowed.push_back(id);
      if (is_structural[id]) structural.push_back(id);
    }
    EXPECT_EQ(n, static_cast<int32_t>(allowed.size()));
    if (allowed.empty()) {
      ADD_FAILURE() << "dead end after " << w.text;
      return w;
    }
    // A token outside the mask is refused and changes nothing.
    const int32_t probe = static_cast<int32_t>(rng.Next() % vocab.n_vocab());
    if (mask[probe] == 0) {
      EXPECT_FALSE(c.Accept(probe).ok()) << probe << " after " << w.text;
    }

    const std::vector<int32_t>& pool =
        !structural.empty() && rng.Uniform() < 0.5 ? structural : allowed;
    const int32_t token = pool[rng.Next() % pool.size()];
    const Status s = c.Accept(token);
    if (!s.ok()) {
      ADD_FAILURE() << s.error().message << " after " << w.text;
      return w;
    }
    if (vocab.IsEnd(token)) {
      w.finished = true;
      break;
    }
    w.text += vocab.piece(token);
  }
  return w;
}

const char* const kSchemas[] = {
    // 0: a flat record
    R"({"type": "object", "properties": {"name": {"type": "string", "maxLength": 20},
        "age": {"type": "integer"}, "email": {"type": "string"}, "score": {"type": "number"},
        "active": {"type": "boolean"}}, "required": ["name", "age"],
        "additionalProperties": false})",
    // 1: an array of enums
    R"({"type": "array", "items": {"enum": ["red", "green", "blue", "dark \"grey\""]},
        "minItems": 1, "maxItems": 5})",
    // 2: anyOf of objects told apart by a const
    R"({"anyOf": [
        {"type": "object", "properties": {"kind": {"const": "circle"},
         "radius": {"type": "number"}}, "required": ["kind", "radius"],
         "additionalProperties": false},
        {"type": "object", "properties": {"kind": {"const": "rect"}, "w": {"type": "number"},
         "h": {"type": "number"}}, "required": ["kind", "w", "h"],
         "additionalProperties": false}]})",
    // 3: nested objects and an array of objects
    R"({"type": "object", "properties": {"id": {"type": "integer"},
        "customer": {"type": "object", "properties": {"name": {"type": "string"},
          "address": {"type": "object", "properties": {"street": {"type": "string"},
            "zip": {"type": "string", "minLength": 5, "maxLength": 5}},
            "required": ["street", "zip"], "additionalProperties": false}},
          "required": ["name", "address"], "additionalProperties": false},
        "lines": {"type": "array", "maxItems": 3, "items": {"type": "object",
          "properties": {"sku": {"type": "string", "maxLength": 8},
          "qty": {"type": "integer"}}, "required": ["sku", "qty"],
          "additionalProperties": false}}},
        "required": ["id", "customer", "lines"], "additionalProperties": false})",
    // 4: nullable fields, type lists
    R"({"type": "object", "properties": {"note": {"type": ["string", "null"]},
        "n": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
        "flag": {"type": "boolean"}}, "required": ["note", "n", "flag"],
        "additionalProperties": false})",
    // 5: recursion through $defs
    R"({"$defs": {"node": {"type": "object", "properties": {"value": {"type": "integer"},
        "children": {"type": "array", "maxItems": 2, "items": {"$ref": "#/$defs/node"}}},
        "required": ["value"], "additionalProperties": false}}, "$ref": "#/$defs/node"})",
    // 6: a map of integers
    R"({"type": "object", "additionalProperties": {"type": "integer"}})",
    // 7: oneOf of disjoint scalars
    R"({"oneOf": [{"type": "integer"}, {"type": "string", "maxLength": 5},
        {"type": "boolean"}]})",
    // 8: strings with bounds and an enum with non-ASCII text
    R"({"type": "object", "properties": {"code": {"type": "string", "minLength": 3,
        "maxLength": 3}, "city": {"enum": ["Zürich", "Besançon", "東京"]},
        "tags": {"type": "array", "items": {"type": "string", "maxLength": 4}, "maxItems": 3}},
        "required": ["code", "city", "tags"], "additionalProperties": false})",
    // 9: open object with declared properties, and a const
    R"({"type": "object", "properties": {"version": {"const": 2},
        "meta": {"type": "object"}}, "required": ["version"], "additionalProperties": true})",
    // 10: alternatives that share a string property, followed side by side
    R"({"anyOf": [
        {"type": "object", "properties": {"name": {"type": "string", "maxLength": 6},
         "a": {"type": "integer"}}, "required": ["name", "a"], "additionalProperties": false},
        {"type": "object", "properties": {"name": {"type": "string", "minLength": 2,
         "maxLength": 12}, "b": {"type": "boolean"}}, "required": ["name", "b"],
         "additionalProperties": false}]})",
};

TEST(JsonConstraintGeneration, RandomWalksGiveValidJson) {
  ASSERT_NE(LlamaVocab(), nullptr);
  constexpr int kSeeds = 30;
  constexpr int kMaxTokens = 300;
  int finished = 0, total = 0;
  for (size_t k = 0; k < std::size(kSchemas); ++k) {
    const Schema schema = Schema::parse(kSchemas[k]);
    auto c = JsonConstraint::FromSchema(schema, LlamaVocab());
    ASSERT_TRUE(c.ok()) << c.error().message;
    for (int seed = 0; seed < kSeeds; ++seed) {
      c->Reset();
      WalkChecks checks;
      checks.compare_fast_path = seed < 2 || k == 10;
      const Walk w = RandomWalk(*c, 1000 * k + seed, kMaxTokens, checks);
      ++total;
      if (!w.finished) continue;  // hit the cap: nothing to check but the steps
      ++finished;
      Json value;
      ASSERT_TRUE(ParseStrict(w.text, value))
          << "schema " << k << " seed " << seed << ": " << w.text;
      EXPECT_EQ(Validate(value, schema, schema, "#"), "")
          << "schema " << k << " seed " << seed << ": " << w.text;
    }
  }
  std::printf("constrained walks: %d of %d finished within %d tokens\n", finished, total,
              kMaxTokens);
  EXPECT_GE(finished, total * 8 / 10);
}

TEST(JsonConstraintGeneration, JsonObjectModeGivesObjects) {
  ASSERT_NE(LlamaVocab(), nullptr);
  JsonConstraint c = JsonConstraint::AnyObject(LlamaVocab());
  int finished = 0;
  for (int seed = 0; seed < 40; ++seed) {
    c.Reset();
    WalkChecks checks;
    checks.compare_fast_path = seed < 5;
    const Walk w = RandomWalk(c, 77 + seed, 300, checks);
    if (!w.finished) continue;
    ++finished;
    Json value;
    ASSERT_TRUE(ParseStrict(w.text, value)) << w.text;
    EXPECT_TRUE(value.is_object()) << w.text;
  }
  EXPECT_GE(finished, 20);
}

TEST(JsonConstraintGeneration, SamplerStepsGiveValidJson) {
  // The hook a generation loop uses, with the real sampler on random logits
  // that, like a model's, favour some tokens (here those that close things).
  ASSERT_NE(LlamaVocab(), nullptr);
  const TokenTrie& vocab = *LlamaVocab();
  const std::vector<bool> is_structural = StructuralTokens(vocab);
  const Schema schema = Schema::parse(kSchemas[3]);
  auto c = JsonConstraint::FromSchema(schema, LlamaVocab());
  ASSERT_TRUE(c.ok()) << c.error().message;
  std::vector<float> logits(vocab.n_vocab()), scratch;
  int finished = 0;
  constexpr int kSeeds = 10;
  for (uint64_t seed = 0; seed < kSeeds; ++seed) {
    SamplingParams params;
    params.seed = seed;
    params.temperature = 1.0f;
    auto sampler = Sampler::Create(params, vocab.n_vocab());
    ASSERT_TRUE(sampler.ok());
    Rng rng(seed + 100);
    for (int32_t id = 0; id < vocab.n_vocab(); ++id) {
      logits[id] = static_cast<float>(rng.Normal() * 2.0) + (is_structural[id] ? 6.0f : 0.0f);
    }
    c->Reset();
    std::string text;
    for (int step = 0; step < 300 && !c->IsFinished(); ++step) {
      Result<int32_t> token = SampleConstrained(*sampler, *c, logits, scratch);
      ASSERT_TRUE(token.ok()) << token.error().message << " after " << text;
      sampler->Accept(*token);
      if (!vocab.IsEnd(*token)) text += vocab.piece(*token);
    }
    if (!c->IsFinished()) continue;
    ++finished;
    Json value;
    ASSERT_TRUE(ParseStrict(text, value)) << text;
    EXPECT_EQ(Validate(value, schema, schema, "#"), "") << text;
  }
  std::printf("sampled generations: %d of %d finished\n", finished, kSeeds);
  EXPECT_GE(finished, kSeeds / 2);
}

TEST(JsonConstraintGeneration, EndTokensOnlyWhenComplete) {
  ASSERT_NE(LlamaVocab(), nullptr);
  const TokenTrie& vocab = *LlamaVocab();
  ASSERT_FALSE(vocab.end_ids().empty());
  const int32_t eos = vocab.end_ids()[0];
  auto c = JsonConstraint::FromSchema(Schema::parse(R"({"type": "array"})"), LlamaVocab());
  ASSERT_TRUE(c.ok());
  std::vector<uint8_t> mask;
  c->AllowedTokens(mask);
  EXPECT_EQ(mask[eos], 0);
  EXPECT_FALSE(c->Accept(eos).ok());
  ASSERT_TRUE(c->AcceptText("[1, \"x\"]").ok());
  c->AllowedTokens(mask);
  EXPECT_EQ(mask[eos], 1);
  EXPECT_TRUE(c->Accept(eos).ok());
  EXPECT_TRUE(c->IsFinished());
  EXPECT_EQ(c->AllowedTokens(mask), 0);
  EXPECT_FALSE(c->Accept(eos).ok());
}

TEST(JsonConstraintGeneration, MaskMatchesPieces) {
  // Independent check of the mask at a few fixed states: a token is allowed
  // exactly when its piece continues the text, decided here by trying the
  // piece on a fresh byte recognizer.
  ASSERT_NE(LlamaVocab(), nullptr);
  const TokenTrie& vocab = *LlamaVocab();
  const Schema schema = Schema::parse(kSchemas[3]);
  auto grammar = JsonGrammar::FromSchema(schema);
  ASSERT_TRUE(grammar.ok());
  for (const char* prefix : {"", "{\"id\": 12", "{\"id\":1,\"customer\":{\"name\":\"A b",
                             "{\"id\":1,\"customer\":{\"name\":\"\",\"address\":{\"street\":"
                             "\"s\",\"zip\":\"123"}) {
    JsonConstraint c(*grammar, LlamaVocab());
    ASSERT_TRUE(c.AcceptText(prefix).ok()) << prefix;
    std::vector<uint8_t> mask;
    c.AllowedTokens(mask);
    for (int32_t id = 0; id < vocab.n_vocab(); id += 7) {
      bool expected = false;
      if (!vocab.piece(id).empty()) {
        JsonMatcher m(*grammar);
        m.AcceptBytes(prefix);
        expected = m.AcceptBytes(vocab.piece(id)) == vocab.piece(id).size();
      }
      ASSERT_EQ(mask[id] != 0, expected)
          << "token " << id << " '" << vocab.piece(id) << "' after " << prefix;
    }
  }
}

void PrintTimes(const char* vocab, int32_t n_vocab, const char* what, std::vector<double> micros) {
  if (micros.empty()) return;
  std::sort(micros.begin(), micros.end());
  double sum = 0;
  for (double m : micros) sum += m;
  const size_t n = micros.size();
  std::printf(
      "mask time, %s (%d tokens), %s, %zu steps: mean %.0f us, p50 %.0f, p90 %.0f, "
      "p99 %.0f, max %.0f\n",
      vocab, n_vocab, what, n, sum / n, micros[n / 2], micros[n * 9 / 10], micros[n * 99 / 100],
      micros.back());
}

// Not a timed test: prints the time to compute one mask, for the record.
TEST(JsonConstraintGeneration, MaskTimePerStep) {
  for (const char* name : {"ggml-vocab-llama-spm.gguf", "ggml-vocab-gpt-2.gguf"}) {
    const auto start = std::chrono::steady_clock::now();
    auto vocab = LoadVocab(name);
    ASSERT_NE(vocab, nullptr);
    std::printf("vocabulary load + TokenTrie, %s: %.0f ms\n", name,
                std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                    .count());
    std::vector<double> micros[kNumStepKinds];
    auto run = [&](JsonConstraint& c) {
      for (int seed = 0; seed < 5; ++seed) {
        c.Reset();
        WalkChecks checks;
        checks.mask_micros = micros;
        RandomWalk(c, seed, 200, checks);
      }
    };
    for (size_t k : {0u, 3u, 5u}) {
      auto c = JsonConstraint::FromSchema(Schema::parse(kSchemas[k]), vocab);
      ASSERT_TRUE(c.ok());
      run(*c);
    }
    JsonConstraint any = JsonConstraint::AnyObject(vocab);
    run(any);
    std::vector<double> all;
    for (int k = 0; k < kNumStepKinds; ++k) {
      PrintTimes(name, vocab->n_vocab(), kStepKindNames[k], micros[k]);
      all.insert(all.end(), micros[k].begin(), micros[k].end());
    }
    PrintTimes(name, vocab->n_vocab(), "all steps", all);

    // Fixed states, best of 20, with and without the string fast path.
    auto grammar = JsonGrammar::FromSchema(Schema::parse(kSchemas[3]));
    ASSERT_TRUE(grammar.ok());
    const std::pair<bool, const char*> states[] = {
        {false, "{\"id\": 12"},
        {false, "{\"id\":1,\"customer\":{\"name\":\"Ada L"},
        {false, "{\"id\":1,\"customer\":{\"na"},
        {true, "{\"a\": [1, {\"b\": \"x"},
        {true, "{\"a\": [1, {\"b"},
        {true, "{\"a\": [1, {\"b\": 1"},
    };
    for (const auto& [any_object, prefix] : states) {
      JsonConstraint c =
          any_object ? JsonConstraint::AnyObject(vocab) : JsonConstraint(*grammar, vocab);
      ASSERT_TRUE(c.AcceptText(prefix).ok()) << prefix;
      for (bool fast : {true, false}) {
        c.set_string_fast_path(fast);
        double best = 1e30;
        std::vector<uint8_t> mask;
        int32_t allowed = 0;
        for (int rep = 0; rep < 20; ++rep) {
          const auto t0 = std::chrono::steady_clock::now();
          allowed = c.AllowedTokens(mask);
          const auto t1 = std::chrono::steady_clock::now();
          best = std::min(best, std::chrono::duration<double, std::micro>(t1 - t0).count());
        }
        std::printf("mask time, %s, %s after '%s'%s: %.0f us, %d tokens allowed\n", name,
                    any_object ? "json_object" : "schema 3", prefix, fast ? "" : " (plain walk)",
                    best, allowed);
      }
    }
  }
}

}  // namespace
}  // namespace autan::constraint
