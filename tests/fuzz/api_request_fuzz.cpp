// The API routes' request handling up to the engine queue, without a socket:
// the body parsed and validated into a request struct exactly as the route
// does it, and what the route then builds from an accepted request (the chat
// prompt through a real chat template, the tokens, response_format and forced
// tool-call grammars, the FIM prompt), and the web app's parsed bodies
// (chat parameters, conversation import). Input: "route\n----\nbody", route
// one of chat, chat-builtin, completions, embeddings, fim, app-params,
// app-import.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "fuzz_util.h"
#include "model/model.h"
#include "runtime/constraint/json_grammar.h"
#include "server/app_requests.h"
#include "server/chat_prompt.h"
#include "server/fim_prompt.h"
#include "server/mistral_schema.h"
#include "server/openai_schema.h"
#include "server/tool_schema.h"

namespace autan::fuzz {
namespace {

using server::Json;

struct Fixture {
  std::shared_ptr<const Model> model;
  server::ChatPrompter jinja;    // Mistral Nemo's own template: tools, tool calls
  server::ChatPrompter builtin;  // the built-in mistral-v3 format
  server::ChatPrompter tokens;   // Mistral's v1 instruct format at the token level
};

const Fixture& Get() {
  static const Fixture fixture = [] {
    std::shared_ptr<const Model> model =
        MustHave(Model::Load(FuzzDirPath("corpus/gguf/llama-spm.gguf")), "seed model");
    server::ChatPrompter jinja =
        MustHave(server::ChatPrompter::Create(
                     *model, TestDataPath("templates/mistralai-Mistral-Nemo-Instruct-2407.jinja")),
                 "chat template");
    server::ChatPrompter builtin =
        MustHave(server::ChatPrompter::Create(*model, "mistral-v3"), "chat format");
    server::ChatPrompter tokens =
        MustHave(server::ChatPrompter::Create(*model, "mistral-instruct-v1"), "instruct format");
    return Fixture{std::move(model), std::move(jinja), std::move(builtin), std::move(tokens)};
  }();
  return fixture;
}

void CheckError(const std::optional<server::ApiError>& e) {
  if (e && e->message.empty()) CheckMessage(Error{""});
}

void CompileSchema(const Json& schema, const constraint::GrammarOptions& options) {
  Result<std::shared_ptr<const constraint::JsonGrammar>> g =
      constraint::JsonGrammar::FromSchema(schema, options);
  if (!g.ok()) CheckMessage(g.error());
}

// What ChatCompletions does with an accepted request before queueing it.
void Chat(const Json& body, const server::ChatPrompter& prompter) {
  const Fixture& f = Get();
  server::ChatRequest chat;
  std::optional<server::ApiError> e =
      server::ParseChatRequest(body, f.model->config().n_vocab, chat);
  CheckError(e);
  if (e) return;
  if (chat.gen.format == server::ResponseFormat::kJsonSchema) CompileSchema(chat.gen.schema, {});
  const bool use_tools = !chat.tools.is_null() && chat.tool_choice != "none";
  if (use_tools && chat.tool_choice != "auto" && !chat.tool_choice.empty()) {
    for (server::ToolDialect d :
         {server::ToolDialect::kMistral, server::ToolDialect::kLlama3Json}) {
      constraint::GrammarOptions options;
      options.max_whitespace_run = 2;
      CompileSchema(server::ForcedToolCallSchema(d, chat.tools, chat.tool_choice_name,
                                                 chat.parallel_tool_calls),
                    options);
    }
  }
  Result<std::vector<int32_t>> prompt =
      prompter.Encode(chat.messages, use_tools ? chat.tools : Json(), chat.continue_final);
  if (!prompt.ok()) return CheckMessage(prompt.error());
}

void Completions(const Json& body) {
  server::CompletionRequest req;
  CheckError(server::ParseCompletionRequest(body, Get().model->config().n_vocab, req));
}

void Embeddings(const Json& body) {
  server::EmbeddingRequest req;
  CheckError(server::ParseEmbeddingRequest(body, Get().model->config().n_vocab,
                                           Get().model->config().dim, req));
}

void Fim(const Json& body) {
  server::FimRequest req;
  std::optional<server::ApiError> e =
      server::ParseFimRequest(body, Get().model->config().n_vocab, req);
  CheckError(e);
  if (e) return;
  Result<std::vector<int32_t>> prompt =
      server::BuildFimPrompt(Get().model->tokenizer(), req.prompt, req.suffix);
  if (!prompt.ok()) CheckMessage(prompt.error());
}

// The web app's chat and assistant parameters: what Answer reads and what
// saving an assistant checks must agree.
void AppParams(const Json& body) {
  const Json parameters = body.value("parameters", Json());
  server::ChatParams params;
  const std::optional<server::ApiError> read =
      server::ReadChatParams(parameters, "parameters", params);
  CheckError(read);
  if (!parameters.is_null()) {
    const std::optional<server::ApiError> check = server::CheckChatParams(parameters, "parameters");
    if (read.has_value() != check.has_value()) std::abort();
  }
}

void AppImport(const Json& body) {
  server::ConversationImport parsed;
  CheckError(server::ParseConversationImport(body, parsed));
}

}  // namespace
}  // namespace autan::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace autan;
  const std::vector<std::string_view> parts = fuzz::SplitParts(fuzz::AsText(data, size), 2);
  if (parts.size() < 2) return 0;
  const std::string_view route = parts[0];
  server::Json body;
  std::optional<server::ApiError> e = server::ParseJsonBody(parts[1], body);
  fuzz::CheckError(e);
  if (e) return 0;
  if (route == "chat") {
    fuzz::Chat(body, fuzz::Get().jinja);
  } else if (route == "chat-builtin") {
    fuzz::Chat(body, fuzz::Get().builtin);
  } else if (route == "chat-tokens") {
    fuzz::Chat(body, fuzz::Get().tokens);
  } else if (route == "completions") {
    fuzz::Completions(body);
  } else if (route == "embeddings") {
    fuzz::Embeddings(body);
  } else if (route == "fim") {
    fuzz::Fim(body);
  } else if (route == "app-params") {
    fuzz::AppParams(body);
  } else if (route == "app-import") {
    fuzz::AppImport(body);
  }
  return 0;
}
