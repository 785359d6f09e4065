// The web app's session cookie, CSRF and Origin checks and sign-in throttle.
#include "server/app_security.h"

#include <gtest/gtest.h>

namespace autan::server {
namespace {

TEST(AppSecurity, CookieValueFindsTheNamedCookieOnly) {
  EXPECT_EQ(CookieValue("autan_session=abc", "autan_session"), "abc");
  EXPECT_EQ(CookieValue("theme=dark; autan_session=abc; x=1", "autan_session"), "abc");
  EXPECT_EQ(CookieValue("theme=dark;autan_session=\"q\"", "autan_session"), "q");
  EXPECT_EQ(CookieValue("my_autan_session=abc", "autan_session"), std::nullopt);
  EXPECT_EQ(CookieValue("autan_session_x=abc", "autan_session"), std::nullopt);
  EXPECT_EQ(CookieValue("", "autan_session"), std::nullopt);
  EXPECT_EQ(CookieValue("autan_session", "autan_session"), std::nullopt);
  EXPECT_EQ(CookieValue("autan_session=", "autan_session"), "");
}

TEST(AppSecurity, SessionCookieAttributes) {
  EXPECT_EQ(SessionCookie("tok", false),
            "autan_session=tok; HttpOnly; SameSite=Strict; Path=/; Max-Age=2592000");
  EXPECT_EQ(SessionCookie("tok", true),
            "autan_session=tok; HttpOnly; SameSite=Strict; Path=/; Max-Age=2592000; Secure");
  EXPECT_EQ(ClearedSessionCookie(false),
            "autan_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
}

TEST(AppSecurity, OriginMustBeTheHost) {
  EXPECT_TRUE(OriginAllowed("", "127.0.0.1:8080"));
  EXPECT_TRUE(OriginAllowed("http://127.0.0.1:8080", "127.0.0.1:8080"));
  EXPECT_TRUE(OriginAllowed("https://Chat.Example.org", "chat.example.org"));
  EXPECT_FALSE(OriginAllowed("http://127.0.0.1:8081", "127.0.0.1:8080"));
  EXPECT_FALSE(OriginAllowed("http://evil.example", "127.0.0.1:8080"));
  EXPECT_FALSE(OriginAllowed("null", "127.0.0.1:8080"));
  EXPECT_FALSE(OriginAllowed("http://127.0.0.1:8080/x", "127.0.0.1:8080"));
  EXPECT_FALSE(OriginAllowed("ftp://127.0.0.1:8080", "127.0.0.1:8080"));
  EXPECT_FALSE(OriginAllowed("http://127.0.0.1:8080", ""));
}

TEST(AppSecurity, CsrfNeedsTheExactToken) {
  EXPECT_TRUE(CsrfMatches("a1b2", "a1b2"));
  EXPECT_FALSE(CsrfMatches("a1b3", "a1b2"));
  EXPECT_FALSE(CsrfMatches("a1b", "a1b2"));
  EXPECT_FALSE(CsrfMatches("", "a1b2"));
  EXPECT_FALSE(CsrfMatches("", ""));  // a session always has a token
}

TEST(AppSecurity, ThrottleRefusesTheSixthTryUntilTheWindowMoves) {
  int64_t now = 1000000;
  LoginThrottle t({.max_failures = 5, .window_ms = 15 * 60 * 1000}, [&] { return now; });
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(t.RetryAfterSeconds("alice\n10.0.0.1"), 0) << i;
    t.RecordFailure("alice\n10.0.0.1");
    now += 1000;  // failures at 0 s, 1 s, ... 4 s
  }
  // The oldest failure (at 0 s) leaves the window at 900 s; now is 5 s.
  EXPECT_EQ(t.RetryAfterSeconds("alice\n10.0.0.1"), 895);
  EXPECT_EQ(t.RetryAfterSeconds("alice\n10.0.0.2"), 0);  // another address
  EXPECT_EQ(t.RetryAfterSeconds("bob\n10.0.0.1"), 0);    // another name
  now = 1000000 + 900 * 1000 - 1;
  EXPECT_EQ(t.RetryAfterSeconds("alice\n10.0.0.1"), 1);
  now += 1;
  EXPECT_EQ(t.RetryAfterSeconds("alice\n10.0.0.1"), 0);  // four failures left in the window
  t.RecordFailure("alice\n10.0.0.1");
  EXPECT_GT(t.RetryAfterSeconds("alice\n10.0.0.1"), 0);
  t.RecordSuccess("alice\n10.0.0.1");
  EXPECT_EQ(t.RetryAfterSeconds("alice\n10.0.0.1"), 0);
}

}  // namespace
}  // namespace autan::server
