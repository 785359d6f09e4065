#include "runtime/constraint/json_matcher.h"

#include <algorithm>

#include "runtime/constraint/json_lexer.h"

namespace autan::constraint {

namespace {

enum ArrayPhase : uint8_t { kArrOpen, kArrAfterValue };
enum NumberPhase : uint8_t {
  kNumMinus,      // after '-'
  kNumZero,       // a leading 0 (complete)
  kNumInt,        // integer digits (complete)
  kNumDot,        // after '.'
  kNumFrac,       // fraction digits (complete)
  kNumExp,        // after 'e'
  kNumExpSign,    // after 'e+' / 'e-'
  kNumExpDigits,  // exponent digits (complete)
};

// Bounds that keep every number exact in a double and parseable everywhere.
constexpr int32_t kMaxIntDigits = 15;
constexpr int32_t kMaxFracDigits = 15;
constexpr int32_t kMaxExpDigits = 2;

enum class NumStep { kTaken, kRefused, kEnd };  // kEnd: complete; the byte belongs to the parent

NumStep StepNumber(Frame& f, uint8_t c, bool integer) {
  const bool digit = c >= '0' && c <= '9';
  const bool dot = c == '.' && !integer;
  const bool exp = (c == 'e' || c == 'E') && !integer;
  auto to = [&f](NumberPhase phase, int32_t digits) {
    f.phase = phase;
    f.a = digits;
    return NumStep::kTaken;
  };
  auto more = [&f](int32_t max) {
    if (f.a >= max) return NumStep::kRefused;
    ++f.a;
    return NumStep::kTaken;
  };
  switch (f.phase) {
    case kNumMinus:  // "-0" is no integer to some parsers
      if (c == '0') return integer ? NumStep::kRefused : to(kNumZero, 1);
      return digit ? to(kNumInt, 1) : NumStep::kRefused;
    case kNumZero:
    case kNumInt:
      if (digit) return f.phase == kNumZero ? NumStep::kRefused : more(kMaxIntDigits);
      if (dot) return to(kNumDot, 0);
      if (exp) return to(kNumExp, 0);
      return NumStep::kEnd;
    case kNumDot:
      return digit ? to(kNumFrac, 1) : NumStep::kRefused;
    case kNumFrac:
      if (digit) return more(kMaxFracDigits);
      if (exp) return to(kNumExp, 0);
      return NumStep::kEnd;
    case kNumExp:
      if (c == '+' || c == '-') return to(kNumExpSign, 0);
      return digit ? to(kNumExpDigits, 1) : NumStep::kRefused;
    case kNumExpSign:
      return digit ? to(kNumExpDigits, 1) : NumStep::kRefused;
    case kNumExpDigits:
      return digit ? more(kMaxExpDigits) : NumStep::kEnd;
    default:
      return NumStep::kRefused;
  }
}

bool NumberComplete(const Frame& f) {
  return f.phase == kNumZero || f.phase == kNumInt || f.phase == kNumFrac ||
         f.phase == kNumExpDigits;
}

bool AllowsWhitespace(const Frame& f) {
  switch (f.kind) {
    case kValue:
    case kArray:
    case kDone:
      return true;
    case kObject:
      return f.phase != kObjKey;
    default:
      return false;
  }
}

}  // namespace

JsonMatcher::JsonMatcher(std::shared_ptr<const JsonGrammar> grammar)
    : grammar_(std::move(grammar)), g_(grammar_.get()) {
  Reset();
}

void JsonMatcher::Reset() {
  arena_.clear();
  live_links_ = 0;
  parses_.clear();
  Parse start;
  start.top.node = g_->root();
  start.top.kind = kValue;
  parses_.push_back(start);
}

bool JsonMatcher::AcceptByte(uint8_t c) {
  const size_t mark = Mark();
  Step(parses_, c, scratch_);
  if (scratch_.empty()) {
    Release(mark);
    return false;
  }
  Commit(scratch_);
  return true;
}

size_t JsonMatcher::AcceptBytes(std::string_view bytes) {
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (!AcceptByte(static_cast<uint8_t>(bytes[i]))) return i;
  }
  return bytes.size();
}

void JsonMatcher::Step(std::span<const Parse> in, uint8_t c, std::vector<Parse>& out) {
  out.clear();
  for (const Parse& p : in) StepOne(p, c, out);
}

