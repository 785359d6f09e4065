// The web app's JSON shapes (docs/app-api.md) for the store's records.
#pragma once

#include <nlohmann/json.hpp>

#include "store/store.h"

namespace autan::server {

nlohmann::ordered_json UserJson(const store::User& user, bool with_disabled = false);
nlohmann::ordered_json ConversationJson(const store::Conversation& conversation);
nlohmann::ordered_json MessageJson(const store::Message& message);
nlohmann::ordered_json AssistantJson(const store::Assistant& assistant);
nlohmann::ordered_json ApiKeyJson(const store::ApiKey& key);

}  // namespace autan::server
