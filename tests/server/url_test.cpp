#include "server/url.h"

#include <gtest/gtest.h>

#include <string>

namespace autan::server {
namespace {

TEST(PercentDecode, DecodesHexPairsAndKeepsTheRest) {
  EXPECT_EQ(PercentDecode("/v1/models/a%2Fb"), "/v1/models/a/b");
  EXPECT_EQ(PercentDecode("%41%62%7e"), "Ab~");
  EXPECT_EQ(PercentDecode("a+b"), "a+b");  // '+' is a space only in queries
  EXPECT_EQ(PercentDecode(std::string_view("%00", 3)), std::string(1, '\0'));
  // Incomplete or non-hex escapes stay as they were, also at the very end.
  EXPECT_EQ(PercentDecode("%"), "%");
  EXPECT_EQ(PercentDecode("%4"), "%4");
  EXPECT_EQ(PercentDecode("x%4"), "x%4");
  EXPECT_EQ(PercentDecode("%zz%4g"), "%zz%4g");
  EXPECT_EQ(PercentDecode("%%41"), "%A");
}

TEST(SplitTarget, SplitsAtTheFirstQuestionMark) {
  std::string path, query;
  SplitTarget("/api/conversations?q=a%20b?c", path, query);
  EXPECT_EQ(path, "/api/conversations");
  EXPECT_EQ(query, "q=a%20b?c");
  SplitTarget("/a%3Fb", path, query);  // an encoded '?' belongs to the path
  EXPECT_EQ(path, "/a?b");
  EXPECT_EQ(query, "");
}

TEST(QueryValue, FindsTheFirstValueOfTheName) {
  EXPECT_EQ(QueryValue("q=hello+world&x=1", "q"), "hello world");
  EXPECT_EQ(QueryValue("x=1&q=caf%C3%A9&q=2", "q"), "caf\xc3\xa9");
  EXPECT_EQ(QueryValue("q", "q"), "");
  EXPECT_EQ(QueryValue("q=", "q"), "");
  EXPECT_EQ(QueryValue("qq=1&=2", "q"), std::nullopt);
  EXPECT_EQ(QueryValue("", "q"), std::nullopt);
  EXPECT_EQ(QueryValue("q=100%", "q"), "100%");
  EXPECT_EQ(QueryValue("q=%2", "q"), "%2");
}

}  // namespace
}  // namespace autan::server