bool JsonMatcher::AnyComplete(std::span<const Parse> parses) const {
  for (Parse p : parses) {
    for (;;) {
      const Frame& f = p.top;
      if (f.kind == kDone) return true;
      const bool complete =
          (f.kind == kNumber && NumberComplete(f)) ||
          (f.kind == kLiteral && g_->trie(g_->node(f.node).trie).Terminal(f.a) >= 0);
      if (!complete) break;
      Pop(p);
    }
  }
  return false;
}

bool JsonMatcher::InPlainText(uint8_t& lex, int32_t& room) const {
  room = -1;
  for (const Parse& p : parses_) {
    const Frame& f = p.top;
    if (f.lex >= kNumUtf8States || (room >= 0 && f.lex != lex)) return false;
    const GrammarNode& n = g_->node(f.node);
    int32_t r;
    if (f.kind == kString) {
      r = n.max_length == kUnbounded ? kUnbounded : n.max_length - f.a;
    } else if (f.kind == kObject && f.phase == kObjKey && FreeKeyAllowed(n, p.nest)) {
      r = kUnbounded;  // plain bytes follow a declared name or leave it: both allowed
    } else {
      return false;
    }
    lex = f.lex;
    room = std::max(room, r);  // a token is allowed when one parse allows it
  }
  return room >= 0;
}

void JsonMatcher::Commit(std::vector<Parse>& parses) {
  parses_.swap(parses);
  if (arena_.size() > 2 * live_links_ + 1024) Compact();
}

void JsonMatcher::Compact() {
  constexpr int32_t kUnseen = -1, kLive = -2;
  std::vector<int32_t> remap(arena_.size(), kUnseen);
  for (const Parse& p : parses_) {
    for (int32_t l = p.rest; l >= 0 && remap[l] == kUnseen; l = arena_[l].parent) remap[l] = kLive;
  }
  // Links only point to older links, so one ascending pass moves them down.
  int32_t n = 0;
  for (size_t i = 0; i < arena_.size(); ++i) {
    if (remap[i] != kLive) continue;
    remap[i] = n;
    Link link = arena_[i];
    if (link.parent >= 0) link.parent = remap[link.parent];
    arena_[n++] = link;
  }
  arena_.resize(n);
  for (Parse& p : parses_) {
    if (p.rest >= 0) p.rest = remap[p.rest];
  }
  live_links_ = arena_.size();
}

void JsonMatcher::Emit(const Parse& p, std::vector<Parse>& out) const {
  if (std::find(out.begin(), out.end(), p) != out.end()) return;
  // Dropping a parse only narrows what may follow: the ones kept are valid.
  if (static_cast<int32_t>(out.size()) >= g_->options().max_parses) return;
  out.push_back(p);
}

void JsonMatcher::Pop(Parse& p) const {
  if (p.rest < 0) {
    p.top = Frame{.kind = kDone};
    return;
  }
  const Link& link = arena_[p.rest];
  p.top = link.frame;
  p.rest = link.parent;
}

void JsonMatcher::Push(Parse& p, const Frame& continuation, int32_t child) {
  arena_.push_back(Link{continuation, p.rest});
  p.rest = static_cast<int32_t>(arena_.size() - 1);
  p.top = Frame{.node = child, .kind = kValue};
}

void JsonMatcher::Close(Parse p, std::vector<Parse>& out) const {
  --p.nest;
  Pop(p);
  Emit(p, out);
}

