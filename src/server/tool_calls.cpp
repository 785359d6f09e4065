#include "server/tool_calls.h"

#include <nlohmann/json.hpp>

namespace autan::server {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }

bool IsScalarByte(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '-' || c == '+' || c == '.' ||
         c == 'E';
}

uint64_t Mix(uint64_t x) {  // splitmix64: nearby seeds give unrelated ids
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

}  // namespace

std::string ToolCallId(uint64_t seed) {
  static constexpr char kAlphabet[] =
      "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  uint64_t bits = Mix(seed);
  std::string id(kToolCallIdLength, '0');
  for (char& c : id) {  // 62^9 < 2^64: one draw covers every character
    c = kAlphabet[bits % 62];
    bits /= 62;
  }
  return id;
}

ToolCallParser::ToolCallParser(Options options) : options_(std::move(options)) {
  const bool mistral = options_.dialect == ToolDialect::kMistral;
  if (options_.forced) {
    phase_ = Phase::kCalls;
  } else if (options_.dialect == ToolDialect::kNone) {
    phase_ = Phase::kPlain;
  } else {
    phase_ = mistral ? Phase::kText : Phase::kLeading;
  }
  scan_ = mistral ? Scan::kArrayOpen : Scan::kObjectOpen;
}

ToolCallParser::Output ToolCallParser::Push(std::string_view text) {
  Output out;
  switch (phase_) {
    case Phase::kText:
      PushText(text, out);
      break;
    case Phase::kLeading:
      PushLeading(text, out);
      break;
    case Phase::kCalls:
      PushCalls(text, out);
      break;
    case Phase::kPlain:
      out.content.append(text);
      break;
    case Phase::kDone:  // what follows finished calls is not part of the reply
      break;
  }
  return out;
}

ToolCallParser::Output ToolCallParser::Finish() {
  Output out;
  if (phase_ != Phase::kDone && !committed_) out.content = std::move(held_);
  held_.clear();
  phase_ = Phase::kDone;
  return out;
}

// Content until the marker; a marker cut between two pushes is held back.
void ToolCallParser::PushText(std::string_view text, Output& out) {
  held_.append(text);
  const std::string& marker = options_.marker;
  const size_t at = held_.find(marker);
  if (at != std::string::npos) {
    out.content.append(held_, 0, at);
    const std::string rest = held_.substr(at + marker.size());
    held_ = marker;
    phase_ = Phase::kCalls;
    PushCalls(rest, out);
    return;
  }
  size_t keep = std::min(held_.size(), marker.size() - 1);
  while (keep > 0 && held_.compare(held_.size() - keep, keep, marker, 0, keep) != 0) --keep;
  out.content.append(held_, 0, held_.size() - keep);
  held_.erase(0, held_.size() - keep);
}

// Llama 3.1 writes a call as the whole reply: it is one if the first
// non-space byte opens an object.
void ToolCallParser::PushLeading(std::string_view text, Output& out) {
  size_t i = 0;
  while (i < text.size() && IsSpace(text[i])) ++i;
  held_.append(text.substr(0, i));
  if (i == text.size()) return;
  if (text[i] == '{') {
    phase_ = Phase::kCalls;
    PushCalls(text.substr(i), out);
    return;
  }
  phase_ = Phase::kPlain;
  out.content += std::move(held_);
  held_.clear();
  out.content.append(text.substr(i));
}

void ToolCallParser::PushCalls(std::string_view text, Output& out) {
  for (size_t i = 0; i < text.size(); ++i) {
    if (!committed_) held_ += text[i];
    if (!Step(text[i], out)) {
      if (committed_) {
        phase_ = Phase::kDone;
      } else {
        Fail(out);
        out.content.append(text.substr(i + 1));
      }
      return;
    }
    if (phase_ == Phase::kDone) return;
  }
}

void ToolCallParser::Fail(Output& out) {
  out.content += std::move(held_);
  held_.clear();
  phase_ = Phase::kPlain;
}

bool ToolCallParser::Step(char c, Output& out) {
  switch (scan_) {
    case Scan::kArrayOpen:
      if (IsSpace(c)) return true;
      scan_ = Scan::kObjectOpen;
      return c == '[';
    case Scan::kObjectOpen:
      if (IsSpace(c)) return true;
      if (c != '{') return false;
      key_.clear();
      name_.clear();
      pending_arguments_.clear();
      have_name_ = have_arguments_ = streaming_arguments_ = false;
      scan_ = Scan::kKeyOpen;
      return true;
    case Scan::kKeyOpen:
      if (IsSpace(c)) return true;
      if (c == '}') return EndObject(out);
      if (c != '"') return false;
      value_ = "\"";
      escape_ = false;
      scan_ = Scan::kKey;
      return true;
    case Scan::kKey:
      value_ += c;
      if (escape_) {
        escape_ = false;
      } else if (c == '\\') {
        escape_ = true;
      } else if (c == '"') {
        const auto key = nlohmann::json::parse(value_, nullptr, false);
        if (!key.is_string()) return false;
        key_ = key.get<std::string>();
        scan_ = Scan::kColon;
      }
      return true;
    case Scan::kColon:
      if (IsSpace(c)) return true;
      scan_ = Scan::kValueStart;
      return c == ':';
    case Scan::kValueStart:
      if (IsSpace(c)) return true;
      return StartValue(c, out);
    case Scan::kValue: {
      bool ended = false, reprocess = false;
      if (!SkimValue(c, ended, reprocess)) return false;
      if (streaming_arguments_) AppendArguments(std::string_view(&c, 1), out);
      if (!ended) return true;
      if (!EndValue()) return false;
      scan_ = Scan::kAfterValue;
      return reprocess ? Step(c, out) : true;
    }
    case Scan::kAfterValue:
      if (IsSpace(c)) return true;
      if (c == ',') {
        scan_ = Scan::kKeyOpen;
        return true;
      }
      return c == '}' && EndObject(out);
    case Scan::kAfterObject:
      if (IsSpace(c)) return true;
      if (c == ',') {
        scan_ = Scan::kObjectOpen;
        return true;
      }
      if (c != ']') return false;
      phase_ = Phase::kDone;
      return true;
  }
  return false;
}

