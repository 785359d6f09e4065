// /api routes over the user's own records: conversations (with search,
// export and import) and assistants. Every store call names the signed-in
// user, so another user's id reads as "not found".
#include "server/app_json.h"
#include "server/app_requests.h"
#include "server/app_service.h"
#include "server/json_util.h"
#include "server/schema_fields.h"
#include "server/url.h"

namespace autan::server {
namespace {

using Json = nlohmann::ordered_json;
constexpr int64_t kListLimit = 1000;

ApiError NoConversation() { return NotFound("no such conversation", "not_found"); }
ApiError NoAssistant() { return NotFound("no such assistant", "not_found"); }

}  // namespace

void AppService::ListConversations(Call& c) {
  const std::optional<std::string> q = QueryValue(c.req.query, "q");
  Result<std::vector<store::Conversation>> list =
      q && !q->empty() ? store_.SearchConversations(c.user_id(), *q, kListLimit)
                       : store_.ListConversations(c.user_id(), kListLimit);
  if (!list.ok()) return Rejected(c, list.error(), "q");
  Json data = Json::array();
  for (const store::Conversation& conv : *list) data.push_back(ConversationJson(conv));
  Reply(c, {{"data", data}});
}

void AppService::CreateConversation(Call& c) {
  Json body;
  if (!Body(c, body)) return;
  FieldReader f(body);
  store::NewConversation conv;
  f.String("title", conv.title);
  std::string assistant;
  f.String("assistant_id", assistant);
  if (f.error) return Error(c, *f.error);
  if (!assistant.empty()) conv.assistant_id = assistant;
  Result<std::optional<store::Conversation>> made = store_.CreateConversation(c.user_id(), conv);
  if (!made.ok()) return Rejected(c, made.error(), "title");
  if (!made->has_value()) return Error(c, NoAssistant());
  Reply(c, ConversationJson(**made), 201);
}

// The conversation named by the route and its messages as JSON; false once an
// error has been answered (not found for another user's id).
bool AppService::LoadConversation(Call& c, Json& conversation, Json& messages) {
  Result<std::optional<store::Conversation>> conv =
      store_.GetConversation(c.user_id(), c.params[0]);
  if (!conv.ok()) {
    StoreFailed(c, conv.error());
    return false;
  }
  if (!conv->has_value()) {
    Error(c, NoConversation());
    return false;
  }
  Result<std::optional<std::vector<store::Message>>> list =
      store_.ListMessages(c.user_id(), c.params[0]);
  if (!list.ok()) {
    StoreFailed(c, list.error());
    return false;
  }
  if (!list->has_value()) {
    Error(c, NoConversation());
    return false;
  }
  conversation = ConversationJson(**conv);
  messages = Json::array();
  for (const store::Message& m : **list) messages.push_back(MessageJson(m));
  return true;
}

void AppService::GetConversation(Call& c) {
  Json conversation, messages;
  if (!LoadConversation(c, conversation, messages)) return;
  Reply(c, {{"conversation", conversation}, {"messages", messages}});
}

void AppService::UpdateConversation(Call& c) {
  Json body;
  if (!Body(c, body)) return;
  FieldReader f(body);
  std::optional<std::string> title;
  if (f.Find("title")) {
    std::string t;
    f.String("title", t);
    title = t;
  }
  if (f.error) return Error(c, *f.error);
  const auto assistant = body.find("assistant_id");
  if (assistant != body.end() && !assistant->is_null() && !assistant->is_string()) {
    return Error(c, BadRequest("'assistant_id' must be a string or null", "assistant_id"));
  }
  Result<std::optional<store::Conversation>> conv =
      store_.GetConversation(c.user_id(), c.params[0]);
  if (!conv.ok()) return StoreFailed(c, conv.error());
  if (!conv->has_value()) return Error(c, NoConversation());
  if (title) {
    Result<bool> renamed = store_.RenameConversation(c.user_id(), c.params[0], *title);
    if (!renamed.ok()) return Rejected(c, renamed.error(), "title");
  }
  if (assistant != body.end()) {
    std::optional<std::string> id;
    if (assistant->is_string() && !assistant->get<std::string>().empty()) {
      id = assistant->get<std::string>();
    }
    Result<bool> linked = store_.SetConversationAssistant(c.user_id(), c.params[0], id);
    if (!linked.ok()) return StoreFailed(c, linked.error());
    if (!*linked) return Error(c, NoAssistant());
  }
  conv = store_.GetConversation(c.user_id(), c.params[0]);
  if (!conv.ok()) return StoreFailed(c, conv.error());
  if (!conv->has_value()) return Error(c, NoConversation());
  Reply(c, ConversationJson(**conv));
}

void AppService::DeleteConversation(Call& c) {
  // The store records conversation.delete in the audit log.
  Result<bool> deleted = store_.DeleteConversation(c.user_id(), c.params[0]);
  if (!deleted.ok()) return StoreFailed(c, deleted.error());
  if (!*deleted) return Error(c, NoConversation());
  NoContent(c);
}

void AppService::ExportConversation(Call& c) {
  Json conversation, messages;
  if (!LoadConversation(c, conversation, messages)) return;
  Reply(c, {{"version", 1}, {"conversation", conversation}, {"messages", messages}});
}

void AppService::ImportConversation(Call& c) {
  Json body;
  if (!Body(c, body)) return;
  ConversationImport parsed;
  if (std::optional<ApiError> e = ParseConversationImport(body, parsed)) return Error(c, *e);
  Result<std::optional<store::Conversation>> made =
      store_.CreateConversation(c.user_id(), parsed.conversation);
  if (!made.ok()) return Rejected(c, made.error(), "conversation.title");
  for (size_t i = 0; i < parsed.messages.size(); ++i) {
    Result<std::optional<store::Message>> m =
        store_.AppendMessage(c.user_id(), (*made)->id, parsed.messages[i]);
    if (!m.ok()) {
      // Nothing half-imported stays behind.
      (void)store_.DeleteConversation(c.user_id(), (*made)->id);
      return Rejected(c, m.error(), "messages[" + std::to_string(i) + "]");
    }
  }
  Reply(c, ConversationJson(**made), 201);
}

void AppService::ListAssistants(Call& c) {
  Result<std::vector<store::Assistant>> list = store_.ListAssistants(c.user_id());
  if (!list.ok()) return StoreFailed(c, list.error());
  Json data = Json::array();
  for (const store::Assistant& a : *list) data.push_back(AssistantJson(a));
  Reply(c, {{"data", data}});
}

void AppService::CreateAssistant(Call& c) {
  Json body;
  if (!Body(c, body)) return;
  FieldReader f(body);
  store::AssistantFields fields;
  if (!f.Find("name")) f.Fail("'name' is required", "name");
  f.String("name", fields.name);
  f.String("instructions", fields.instructions);
  if (f.error) return Error(c, *f.error);
  const Json parameters = body.value("parameters", Json::object());
  if (std::optional<ApiError> e = CheckChatParams(parameters, "parameters")) return Error(c, *e);
  fields.parameters = DumpJson(parameters);
  Result<store::Assistant> made = store_.CreateAssistant(c.user_id(), fields);
  if (!made.ok()) return Rejected(c, made.error(), "name");
  Reply(c, AssistantJson(*made), 201);
}

void AppService::UpdateAssistant(Call& c) {
  Json body;
  if (!Body(c, body)) return;
  Result<std::optional<store::Assistant>> current = store_.GetAssistant(c.user_id(), c.params[0]);
  if (!current.ok()) return StoreFailed(c, current.error());
  if (!current->has_value()) return Error(c, NoAssistant());
  store::AssistantFields fields{(*current)->name, (*current)->instructions, (*current)->parameters};
  FieldReader f(body);
  f.String("name", fields.name);
  f.String("instructions", fields.instructions);
  if (f.error) return Error(c, *f.error);
  if (f.Find("parameters")) {
    if (std::optional<ApiError> e = CheckChatParams(body["parameters"], "parameters")) {
      return Error(c, *e);
    }
    fields.parameters = DumpJson(body["parameters"]);
  }
  Result<bool> updated = store_.UpdateAssistant(c.user_id(), c.params[0], fields);
  if (!updated.ok()) return Rejected(c, updated.error(), "name");
  if (!*updated) return Error(c, NoAssistant());
  Result<std::optional<store::Assistant>> now = store_.GetAssistant(c.user_id(), c.params[0]);
  if (!now.ok()) return StoreFailed(c, now.error());
  if (!now->has_value()) return Error(c, NoAssistant());
  Reply(c, AssistantJson(**now));
}

void AppService::DeleteAssistant(Call& c) {
  Result<bool> deleted = store_.DeleteAssistant(c.user_id(), c.params[0]);
  if (!deleted.ok()) return StoreFailed(c, deleted.error());
  if (!*deleted) return Error(c, NoAssistant());
  NoContent(c);
}

}  // namespace autan::server