void JsonMatcher::StepOne(Parse p, uint8_t c, std::vector<Parse>& out) {
  const bool ws = IsJsonWhitespace(c);
  if (!ws) p.ws = 0;
  for (;;) {
    Frame& f = p.top;
    if (ws && AllowsWhitespace(f)) {
      if (p.ws < g_->options().max_whitespace_run) {
        ++p.ws;
        Emit(p, out);
      }
      return;
    }
    switch (f.kind) {
      case kValue:
        StartValue(p, c, out);
        return;
      case kLiteral: {
        const ByteTrie& t = g_->trie(g_->node(f.node).trie);
        const int32_t child = t.Child(f.a, c);
        if (child >= 0) {
          f.a = child;
          if (!t.HasChildren(child)) Pop(p);
          Emit(p, out);
          return;
        }
        if (t.Terminal(f.a) < 0) return;
        Pop(p);  // a literal such as 1 in enum [1, 12] ends where the next byte says
        continue;
      }
      case kNumber:
        switch (StepNumber(f, c, g_->node(f.node).kind == NodeKind::kInteger)) {
          case NumStep::kTaken:
            Emit(p, out);
            return;
          case NumStep::kRefused:
            return;
          case NumStep::kEnd:
            Pop(p);
            continue;
        }
        return;
      case kString:
        StepString(p, c, out);
        return;
      case kObject:
        StepObject(p, c, out);
        return;
      case kArray:
        if (StepArray(p, c, out)) continue;
        return;
      default:  // kDone: only whitespace may follow the value
        return;
    }
  }
}

void JsonMatcher::StartValue(Parse p, uint8_t c, std::vector<Parse>& out) {
  Frame& f = p.top;
  const GrammarNode& n = g_->node(f.node);
  if (!n.first.test(c)) return;
  switch (n.kind) {
    case NodeKind::kAnyOf:
      for (int32_t alt : n.alternatives) {  // never anyOf themselves: one level deep
        if (!g_->node(alt).first.test(c) || !g_->Fits(alt, p.nest)) continue;
        Parse q = p;
        q.top = Frame{.node = alt, .kind = kValue};
        StartValue(q, c, out);
      }
      return;
    case NodeKind::kLiteral: {
      const ByteTrie& t = g_->trie(n.trie);
      f.kind = kLiteral;
      f.a = t.Child(0, c);
      if (!t.HasChildren(f.a)) Pop(p);
      break;
    }
    case NodeKind::kString:
      f.kind = kString;
      f.a = 0;
      f.lex = kLexPlain;
      break;
    case NodeKind::kNumber:
    case NodeKind::kInteger:
      f.kind = kNumber;
      f.phase = c == '-' ? kNumMinus : c == '0' ? kNumZero : kNumInt;
      f.a = c == '-' ? 0 : 1;
      break;
    case NodeKind::kObject:
      f.kind = kObject;
      f.phase = kObjOpen;
      f.a = 0;
      ++p.nest;
      break;
    case NodeKind::kArray:
      f.kind = kArray;
      f.phase = kArrOpen;
      f.a = 0;
      ++p.nest;
      break;
  }
  Emit(p, out);
}

void JsonMatcher::StepString(Parse p, uint8_t c, std::vector<Parse>& out) {
  Frame& f = p.top;
  const GrammarNode& n = g_->node(f.node);
  const uint8_t next = kLexTable.next[f.lex][c];
  if (next == kLexQuote) {
    if (f.a >= n.min_length) {
      Pop(p);
      Emit(p, out);
    }
    return;
  }
  if (next == kLexReject) return;
  if (f.lex == kLexPlain) {  // c starts a code point (or an escape, which is one)
    if (f.a >= n.max_length) return;
    ++f.a;
  }
  f.lex = next;
  Emit(p, out);
}

int32_t JsonMatcher::LastAllowed(const GrammarNode& n, int32_t next) const {
  const int32_t size = static_cast<int32_t>(n.properties.size());
  return n.next_required[next] < size ? n.next_required[next] : size - 1;
}

bool JsonMatcher::PropertyAllowed(const GrammarNode& n, int32_t prop, int32_t next,
                                  int32_t nest) const {
  return prop >= next && prop <= LastAllowed(n, next) && g_->Fits(n.properties[prop], nest);
}

bool JsonMatcher::FreeKeyAllowed(const GrammarNode& n, int32_t nest) const {
  return n.additional >= 0 && g_->Fits(n.additional, nest);
}

bool JsonMatcher::KeyPossible(const GrammarNode& n, int32_t next, int32_t nest) const {
  if (FreeKeyAllowed(n, nest)) return true;
  const int32_t last = LastAllowed(n, next);
  for (int32_t p = next; p <= last; ++p) {
    if (g_->Fits(n.properties[p], nest)) return true;
  }
  return false;
}

