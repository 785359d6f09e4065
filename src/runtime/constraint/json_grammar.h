// A JSON schema compiled into a graph of value shapes that a byte-level
// pushdown recognizer (JsonMatcher) walks. Supported subset: type (one or a
// list of object, array, string, number, integer, boolean, null), enum, const,
// properties, required, additionalProperties (bool or schema), items,
// minItems, maxItems, minLength, maxLength, anyOf, oneOf (as anyOf), allOf of
// one schema, local $ref (recursion included), boolean schemas. Annotations
// (title, description, default, format, ...) and unknown keywords are ignored,
// as JSON Schema says; constraining keywords outside the subset (pattern,
// minimum, not, ...) are refused with their JSON pointer.
//
// What the recognizer produces, by design:
//   * properties appear in the schema's order (as OpenAI structured outputs
//     do); optional ones may be left out, none repeats; undeclared keys only
//     where additionalProperties allows them (absent means: allowed when the
//     schema declares no properties, as llama.cpp's grammar converter does);
//   * enum and const values are written in compact form (nlohmann's dump);
//   * numbers have at most 15 integer and 15 fraction digits and a two-digit
//     exponent, so every integer fits a double exactly; "integer" has no
//     fraction, exponent or "-0";
//   * whitespace runs between tokens are at most max_whitespace_run bytes and
//     objects and arrays nest at most max_depth deep, so every prefix can be
//     completed and a model cannot spin forever on whitespace.
#pragma once

#include <bitset>
#include <cstdint>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"

namespace autan::constraint {

constexpr int32_t kUnbounded = std::numeric_limits<int32_t>::max();

struct GrammarOptions {
  int32_t max_depth = 32;               // objects and arrays open at once
  int32_t max_whitespace_run = 24;      // bytes of whitespace in a row
  int32_t max_parses = 32;              // alternative parses followed at once (anyOf)
  int32_t max_nodes = 1 << 16;          // compiled schema size
  int64_t max_literal_bytes = 4 << 20;  // enum/const text and property names, in all
};

// A set of byte strings; children of a node are sorted by byte. Node 0 is the
// root. Optionally each node knows the sorted values of the strings below it.
class ByteTrie {
 public:
  // entries: (string, value); equal strings keep the first value.
  static ByteTrie Build(std::vector<std::pair<std::string, int32_t>> entries, bool subtree_values);

  int32_t Child(int32_t node, uint8_t byte) const;                        // -1 when absent
  int32_t Terminal(int32_t node) const { return nodes_[node].terminal; }  // value or -1
  bool HasChildren(int32_t node) const { return nodes_[node].n_edges > 0; }
  std::span<const uint8_t> EdgeBytes(int32_t node) const;
  std::span<const int32_t> SubtreeValues(int32_t node) const;  // ascending
  bool empty() const { return nodes_[0].n_edges == 0 && nodes_[0].terminal < 0; }

 private:
  struct Node {
    uint32_t first_edge = 0;
    uint32_t n_edges = 0;
    int32_t terminal = -1;
    uint32_t values_begin = 0;
    uint32_t values_end = 0;
  };
  std::vector<Node> nodes_;
  std::vector<uint8_t> edge_bytes_;
  std::vector<int32_t> edge_children_;
  std::vector<int32_t> values_;
};

enum class NodeKind : uint8_t { kLiteral, kString, kNumber, kInteger, kObject, kArray, kAnyOf };

struct GrammarNode {
  NodeKind kind = NodeKind::kAnyOf;
  std::string path;                // JSON pointer of the schema, for messages
  int32_t min_depth = kUnbounded;  // objects/arrays a finished value needs
  std::bitset<256> first;          // bytes a value can start with
  int32_t trie = -1;               // kLiteral: the literals; kObject: property names
  int32_t min_length = 0;          // kString, in code points
  int32_t max_length = kUnbounded;
  std::vector<int32_t> properties;     // kObject: value node of each, in schema order
  std::vector<int32_t> next_required;  // kObject: [n+1] first required index >= i, or n
  int32_t additional = -1;             // kObject: node for undeclared keys, -1: none
  int32_t items = -1;                  // kArray
  int32_t min_items = 0;
  int32_t max_items = kUnbounded;
  std::vector<int32_t> alternatives;  // kAnyOf: never kAnyOf themselves
};

class JsonGrammar {
 public:
  // Compiles a schema. Property order is the schema's with ordered_json; a
  // plain nlohmann::json has already sorted its keys, so properties come out
  // in alphabetical order. Errors name the keyword and its JSON pointer.
  static Result<std::shared_ptr<const JsonGrammar>> FromSchema(const nlohmann::ordered_json& schema,
                                                               const GrammarOptions& options = {});
  static Result<std::shared_ptr<const JsonGrammar>> FromSchema(const nlohmann::json& schema,
                                                               const GrammarOptions& options = {});
  // Any JSON object (response_format json_object).
  static std::shared_ptr<const JsonGrammar> AnyObject(const GrammarOptions& options = {});
  // Any JSON value.
  static std::shared_ptr<const JsonGrammar> AnyValue(const GrammarOptions& options = {});

  int32_t root() const { return root_; }
  const GrammarNode& node(int32_t id) const { return nodes_[id]; }
  const ByteTrie& trie(int32_t id) const { return tries_[id]; }
  const GrammarOptions& options() const { return options_; }
  size_t n_nodes() const { return nodes_.size(); }

  // Whether a value of `id` can still be finished with `nest` containers open
  // around it.
  bool Fits(int32_t id, int32_t nest) const {
    const int32_t md = nodes_[id].min_depth;
    return md != kUnbounded && nest + md <= options_.max_depth;
  }

 private:
  template <typename>
  friend class SchemaCompiler;
  JsonGrammar() = default;
  template <typename Json>
  static Result<std::shared_ptr<const JsonGrammar>> Compile(const Json& schema,
                                                            const GrammarOptions& options);
  // Flattens anyOf, computes min_depth and first-byte sets, checks the root.
  Status Finish();

  GrammarOptions options_;
  std::vector<GrammarNode> nodes_;
  std::vector<ByteTrie> tries_;
  int32_t root_ = -1;
};

}  // namespace autan::constraint
