// A byte-at-a-time recognizer for the JSON texts a JsonGrammar allows. It
// follows every parse still possible (anyOf alternatives that have not yet
// been told apart), so it accepts exactly the prefixes of allowed texts, and
// every accepted prefix can still be completed within the nesting limit.
//
// Parses share their enclosing frames through an arena of links, so moving a
// parse by one byte copies one small frame. Links made while exploring
// (TokenTrie walks) are released with Mark()/Release().
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "runtime/constraint/json_grammar.h"

namespace autan::constraint {

// What a parse is doing right now; the enclosing ones wait in the arena.
struct Frame {
  int32_t node = 0;  // grammar node
  int32_t a = 0;     // literal: trie node; string: code points; number: digits;
                     // object: next property allowed; array: items so far
  int32_t b = 0;     // object: key trie node (-1: an undeclared key), then the chosen property
  uint8_t kind = 0;  // FrameKind
  uint8_t phase = 0;
  uint8_t lex = 0;  // LexState inside strings and keys
  uint8_t unused = 0;
  bool operator==(const Frame&) const = default;
};

enum FrameKind : uint8_t { kValue, kLiteral, kString, kNumber, kObject, kArray, kDone };
enum ObjectPhase : uint8_t { kObjOpen, kObjKey, kObjColon, kObjAfterValue, kObjAfterComma };

struct Parse {
  Frame top;
  int32_t rest = -1;  // arena link of the enclosing frames; -1: none (top level)
  uint16_t nest = 0;  // objects and arrays open
  uint16_t ws = 0;    // whitespace bytes in a row just before here
  bool operator==(const Parse&) const = default;
};

class JsonMatcher {
 public:
  explicit JsonMatcher(std::shared_ptr<const JsonGrammar> grammar);

  // Consumes one byte; false (and nothing changes) when no parse allows it.
  bool AcceptByte(uint8_t c);
  // Consumes bytes until the first one refused; returns how many it took.
  size_t AcceptBytes(std::string_view bytes);
  // Whether the bytes so far form a complete value (end of text allowed).
  bool IsComplete() const { return AnyComplete(parses_); }
  void Reset();

  // True when every parse is inside a string value or a key that may be
  // undeclared, all in the same UTF-8 state: then any text without quote,
  // backslash or control byte continues the output exactly as far as it is
  // well-formed UTF-8 from `lex` (a LexState) and starts at most `room` more
  // code points (the most any parse allows).
  bool InPlainText(uint8_t& lex, int32_t& room) const;

  const std::vector<Parse>& parses() const { return parses_; }
  const JsonGrammar& grammar() const { return *grammar_; }

  // The low-level interface of token walks: `out` gets the parses that
  // follow `in` after byte c (deduplicated, at most max_parses). Links they
  // push stay in the arena until Release.
  void Step(std::span<const Parse> in, uint8_t c, std::vector<Parse>& out);
  bool AnyComplete(std::span<const Parse> parses) const;
  size_t Mark() const { return arena_.size(); }
  void Release(size_t mark) { arena_.resize(mark); }
  // Makes `parses` the current state (they must come from Step on the
  // current state) and drops arena links nothing refers to any more.
  void Commit(std::vector<Parse>& parses);

 private:
  struct Link {
    Frame frame;
    int32_t parent;
  };

  void StepOne(Parse p, uint8_t c, std::vector<Parse>& out);
  void StartValue(Parse p, uint8_t c, std::vector<Parse>& out);
  void StepString(Parse p, uint8_t c, std::vector<Parse>& out);
  void StepObject(Parse p, uint8_t c, std::vector<Parse>& out);
  void StepKeyByte(Parse p, uint8_t c, std::vector<Parse>& out);
  // Returns true when c must be read again by the frame now on top.
  bool StepArray(Parse& p, uint8_t c, std::vector<Parse>& out);
  void Emit(const Parse& p, std::vector<Parse>& out) const;
  void Pop(Parse& p) const;
  void Push(Parse& p, const Frame& continuation, int32_t child);
  void Close(Parse p, std::vector<Parse>& out) const;

  // Objects: which properties may come next (schema order; see JsonGrammar).
  int32_t LastAllowed(const GrammarNode& n, int32_t next) const;
  bool PropertyAllowed(const GrammarNode& n, int32_t prop, int32_t next, int32_t nest) const;
  bool KeyPossible(const GrammarNode& n, int32_t next, int32_t nest) const;
  bool FreeKeyAllowed(const GrammarNode& n, int32_t nest) const;
  bool SubtreeAllowed(const GrammarNode& n, int32_t trie_node, int32_t next, int32_t nest) const;

  void Compact();

  std::shared_ptr<const JsonGrammar> grammar_;
  const JsonGrammar* g_;  // grammar_.get()
  std::vector<Link> arena_;
  std::vector<Parse> parses_;
  std::vector<Parse> scratch_;
  size_t live_links_ = 0;  // arena size after the last compaction
};

}  // namespace autan::constraint
