// Recoverable errors are values: Result<T> holds either a T or an Error that
// says what went wrong and where. Broken invariants use AUTAN_CHECK instead.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <variant>

namespace autan {

struct Error {
  std::string message;
  // The failure lies beneath the request (a full disk, a read-only file, an
  // I/O error), not in what the caller asked for: the same request may work
  // later, and a server answers it as its own fault, not the client's.
  bool system = false;
};

// Builds an Error from printf-style arguments, e.g. Fail("bad magic at offset %zu", off).
[[gnu::format(printf, 1, 2)]] Error Fail(const char* fmt, ...);

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

// Result<void>: success or an Error.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace autan

// Propagates an error from an expression returning Result/Status.
#define AUTAN_TRY(expr)                                 \
  do {                                                  \
    auto autan_try_result_ = (expr);                    \
    if (!autan_try_result_.ok()) {                      \
      return ::autan::Error(autan_try_result_.error()); \
    }                                                   \
  } while (0)
