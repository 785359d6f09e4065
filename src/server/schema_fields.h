// Reads typed fields out of a request object, checking types and ranges; the
// first problem becomes a 400 naming the field, and later reads do nothing.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "server/api_error.h"

namespace autan::server {

class FieldReader {
 public:
  using Json = nlohmann::ordered_json;
  explicit FieldReader(const Json& object) : object_(object) {}

  // The field, or nullptr when it is absent or null (both mean "default").
  const Json* Find(const char* name) const {
    auto it = object_.find(name);
    return it == object_.end() || it->is_null() ? nullptr : &*it;
  }

  void Number(const char* name, double lo, double hi, float& out) {
    double v;
    if (NumberValue(name, lo, hi, v)) out = static_cast<float>(v);
  }
  template <typename Int>
  void Integer(const char* name, int64_t lo, int64_t hi, Int& out) {
    int64_t v;
    if (IntegerValue(name, lo, hi, v)) out = static_cast<Int>(v);
  }
  template <typename Int>
  void Integer(const char* name, int64_t lo, int64_t hi, std::optional<Int>& out) {
    int64_t v;
    if (IntegerValue(name, lo, hi, v)) out = static_cast<Int>(v);
  }
  void Bool(const char* name, bool& out) {
    const Json* v = Begin(name);
    if (!v) return;
    if (!v->is_boolean()) return Wrong(name, "a boolean");
    out = v->get<bool>();
  }
  void String(const char* name, std::string& out) {
    const Json* v = Begin(name);
    if (!v) return;
    if (!v->is_string()) return Wrong(name, "a string");
    out = v->get<std::string>();
  }

  void Fail(std::string message, std::string param) {
    if (!error) error = BadRequest(std::move(message), std::move(param));
  }
  void Wrong(const std::string& name, const char* expected) {
    Fail("'" + name + "' must be " + expected, name);
  }

  std::optional<ApiError> error;

 private:
  const Json* Begin(const char* name) const { return error ? nullptr : Find(name); }

  bool NumberValue(const char* name, double lo, double hi, double& out) {
    const Json* v = Begin(name);
    if (!v) return false;
    if (!v->is_number()) {
      Wrong(name, "a number");
      return false;
    }
    out = v->get<double>();
    if (!std::isfinite(out) || out < lo || out > hi) {
      Fail("'" + std::string(name) + "' must be between " + Format(lo) + " and " + Format(hi),
           name);
      return false;
    }
    return true;
  }

  bool IntegerValue(const char* name, int64_t lo, int64_t hi, int64_t& out) {
    const Json* v = Begin(name);
    if (!v) return false;
    if (v->is_number_unsigned()) {
      const uint64_t u = v->get<uint64_t>();
      out = u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())
                ? std::numeric_limits<int64_t>::max()
                : static_cast<int64_t>(u);
    } else if (v->is_number_integer()) {
      out = v->get<int64_t>();
    } else if (v->is_number_float() && std::trunc(v->get<double>()) == v->get<double>() &&
               std::fabs(v->get<double>()) < 9e15) {
      out = static_cast<int64_t>(v->get<double>());  // 16.0 is an integer to JavaScript
    } else {
      Wrong(name, "an integer");
      return false;
    }
    if (out < lo || out > hi) {
      Fail("'" + std::string(name) + "' must be between " + std::to_string(lo) + " and " +
               std::to_string(hi),
           name);
      return false;
    }
    return true;
  }

  static std::string Format(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
  }

  const Json& object_;
};

}  // namespace autan::server
