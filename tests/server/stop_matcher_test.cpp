#include "server/stop_matcher.h"

#include <gtest/gtest.h>

#include <random>

namespace autan::server {
namespace {

struct Streamed {
  std::string text;
  bool stopped = false;
};

// Feeds the pieces one by one, as a stream would; checks after every piece
// that what was emitted so far is a prefix of the final text.
Streamed Stream(const std::vector<std::string>& stops, const std::vector<std::string>& pieces) {
  StopMatcher m(stops);
  Streamed out;
  for (const std::string& p : pieces) {
    StopMatcher::Output o = m.Push(p);
    out.text += o.text;
    if (o.stopped) {
      out.stopped = true;
      return out;
    }
  }
  out.text += m.Flush();
  return out;
}

// The oracle: after each piece, search the whole text so far; the first time
// some stop occurs, cut before the earliest occurrence.
Streamed Expected(const std::vector<std::string>& stops, const std::vector<std::string>& pieces) {
  std::string text;
  for (const std::string& p : pieces) {
    text += p;
    size_t first = std::string::npos;
    for (const std::string& s : stops) first = std::min(first, text.find(s));
    if (first != std::string::npos) return {text.substr(0, first), true};
  }
  return {text, false};
}

TEST(StopMatcher, MatchesAcrossPieces) {
  Streamed s = Stream({"\n\nUser:"}, {"Hello", " there", "\n", "\nUs", "er:", " more"});
  EXPECT_EQ(s.text, "Hello there");
  EXPECT_TRUE(s.stopped);
}

TEST(StopMatcher, HoldsBackOnlyPossibleStarts) {
  StopMatcher m({"END"});
  EXPECT_EQ(m.Push("abcE").text, "abc");  // "E" may start "END"
  EXPECT_EQ(m.held(), 1u);
  EXPECT_EQ(m.Push("N").text, "");
  StopMatcher::Output o = m.Push("x");  // "ENx" is not a stop: release it
  EXPECT_EQ(o.text, "ENx");
  EXPECT_FALSE(o.stopped);
  EXPECT_EQ(m.Push("yEN").text, "y");
  EXPECT_EQ(m.Flush(), "EN");  // generation ended with a partial match
}

TEST(StopMatcher, EarliestStopWins) {
  Streamed s = Stream({"world", "lo w"}, {"hello world"});
  EXPECT_EQ(s.text, "hel");
}

TEST(StopMatcher, NoStopsPassesThrough) {
  Streamed s = Stream({}, {"a", "b", "c"});
  EXPECT_EQ(s.text, "abc");
  EXPECT_FALSE(s.stopped);
}

TEST(StopMatcher, StopAtVeryStart) {
  Streamed s = Stream({"##"}, {"#", "#tail"});
  EXPECT_EQ(s.text, "");
  EXPECT_TRUE(s.stopped);
}

TEST(StopMatcher, RandomSplitsAgreeWithWholeTextSearch) {
  std::mt19937 rng(7);
  const std::string alphabet = "ab\n";
  for (int trial = 0; trial < 3000; ++trial) {
    std::vector<std::string> stops;
    const int n_stops = 1 + static_cast<int>(rng() % 3);
    for (int i = 0; i < n_stops; ++i) {
      std::string s;
      const int len = 1 + static_cast<int>(rng() % 4);
      for (int j = 0; j < len; ++j) s += alphabet[rng() % alphabet.size()];
      stops.push_back(s);
    }
    std::string whole;
    const int len = static_cast<int>(rng() % 24);
    for (int j = 0; j < len; ++j) whole += alphabet[rng() % alphabet.size()];
    std::vector<std::string> pieces;
    for (size_t at = 0; at < whole.size();) {
      const size_t n = std::min(whole.size() - at, static_cast<size_t>(rng() % 4));
      pieces.push_back(whole.substr(at, n));  // empty pieces too (tokens with no text)
      at += n;
    }
    const Streamed got = Stream(stops, pieces);
    const Streamed want = Expected(stops, pieces);
    ASSERT_EQ(got.text, want.text) << "text '" << whole << "' trial " << trial;
    ASSERT_EQ(got.stopped, want.stopped) << "text '" << whole << "' trial " << trial;
  }
}

}  // namespace
}  // namespace autan::server
