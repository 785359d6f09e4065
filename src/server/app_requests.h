// The web app's request bodies that need more than a field or two checked,
// parsed apart from the store so that each rule is tested (and fuzzed) on its
// own: chat sampling parameters and conversation imports.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "server/api_error.h"
#include "store/store.h"

namespace autan::server {

// Sampling settings of a chat: an assistant's, then the request's.
struct ChatParams {
  std::optional<float> temperature, top_p;
  std::optional<int32_t> max_tokens;
};

// {"temperature"?, "top_p"?, "max_tokens"?} read over `into` (later calls
// override earlier ones); null leaves it as it is. Errors name `field`.
std::optional<ApiError> ReadChatParams(const nlohmann::ordered_json& parameters,
                                       const std::string& field, ChatParams& into);

// The same fields checked only (an assistant's parameters are kept as given).
std::optional<ApiError> CheckChatParams(const nlohmann::ordered_json& parameters,
                                        const std::string& field);

// An exported conversation, as GET .../export writes it:
// {"version": 1, "conversation": {"title"?}, "messages": [{"role", "content"}]}.
struct ConversationImport {
  store::NewConversation conversation;
  std::vector<store::NewMessage> messages;
};
std::optional<ApiError> ParseConversationImport(const nlohmann::ordered_json& body,
                                                ConversationImport& out);

}  // namespace autan::server
