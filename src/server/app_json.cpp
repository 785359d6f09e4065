#include "server/app_json.h"

namespace autan::server {

using Json = nlohmann::ordered_json;

Json UserJson(const store::User& u, bool with_disabled) {
  Json j = {{"id", u.id},
            {"username", u.username},
            {"role", store::RoleName(u.role)},
            {"created_at", u.created_at_ms}};
  if (with_disabled) j["disabled"] = u.disabled;
  return j;
}

Json ConversationJson(const store::Conversation& c) {
  return {{"id", c.id},
          {"title", c.title},
          {"assistant_id", c.assistant_id ? Json(*c.assistant_id) : Json()},
          {"created_at", c.created_at_ms},
          {"updated_at", c.updated_at_ms}};
}

Json MessageJson(const store::Message& m) {
  Json stats = Json::object();
  if (m.stats.tokens) stats["tokens"] = *m.stats.tokens;
  if (m.stats.time_to_first_token_ms) {
    stats["time_to_first_token_ms"] = *m.stats.time_to_first_token_ms;
  }
  if (m.stats.duration_ms) stats["duration_ms"] = *m.stats.duration_ms;
  // Derived rather than stored: tokens over the whole generation time.
  if (m.stats.tokens && m.stats.duration_ms && *m.stats.duration_ms > 0) {
    stats["tokens_per_second"] =
        static_cast<double>(*m.stats.tokens) * 1000.0 / static_cast<double>(*m.stats.duration_ms);
  }
  if (m.stats.energy_joules) stats["energy_joules"] = *m.stats.energy_joules;
  return {{"id", m.id},
          {"role", store::MessageRoleName(m.role)},
          {"content", m.content},
          {"status", store::MessageStatusName(m.status)},
          {"created_at", m.created_at_ms},
          {"stats", stats}};
}

Json AssistantJson(const store::Assistant& a) {
  Json parameters = Json::parse(a.parameters, nullptr, false);
  if (!parameters.is_object()) parameters = Json::object();
  return {{"id", a.id},
          {"name", a.name},
          {"instructions", a.instructions},
          {"parameters", parameters},
          {"created_at", a.created_at_ms},
          {"updated_at", a.updated_at_ms}};
}

Json ApiKeyJson(const store::ApiKey& k) {
  return {{"id", k.id},
          {"label", k.label},
          {"prefix", k.prefix},
          {"created_at", k.created_at_ms},
          {"last_used_at", k.last_used_at_ms ? Json(*k.last_used_at_ms) : Json()},
          {"revoked", k.revoked}};
}

}  // namespace autan::server
