#include "formats/gguf_value.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <vector>

namespace autan::gguf {
namespace {

TEST(GgufValue, IntegerAccessorsConvertOnlyWhenTheValueFits) {
  EXPECT_EQ(Value::U8(200).AsUInt(), 200u);
  EXPECT_EQ(Value::U8(200).AsInt(), 200);
  EXPECT_EQ(Value::I8(-5).AsInt(), -5);
  EXPECT_FALSE(Value::I8(-5).AsUInt().has_value());
  EXPECT_EQ(Value::I16(-32768).AsInt(), -32768);
  EXPECT_EQ(Value::I32(std::numeric_limits<int32_t>::min()).AsInt(),
            std::numeric_limits<int32_t>::min());
  EXPECT_EQ(Value::U64(~0ull).AsUInt(), ~0ull);
  EXPECT_FALSE(Value::U64(~0ull).AsInt().has_value());
  EXPECT_EQ(Value::I64(-1).AsInt(), -1);
  EXPECT_FALSE(Value::F32(1.0f).AsUInt().has_value());
  EXPECT_FALSE(Value::Bool(true).AsUInt().has_value());
  EXPECT_FALSE(Value::String("7").AsInt().has_value());
}

TEST(GgufValue, FloatAndBoolAccessors) {
  EXPECT_EQ(Value::F32(0.1f).AsDouble(), static_cast<double>(0.1f));
  EXPECT_EQ(Value::F64(0.1).AsDouble(), 0.1);
  EXPECT_EQ(Value::I32(-3).AsDouble(), -3.0);
  EXPECT_EQ(Value::Bool(true).AsBool(), true);
  EXPECT_EQ(Value::Bool(false).AsBool(), false);
  EXPECT_FALSE(Value::U8(1).AsBool().has_value());
  EXPECT_FALSE(Value::String("x").AsDouble().has_value());
}

TEST(GgufValue, ScalarKeepsItsLittleEndianBytes) {
  const uint8_t le[2] = {0x34, 0x12};
  const Value v = Value::Scalar(ValueType::kU16, le);
  EXPECT_EQ(v.AsUInt(), 0x1234u);
  EXPECT_EQ(v, Value::U16(0x1234));
  const uint8_t neg[2] = {0xfe, 0xff};
  EXPECT_EQ(Value::Scalar(ValueType::kI16, neg).AsInt(), -2);
}

TEST(GgufValue, ArraysPackScalarsAndExposeElements) {
  const std::vector<float> f = {1.5f, -2.0f, 3.25f};
  const Value a = Value::F32Array(f);
  ASSERT_TRUE(a.is_array());
  EXPECT_EQ(a.elem_type(), ValueType::kF32);
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a.packed().size(), 12u);
  EXPECT_EQ(a.At(1).AsDouble(), -2.0);

  const std::vector<Value> items = {Value::I16(-1), Value::I16(7)};
  const Value b = Value::ArrayOf(ValueType::kI16, items);
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b.At(0), Value::I16(-1));
  EXPECT_EQ(b.At(1).AsInt(), 7);

  const Value s = Value::StringArray({"a", "bc"});
  EXPECT_EQ(s.size(), 2u);
  EXPECT_EQ(s.At(1), Value::String("bc"));

  const Value nested = Value::NestedArray({a, s});
  EXPECT_EQ(nested.elem_type(), ValueType::kArray);
  EXPECT_EQ(nested.size(), 2u);
  EXPECT_EQ(nested.At(1), s);
  EXPECT_NE(nested.At(0), s);
}

TEST(GgufValue, ToStringQuotesAndCutsLongArrays) {
  EXPECT_EQ(ValueToString(Value::U32(42)), "42");
  EXPECT_EQ(ValueToString(Value::I64(-9)), "-9");
  EXPECT_EQ(ValueToString(Value::Bool(true)), "true");
  EXPECT_EQ(ValueToString(Value::F32(0.5f)), "0.5");
  EXPECT_EQ(ValueToString(Value::String("a\"b\n")), "\"a\\\"b\\n\"");
  EXPECT_EQ(ValueToString(Value::StringArray({"x", "y"})), "[\"x\", \"y\"]");
  std::vector<int32_t> many(100);
  for (int i = 0; i < 100; ++i) many[i] = i;
  EXPECT_EQ(ValueToString(Value::I32Array(many), 3), "[0, 1, 2, ...] (100 items)");
  EXPECT_EQ(ValueToString(Value::NestedArray({Value::I32Array(std::vector<int32_t>{1})})), "[[1]]");
}

TEST(GgufValue, QuoteEscapesControlBytesAndCuts) {
  EXPECT_EQ(QuoteForDisplay(std::string_view("a\0b", 3)), "\"a\\x00b\"");
  EXPECT_EQ(QuoteForDisplay("abcdef", 3), "\"abc\"...");
  EXPECT_EQ(QuoteForDisplay("\xc3\xa9"), "\"\xc3\xa9\"");  // UTF-8 stays readable
}

TEST(GgufValue, PayloadEncodingMatchesTheSpecLayout) {
  std::string out;
  AppendPayload(Value::U16(0x0102), out);
  EXPECT_EQ(out, std::string("\x02\x01", 2));
  out.clear();
  AppendPayload(Value::String("hi"), out);
  EXPECT_EQ(out, std::string("\x02\0\0\0\0\0\0\0hi", 10));
  out.clear();
  AppendPayload(Value::StringArray({"a"}), out);
  // element type 8 (string), count 1, then the string
  EXPECT_EQ(out, std::string("\x08\0\0\0\x01\0\0\0\0\0\0\0\x01\0\0\0\0\0\0\0a", 21));
}

}  // namespace
}  // namespace autan::gguf