bool ToolCallParser::IsArgumentsKey() const {
  if (key_ == "arguments") return true;
  return options_.dialect == ToolDialect::kLlama3Json && key_ == "parameters";
}

bool ToolCallParser::StartValue(char c, Output& out) {
  value_.clear();
  brackets_.clear();
  in_string_ = escape_ = scalar_ = false;
  if (key_ == "name" && c != '"') return false;
  if (IsArgumentsKey()) {
    if (c != '{' || have_arguments_) return false;
    if (have_name_) {
      Announce(out);
      streaming_arguments_ = true;
    }
  }
  if (c == '"') {
    in_string_ = true;
  } else if (c == '{' || c == '[') {
    brackets_.push_back(c == '{' ? '}' : ']');
  } else if (c == '-' || (c >= '0' && c <= '9') || c == 't' || c == 'f' || c == 'n') {
    scalar_ = true;
  } else {
    return false;
  }
  scan_ = Scan::kValue;
  if (streaming_arguments_) {
    AppendArguments(std::string_view(&c, 1), out);
  } else {
    value_ += c;
  }
  return true;
}

// One byte of a value. `ended`: the value is complete; `reprocess`: the byte
// is not the value's (it ended a number or literal) and must be read again.
bool ToolCallParser::SkimValue(char c, bool& ended, bool& reprocess) {
  if (scalar_) {
    if (IsScalarByte(c)) {
      value_ += c;
      return true;
    }
    ended = reprocess = true;
    return IsSpace(c) || c == ',' || c == '}';
  }
  if (!streaming_arguments_) value_ += c;
  if (in_string_) {
    if (escape_) {
      escape_ = false;
    } else if (c == '\\') {
      escape_ = true;
    } else if (c == '"') {
      in_string_ = false;
      ended = brackets_.empty();
    } else if (static_cast<unsigned char>(c) < 0x20) {
      return false;  // JSON strings escape control characters
    }
    return true;
  }
  if (c == '"') {
    in_string_ = true;
  } else if (c == '{' || c == '[') {
    if (brackets_.size() >= 64) return false;
    brackets_.push_back(c == '{' ? '}' : ']');
  } else if (c == '}' || c == ']') {
    if (c != brackets_.back()) return false;
    brackets_.pop_back();
    ended = brackets_.empty();
  }
  return true;
}

bool ToolCallParser::EndValue() {
  if (key_ == "name") {
    if (have_name_) return false;
    const auto name = nlohmann::json::parse(value_, nullptr, false);
    if (!name.is_string() || name.get<std::string>().empty()) return false;
    name_ = name.get<std::string>();
    have_name_ = true;
    return true;
  }
  if (!IsArgumentsKey()) return true;
  have_arguments_ = true;
  if (streaming_arguments_) {
    streaming_arguments_ = false;
    return true;
  }
  // Scalars are refused where the arguments start, so this is an object.
  if (!nlohmann::json::accept(value_)) return false;
  pending_arguments_ = value_;
  return true;
}

bool ToolCallParser::EndObject(Output& out) {
  if (!have_name_ || !have_arguments_) return false;
  if (!pending_arguments_.empty()) {  // the arguments came before the name
    Announce(out);
    AppendArguments(pending_arguments_, out);
  }
  scan_ = Scan::kAfterObject;
  if (options_.dialect == ToolDialect::kLlama3Json) phase_ = Phase::kDone;
  return true;
}

void ToolCallParser::Announce(Output& out) {
  const auto index = static_cast<int32_t>(calls_.size());
  calls_.push_back({ToolCallId(options_.id_seed + calls_.size()), name_, {}});
  out.calls.push_back({index, calls_.back().id, name_, {}});
  committed_ = true;
  held_.clear();
}

void ToolCallParser::AppendArguments(std::string_view bytes, Output& out) {
  const auto index = static_cast<int32_t>(calls_.size() - 1);
  calls_.back().arguments.append(bytes);
  if (out.calls.empty() || out.calls.back().index != index || !out.calls.back().id.empty()) {
    out.calls.push_back({index, {}, {}, {}});
  }
  out.calls.back().arguments.append(bytes);
}

}  // namespace autan::server