bool JsonMatcher::SubtreeAllowed(const GrammarNode& n, int32_t trie_node, int32_t next,
                                 int32_t nest) const {
  const std::span<const int32_t> props = g_->trie(n.trie).SubtreeValues(trie_node);
  const int32_t last = LastAllowed(n, next);
  for (auto it = std::lower_bound(props.begin(), props.end(), next);
       it != props.end() && *it <= last; ++it) {
    if (g_->Fits(n.properties[*it], nest)) return true;
  }
  return false;
}

void JsonMatcher::StepObject(Parse p, uint8_t c, std::vector<Parse>& out) {
  Frame& f = p.top;
  const GrammarNode& n = g_->node(f.node);
  const int32_t size = static_cast<int32_t>(n.properties.size());
  switch (f.phase) {
    case kObjOpen:
    case kObjAfterComma:
      if (c == '"' && (f.phase == kObjAfterComma || KeyPossible(n, f.a, p.nest))) {
        f.phase = kObjKey;
        f.b = 0;
        f.lex = kLexPlain;
        Emit(p, out);
      } else if (c == '}' && f.phase == kObjOpen && n.next_required[f.a] == size) {
        Close(p, out);
      }
      return;
    case kObjKey:
      StepKeyByte(p, c, out);
      return;
    case kObjColon:
      if (c == ':') {
        Frame continuation = f;
        continuation.phase = kObjAfterValue;
        continuation.a = f.b >= 0 ? f.b + 1 : f.a;
        continuation.b = 0;
        Push(p, continuation, f.b >= 0 ? n.properties[f.b] : n.additional);
        Emit(p, out);
      }
      return;
    case kObjAfterValue:
      if (c == ',' && KeyPossible(n, f.a, p.nest)) {
        f.phase = kObjAfterComma;
        Emit(p, out);
      } else if (c == '}' && n.next_required[f.a] == size) {
        Close(p, out);
      }
      return;
    default:
      return;
  }
}

void JsonMatcher::StepKeyByte(Parse p, uint8_t c, std::vector<Parse>& out) {
  Frame& f = p.top;
  const GrammarNode& n = g_->node(f.node);
  const ByteTrie& keys = g_->trie(n.trie);
  const bool free_ok = FreeKeyAllowed(n, p.nest);
  const uint8_t next = kLexTable.next[f.lex][c];
  if (next == kLexQuote) {
    // A key spelling a declared name is that property, allowed or not.
    int32_t chosen = -2;
    if (f.b >= 0 && keys.Terminal(f.b) >= 0) {
      if (PropertyAllowed(n, keys.Terminal(f.b), f.a, p.nest)) chosen = keys.Terminal(f.b);
    } else if (free_ok) {
      chosen = -1;
    }
    if (chosen == -2) return;
    f.b = chosen;
    f.phase = kObjColon;
    Emit(p, out);
    return;
  }
  if (next == kLexReject) return;
  if (f.b >= 0) {
    const int32_t child = keys.Child(f.b, c);
    if (child >= 0 && (free_ok || SubtreeAllowed(n, child, f.a, p.nest))) {
      f.b = child;
      f.lex = next;
      Emit(p, out);
      return;
    }
  }
  // An undeclared key may not use \u or \/, escapes that would let it spell
  // a declared name differently.
  if (!free_ok || f.lex >= kLexHex4 || (f.lex == kLexEscape && (c == 'u' || c == '/'))) return;
  f.b = -1;
  f.lex = next;
  Emit(p, out);
}

bool JsonMatcher::StepArray(Parse& p, uint8_t c, std::vector<Parse>& out) {
  Frame& f = p.top;
  const GrammarNode& n = g_->node(f.node);
  const bool item_ok = f.a < n.max_items && g_->Fits(n.items, p.nest);
  if (c == ']') {
    if (f.a >= n.min_items) Close(p, out);
    return false;
  }
  if (f.phase == kArrOpen) {
    if (!item_ok || !g_->node(n.items).first.test(c)) return false;
    Frame continuation = f;
    continuation.phase = kArrAfterValue;
    continuation.a = 1;
    Push(p, continuation, n.items);
    return true;  // c is the first byte of the first item
  }
  if (c == ',' && item_ok) {
    Frame continuation = f;
    continuation.a = f.a + 1;
    Push(p, continuation, n.items);
    Emit(p, out);
  }
  return false;
}

}  // namespace autan::constraint
