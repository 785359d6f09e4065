// Mistral's instruct formats at the token level, as mistral-common's
// InstructTokenizerV1/V2/V3/V7 encode a chat request: control tokens are
// emitted as ids (never parsed from text), each text piece is encoded on its
// own (SentencePiece gives each its leading space), and tools, tool calls and
// tool results are JSON written the way Python's json.dumps(...,
// ensure_ascii=False) writes them. The Tekken tokenizers of Mistral NeMo (v3)
// and later models follow the same versions.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "tokenizer/tokenizer.h"

namespace autan {

enum class MistralInstructVersion { kV1, kV2, kV3, kV7 };

// "v1", "v2", "v3", "v7" (tekken.json's config.version; "v3" also for Nemo).
std::optional<MistralInstructVersion> ParseMistralInstructVersion(std::string_view name);

struct MistralToolCall {
  std::string id;  // v3 and later; empty or "null" when none
  std::string name;
  std::string arguments;  // JSON text; written parsed when it is valid JSON
};

struct MistralMessage {
  std::string role;                         // "system", "user", "assistant" or "tool"
  std::string content;                      // may be empty for an assistant message with tool calls
  std::vector<MistralToolCall> tool_calls;  // assistant
  std::string tool_call_id;                 // tool, v3 and later
  std::string name;                         // tool, v2 (the function's name)
  bool prefix = false;  // assistant: a prefix the answer continues (no EOS after it)
};

struct MistralRequest {
  std::vector<MistralMessage> messages;
  // The available tools as a JSON array of {"type": "function", "function":
  // {...}}; empty for none. Re-written as json.dumps writes it.
  std::string tools_json;
};

// The ids of `request`, starting with BOS. Rules (mistral-common):
//  - v1: "[INST] {text} [/INST]" is plain text; system messages, joined by
//    "\n\n", go in front of the first user message; no tools.
//  - v2/v3: [INST] text [/INST] with control tokens; the system prompt goes in
//    front of the last user message, which also gets [AVAILABLE_TOOLS] json
//    [/AVAILABLE_TOOLS] before it when there are tools; an assistant message is
//    its text (trailing spaces removed) or [TOOL_CALLS] json, then EOS unless
//    it is a prefix (then it must be last); tool results are [TOOL_RESULTS]
//    json [/TOOL_RESULTS]. v2 drops tool calls and results before the last
//    user message and writes {"name", "content"} in a list; v3 keeps them and
//    writes {"content", "call_id"}, and tool calls carry their "id".
//  - v7: system messages stay in place as [SYSTEM_PROMPT] text
//    [/SYSTEM_PROMPT]; tool results are [TOOL_RESULTS] id [TOOL_CONTENT] text
//    [/TOOL_RESULTS]; an assistant message may have both text and tool calls.
// Errors: a missing control token, an unknown role, a tool message in v1, a
// prefix that is not the last message, an empty assistant message.
Result<std::vector<int32_t>> EncodeMistralChat(const Tokenizer& tokenizer,
                                               MistralInstructVersion version,
                                               const MistralRequest& request);

namespace mistral_internal {
// JSON as Python's json.dumps(value, ensure_ascii=False) writes it: ", " and
// ": " separators, keys in their order, non-ASCII kept. Exposed for tests.
// nullopt when `json_text` is not JSON.
std::optional<std::string> PyJsonDumps(std::string_view json_text);
}  // namespace mistral_internal

}  // namespace autan
