// Jinja2's tests (`x is defined`) and the sorting/aggregating filters, shared
// with the filter table in filters.cpp.
#pragma once

#include "core/result.h"
#include "tokenizer/jinja/builtins.h"

namespace autan::jinja {

using FilterFn = Result<Value> (*)(const Value&, const CallArgs&, const Budget&);
using TestFn = Result<bool> (*)(const Value&, const CallArgs&);

Result<Value> FilterDictsort(const Value& in, const CallArgs& args, const Budget& budget);
Result<Value> FilterMax(const Value& in, const CallArgs& args, const Budget& budget);
Result<Value> FilterMin(const Value& in, const CallArgs& args, const Budget& budget);
Result<Value> FilterSort(const Value& in, const CallArgs& args, const Budget& budget);
Result<Value> FilterSum(const Value& in, const CallArgs& args, const Budget& budget);
Result<Value> FilterUnique(const Value& in, const CallArgs& args, const Budget& budget);
Result<Value> FilterWordcount(const Value& in, const CallArgs& args, const Budget& budget);

Result<bool> TestBoolean(const Value& v, const CallArgs& args);
Result<bool> TestCallable(const Value& v, const CallArgs& args);
Result<bool> TestDefined(const Value& v, const CallArgs& args);
Result<bool> TestDivisibleBy(const Value& v, const CallArgs& args);
Result<bool> TestEq(const Value& v, const CallArgs& args);
Result<bool> TestEscaped(const Value& v, const CallArgs& args);
Result<bool> TestEven(const Value& v, const CallArgs& args);
Result<bool> TestFalse(const Value& v, const CallArgs& args);
Result<bool> TestFilter(const Value& v, const CallArgs& args);
Result<bool> TestFloat(const Value& v, const CallArgs& args);
Result<bool> TestGe(const Value& v, const CallArgs& args);
Result<bool> TestGt(const Value& v, const CallArgs& args);
Result<bool> TestIn(const Value& v, const CallArgs& args);
Result<bool> TestInteger(const Value& v, const CallArgs& args);
Result<bool> TestIterable(const Value& v, const CallArgs& args);
Result<bool> TestLe(const Value& v, const CallArgs& args);
Result<bool> TestLower(const Value& v, const CallArgs& args);
Result<bool> TestLt(const Value& v, const CallArgs& args);
Result<bool> TestMapping(const Value& v, const CallArgs& args);
Result<bool> TestNe(const Value& v, const CallArgs& args);
Result<bool> TestNone(const Value& v, const CallArgs& args);
Result<bool> TestNumber(const Value& v, const CallArgs& args);
Result<bool> TestOdd(const Value& v, const CallArgs& args);
Result<bool> TestSameAs(const Value& v, const CallArgs& args);
Result<bool> TestSequence(const Value& v, const CallArgs& args);
Result<bool> TestString(const Value& v, const CallArgs& args);
Result<bool> TestTest(const Value& v, const CallArgs& args);
Result<bool> TestTrue(const Value& v, const CallArgs& args);
Result<bool> TestUndefined(const Value& v, const CallArgs& args);
Result<bool> TestUpper(const Value& v, const CallArgs& args);

}  // namespace autan::jinja
