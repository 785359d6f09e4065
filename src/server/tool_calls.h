// Tool calls in a model's output: the text a choice generates, split into
// plain content and function calls as they stream, in the two shapes models
// are trained to write:
//   Mistral:   [TOOL_CALLS][{"name": "f", "arguments": {...}}, ...]
//   Llama 3.1: {"name": "f", "parameters": {...}}   (the whole reply)
// A call is announced (id and name) once its arguments begin, and its
// arguments' JSON text follows in fragments. Until the first call is
// announced nothing is final: output that turns out not to be a well-formed
// call is given back as plain content, byte for byte.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace autan::server {

enum class ToolDialect { kNone, kMistral, kLlama3Json };

// A piece of one call as it streams: the call's first delta carries its id
// and name (and no arguments), the later ones fragments of the arguments.
struct ToolCallDelta {
  int32_t index = 0;  // the call's position in the reply
  std::string id;
  std::string name;
  std::string arguments;
};

// One call, complete: the arguments are JSON text, as OpenAI sends them.
struct ToolCall {
  std::string id;
  std::string name;
  std::string arguments;
};

// Mistral requires call ids of 9 letters and digits; OpenAI accepts any.
constexpr size_t kToolCallIdLength = 9;
std::string ToolCallId(uint64_t seed);

class ToolCallParser {
 public:
  struct Options {
    ToolDialect dialect = ToolDialect::kMistral;
    std::string marker = "[TOOL_CALLS]";  // Mistral: what opens the calls
    // The prompt already opened the calls (a forced call): the output starts
    // right after the marker.
    bool forced = false;
    uint64_t id_seed = 0;
  };
  struct Output {
    std::string content;
    std::vector<ToolCallDelta> calls;
  };

  explicit ToolCallParser(Options options);

  Output Push(std::string_view text);
  // The end of the output: what was held back and is not a call is content.
  Output Finish();

  // The calls announced so far, with their arguments so far.
  const std::vector<ToolCall>& calls() const { return calls_; }

 private:
  enum class Phase { kText, kLeading, kCalls, kPlain, kDone };
  // Where the call scanner is.
  enum class Scan {
    kArrayOpen,
    kObjectOpen,
    kKeyOpen,
    kKey,
    kColon,
    kValueStart,
    kValue,
    kAfterValue,
    kAfterObject,
  };

  void PushText(std::string_view text, Output& out);
  void PushLeading(std::string_view text, Output& out);
  void PushCalls(std::string_view text, Output& out);
  // One byte of the calls; false when it cannot belong to well-formed calls.
  bool Step(char c, Output& out);
  bool StartValue(char c, Output& out);
  bool SkimValue(char c, bool& ended, bool& reprocess);
  bool EndValue();
  bool EndObject(Output& out);
  void Announce(Output& out);
  void AppendArguments(std::string_view bytes, Output& out);
  void Fail(Output& out);  // not calls after all
  bool IsArgumentsKey() const;

  Options options_;
  Phase phase_;
  Scan scan_;
  std::string held_;  // text not yet given out: a partial marker, or uncommitted calls
  bool committed_ = false;
  std::vector<ToolCall> calls_;

  // The call object being read.
  std::string key_;
  std::string name_;
  bool have_name_ = false;
  bool have_arguments_ = false;
  std::string pending_arguments_;  // arguments read before the name
  bool streaming_arguments_ = false;
  // The value being skimmed.
  std::string value_;           // its text, when it is kept
  std::vector<char> brackets_;  // open containers
  bool in_string_ = false;
  bool escape_ = false;
  bool scalar_ = false;
};

}  // namespace autan::server
