#include "tokenizer/jinja/builtin_tests.h"

#include <algorithm>
#include <cmath>

namespace autan::jinja {
namespace {

// The sort key Jinja2 uses: an attribute path, then lowercase strings unless
// case_sensitive.
Result<Value> SortKey(const Value& item, const Value* attribute, bool case_sensitive) {
  Value key = item;
  if (attribute != nullptr) {
    auto v = GetAttrPath(item, Str(*attribute));
    if (!v.ok()) return v.error();
    key = std::move(*v);
  }
  if (!case_sensitive && key.is_string()) key = Value(ToLower(key.as_string()));
  return key;
}

struct Keyed {
  Value key;
  Value item;
};

Result<std::vector<Keyed>> KeyedItems(const Value& in, const Value* attribute,
                                      bool case_sensitive) {
  auto items = Iterate(in);
  if (!items.ok()) return items.error();
  std::vector<Keyed> keyed;
  for (Value& item : *items) {
    auto key = SortKey(item, attribute, case_sensitive);
    if (!key.ok()) return key.error();
    keyed.push_back({std::move(*key), std::move(item)});
  }
  return keyed;
}

// A stable sort (as Python's sorted) that reports the first comparison error.
Status StableSort(std::vector<Keyed>* items, bool reverse) {
  Status status;
  std::stable_sort(items->begin(), items->end(), [&](const Keyed& a, const Keyed& b) {
    if (!status.ok()) return false;
    auto r = reverse ? Less(b.key, a.key) : Less(a.key, b.key);
    if (!r.ok()) {
      status = r.error();
      return false;
    }
    return *r;
  });
  return status;
}

Result<Value> MinOrMax(const Value& in, const CallArgs& args, bool want_max) {
  ArgBinder bind(want_max ? "filter 'max'" : "filter 'min'", args, {"case_sensitive", "attribute"});
  AUTAN_TRY(bind.status());
  auto keyed = KeyedItems(in, bind.Get(1), bind.Bool(0, false));
  if (!keyed.ok()) return keyed.error();
  if (keyed->empty()) return Value::MakeUndefined("No aggregated item, sequence was empty.");
  size_t best = 0;
  for (size_t i = 1; i < keyed->size(); ++i) {
    auto r = want_max ? Less((*keyed)[best].key, (*keyed)[i].key)
                      : Less((*keyed)[i].key, (*keyed)[best].key);
    if (!r.ok()) return r.error();
    if (*r) best = i;
  }
  return (*keyed)[best].item;
}

Result<const Value*> OneArg(const char* test, const CallArgs& args) {
  if (args.positional.size() != 1 || !args.keyword.empty()) {
    return Fail("test '%s' takes exactly one argument", test);
  }
  return &args.positional[0];
}

// Python's `value % n`, which the odd/even/divisibleby tests compare with 0 or 1.
Result<Value> Modulo(const Value& v, const Value& n) {
  if (!v.is_undefined() && !v.is_number()) {
    return Fail("unsupported operand type(s) for %%: '%s' and '%s'", TypeName(v).c_str(),
                TypeName(n).c_str());
  }
  return BinaryOp("%", v, n, Budget{});
}

Result<bool> Compare(const char* test, const Value& v, const CallArgs& args, bool swap,
                     bool or_equal) {
  auto other = OneArg(test, args);
  if (!other.ok()) return other.error();
  const Value& a = swap ? **other : v;
  const Value& b = swap ? v : **other;
  if (or_equal && Equal(a, b)) return true;
  return Less(a, b);
}

}  // namespace

Result<Value> FilterDictsort(const Value& in, const CallArgs& args, const Budget&) {
  ArgBinder bind("filter 'dictsort'", args, {"case_sensitive", "by", "reverse"});
  std::string by = bind.String(1, "key");
  AUTAN_TRY(bind.status());
  if (!in.is_dict()) return Fail("filter 'dictsort' needs a mapping, got %s", TypeName(in).c_str());
  if (by != "key" && by != "value") return Fail("You can only sort by either 'key' or 'value'");
  bool case_sensitive = bind.Bool(0, false);
  std::vector<Keyed> keyed;
  for (const auto& [k, v] : in.as_dict().items()) {
    Value key = by == "key" ? Value(k) : v;
    if (!case_sensitive && key.is_string()) key = Value(ToLower(key.as_string()));
    keyed.push_back({std::move(key), Value::List({Value(k), v}, true)});
  }
  AUTAN_TRY(StableSort(&keyed, bind.Bool(2, false)));
  std::vector<Value> out;
  for (Keyed& k : keyed) out.push_back(std::move(k.item));
  return Value::List(std::move(out));
}

Result<Value> FilterMax(const Value& in, const CallArgs& args, const Budget&) {
  return MinOrMax(in, args, true);
}

Result<Value> FilterMin(const Value& in, const CallArgs& args, const Budget&) {
  return MinOrMax(in, args, false);
}

Result<Value> FilterSort(const Value& in, const CallArgs& args, const Budget&) {
  ArgBinder bind("filter 'sort'", args, {"reverse", "case_sensitive", "attribute"});
  AUTAN_TRY(bind.status());
  auto keyed = KeyedItems(in, bind.Get(2), bind.Bool(1, false));
  if (!keyed.ok()) return keyed.error();
  AUTAN_TRY(StableSort(&*keyed, bind.Bool(0, false)));
  std::vector<Value> out;
  for (Keyed& k : *keyed) out.push_back(std::move(k.item));
  return Value::List(std::move(out));
}

Result<Value> FilterSum(const Value& in, const CallArgs& args, const Budget& budget) {
  ArgBinder bind("filter 'sum'", args, {"attribute", "start"});
  AUTAN_TRY(bind.status());
  Value total = bind.Get(1) != nullptr ? *bind.Get(1) : Value(0);
  if (total.is_string()) return Fail("sum() can't sum strings [use ''.join(seq) instead]");
  auto keyed = KeyedItems(in, bind.Get(0), true);
  if (!keyed.ok()) return keyed.error();
  for (const Keyed& k : *keyed) {
    auto r = BinaryOp("+", total, k.key, budget);
    if (!r.ok()) return r.error();
    total = std::move(*r);
  }
  return total;
}

Result<Value> FilterUnique(const Value& in, const CallArgs& args, const Budget&) {
  ArgBinder bind("filter 'unique'", args, {"case_sensitive", "attribute"});
  AUTAN_TRY(bind.status());
  auto keyed = KeyedItems(in, bind.Get(1), bind.Bool(0, false));
  if (!keyed.ok()) return keyed.error();
  std::vector<Value> seen;
  std::vector<Value> out;
  for (Keyed& k : *keyed) {
    bool dup =
        std::any_of(seen.begin(), seen.end(), [&](const Value& s) { return Equal(s, k.key); });
    if (dup) continue;
    seen.push_back(k.key);
    out.push_back(std::move(k.item));
  }
  return Value::Sequence(std::move(out), SeqKind::kIterator, "generator");
}

Result<Value> FilterWordcount(const Value& in, const CallArgs& args, const Budget&) {
  if (!args.positional.empty() || !args.keyword.empty()) {
    return Fail("filter 'wordcount' takes no arguments");
  }
  std::string s = Str(in);
  int64_t words = 0;
  bool in_word = false;
  size_t pos = 0;
  while (pos < s.size()) {
    uint32_t cp = DecodeUtf8(s, &pos);
    bool word_char =
        cp == '_' || (cp < 0x80 ? std::isalnum(static_cast<int>(cp)) != 0 : !IsPyWhitespace(cp));
    if (word_char && !in_word) ++words;
    in_word = word_char;
  }
  return Value(words);
}

Result<bool> TestBoolean(const Value& v, const CallArgs&) { return v.is_bool(); }
Result<bool> TestCallable(const Value& v, const CallArgs&) { return v.kind() == Kind::kCallable; }
Result<bool> TestDefined(const Value& v, const CallArgs&) { return !v.is_undefined(); }
Result<bool> TestUndefined(const Value& v, const CallArgs&) { return v.is_undefined(); }
Result<bool> TestEscaped(const Value&, const CallArgs&) { return false; }
Result<bool> TestFalse(const Value& v, const CallArgs&) { return v.is_bool() && !v.as_bool(); }
Result<bool> TestTrue(const Value& v, const CallArgs&) { return v.is_bool() && v.as_bool(); }
Result<bool> TestFloat(const Value& v, const CallArgs&) { return v.is_float(); }
Result<bool> TestInteger(const Value& v, const CallArgs&) { return v.is_int(); }
Result<bool> TestNumber(const Value& v, const CallArgs&) { return v.is_number(); }
Result<bool> TestString(const Value& v, const CallArgs&) { return v.is_string(); }
Result<bool> TestNone(const Value& v, const CallArgs&) { return v.is_none(); }
Result<bool> TestMapping(const Value& v, const CallArgs&) { return v.is_dict(); }

// Python's iter() accepts these; Jinja2's Undefined iterates as empty.
Result<bool> TestIterable(const Value& v, const CallArgs&) {
  return v.is_undefined() || v.is_string() || v.is_list() || v.is_dict() || v.kind() == Kind::kLoop;
}

// len() and __getitem__ both exist: Undefined has them too; generators and
// dict views lack one of them.
Result<bool> TestSequence(const Value& v, const CallArgs&) {
  return v.is_undefined() || v.is_string() || (v.is_list() && v.as_list().is_plain()) ||
         v.is_dict();
}

Result<bool> TestDivisibleBy(const Value& v, const CallArgs& args) {
  auto num = OneArg("divisibleby", args);
  if (!num.ok()) return num.error();
  auto m = Modulo(v, **num);
  if (!m.ok()) return m.error();
  return Equal(*m, Value(0));
}

Result<bool> TestEven(const Value& v, const CallArgs&) {
  auto m = Modulo(v, Value(2));
  if (!m.ok()) return m.error();
  return Equal(*m, Value(0));
}

Result<bool> TestOdd(const Value& v, const CallArgs&) {
  auto m = Modulo(v, Value(2));
  if (!m.ok()) return m.error();
  return Equal(*m, Value(1));
}

Result<bool> TestEq(const Value& v, const CallArgs& args) {
  auto other = OneArg("eq", args);
  if (!other.ok()) return other.error();
  return Equal(v, **other);
}

Result<bool> TestNe(const Value& v, const CallArgs& args) {
  auto other = OneArg("ne", args);
  if (!other.ok()) return other.error();
  return !Equal(v, **other);
}

Result<bool> TestLt(const Value& v, const CallArgs& a) { return Compare("lt", v, a, false, false); }
Result<bool> TestLe(const Value& v, const CallArgs& a) { return Compare("le", v, a, false, true); }
Result<bool> TestGt(const Value& v, const CallArgs& a) { return Compare("gt", v, a, true, false); }
Result<bool> TestGe(const Value& v, const CallArgs& a) { return Compare("ge", v, a, true, true); }

Result<bool> TestIn(const Value& v, const CallArgs& args) {
  auto seq = OneArg("in", args);
  if (!seq.ok()) return seq.error();
  return Contains(**seq, v);
}

Result<bool> TestLower(const Value& v, const CallArgs&) {
  std::string s = Str(v);
  return ToLower(s) == s && ToUpper(s) != s;
}

Result<bool> TestUpper(const Value& v, const CallArgs&) {
  std::string s = Str(v);
  return ToUpper(s) == s && ToLower(s) != s;
}

// Python's `is`: identity for containers and singletons; small values compare
// by value, as CPython's caches make them identical in practice.
Result<bool> TestSameAs(const Value& v, const CallArgs& args) {
  auto other = OneArg("sameas", args);
  if (!other.ok()) return other.error();
  const Value& o = **other;
  if (v.kind() != o.kind()) return false;
  if (v.is_list()) return v.list_ptr() == o.list_ptr();
  if (v.is_dict()) return &v.as_dict() == &o.as_dict();
  return Equal(v, o);
}

Result<bool> TestFilter(const Value& v, const CallArgs&) {
  return v.is_string() && FindFilter(v.as_string()) >= 0;
}

Result<bool> TestTest(const Value& v, const CallArgs&) {
  return v.is_string() && FindTest(v.as_string()) >= 0;
}

}  // namespace autan::jinja
