#include "server/openai_schema.h"

#include <bit>
#include <limits>

#include "core/base64.h"
#include "server/mistral_schema.h"
#include "server/schema_fields.h"

namespace autan::server {
namespace {

constexpr int32_t kMaxChoices = 16;
constexpr size_t kMaxStops = 16;
constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

// OpenAI's defaults are plain sampling: temperature 1, no top-k/top-p/min-p cut.
SamplingParams OpenAiSampling() {
  SamplingParams s;
  s.temperature = 1.0f;
  s.top_k = 0;
  s.top_p = 1.0f;
  s.min_p = 0.0f;
  s.penalty_last_n = -1;
  return s;
}

void ReadStop(FieldReader& f, std::vector<std::string>& out) {
  const Json* stop = f.Find("stop");
  if (!stop || f.error) return;
  if (stop->is_string()) {
    out.push_back(stop->get<std::string>());
  } else if (stop->is_array() && stop->size() <= kMaxStops) {
    for (const Json& s : *stop) {
      if (!s.is_string()) return f.Wrong("stop", "a string or a list of strings");
      out.push_back(s.get<std::string>());
    }
  } else {
    return f.Wrong("stop", "a string or a list of at most 16 strings");
  }
  for (const std::string& s : out) {
    if (s.empty()) return f.Fail("'stop' sequences must not be empty", "stop");
  }
}

void ReadLogitBias(FieldReader& f, int32_t n_vocab, SamplingParams& s) {
  const Json* bias = f.Find("logit_bias");
  if (!bias || f.error) return;
  if (!bias->is_object()) return f.Wrong("logit_bias", "an object mapping token ids to numbers");
  for (const auto& [key, value] : bias->items()) {
    char* end = nullptr;
    const long id = std::strtol(key.c_str(), &end, 10);
    if (key.empty() || *end != '\0' || id < 0 || id >= n_vocab) {
      return f.Fail("'logit_bias' key '" + key + "' is not a token id of this model (0.." +
                        std::to_string(n_vocab - 1) + ")",
                    "logit_bias");
    }
    if (!value.is_number() || value.get<double>() < -100 || value.get<double>() > 100) {
      return f.Fail("'logit_bias' values must be numbers between -100 and 100", "logit_bias");
    }
    s.logit_bias.emplace_back(static_cast<int32_t>(id), value.get<float>());
  }
}

void ReadResponseFormat(FieldReader& f, GenerationParams& g) {
  const Json* rf = f.Find("response_format");
  if (!rf || f.error) return;
  if (!rf->is_object() || !rf->contains("type") || !(*rf)["type"].is_string()) {
    return f.Wrong("response_format", "an object with a string 'type'");
  }
  const std::string type = (*rf)["type"].get<std::string>();
  if (type == "text") return;
  if (type == "json_object") {
    g.format = ResponseFormat::kJsonObject;
    return;
  }
  if (type != "json_schema") {
    return f.Fail("'response_format.type' must be \"text\", \"json_object\" or \"json_schema\"",
                  "response_format.type");
  }
  auto spec = rf->find("json_schema");
  if (spec == rf->end() || !spec->is_object()) {
    return f.Wrong("response_format.json_schema", "an object");
  }
  auto schema = spec->find("schema");
  if (schema != spec->end() && !schema->is_null() && !schema->is_object() &&
      !schema->is_boolean()) {
    return f.Wrong("response_format.json_schema.schema", "a JSON schema object");
  }
  g.format = ResponseFormat::kJsonSchema;
  g.schema = schema == spec->end() || schema->is_null() ? Json::object() : *schema;
}

}  // namespace

// What chat and text completions share (logprobs differ: chat has a boolean
// and top_logprobs, completions an integer).
void ReadGenerationParams(FieldReader& f, int32_t n_vocab, GenerationParams& g) {
  g.sampling = OpenAiSampling();
  if (const Json* model = f.Find("model"); model && !model->is_string()) {
    f.Wrong("model", "a string");
  }
  f.String("model", g.model);
  f.Number("temperature", 0, 2, g.sampling.temperature);
  f.Number("top_p", 0, 1, g.sampling.top_p);
  f.Number("presence_penalty", -2, 2, g.sampling.presence_penalty);
  f.Number("frequency_penalty", -2, 2, g.sampling.frequency_penalty);
  // llama.cpp's extensions, kept for clients that send them.
  f.Integer("top_k", 0, n_vocab, g.sampling.top_k);
  f.Number("min_p", 0, 1, g.sampling.min_p);
  f.Number("repetition_penalty", 0.01, 100, g.sampling.repetition_penalty);
  f.Integer("seed", kInt64Min, kInt64Max, g.seed);
  f.Integer("max_tokens", 1, std::numeric_limits<int32_t>::max(), g.max_tokens);
  f.Integer("max_completion_tokens", 1, std::numeric_limits<int32_t>::max(), g.max_tokens);
  f.Integer("n", 1, kMaxChoices, g.n);
  f.Bool("stream", g.stream);
  if (const Json* so = f.Find("stream_options"); so && !f.error) {
    if (!so->is_object()) return f.Wrong("stream_options", "an object");
    FieldReader options(*so);
    options.Bool("include_usage", g.include_usage);
    if (options.error) f.Wrong("stream_options.include_usage", "a boolean");
  }
  ReadStop(f, g.stop);
  ReadLogitBias(f, n_vocab, g.sampling);
  ReadResponseFormat(f, g);
}

namespace {

// A message's content as one string: a string, null, or text parts.
void ReadContent(FieldReader& f, const Json& message, const std::string& at, std::string& out) {
  auto content = message.find("content");
  if (content == message.end() || content->is_null()) return;
  if (content->is_string()) {
    out = content->get<std::string>();
    return;
  }
  if (!content->is_array()) return f.Wrong(at + ".content", "a string or a list of parts");
  for (size_t j = 0; j < content->size(); ++j) {
    const Json& part = (*content)[j];
    const std::string p = at + ".content[" + std::to_string(j) + "]";
    if (!part.is_object() || !part.contains("type") || !part["type"].is_string()) {
      return f.Wrong(p, "an object with a string 'type'");
    }
    if (part["type"] != "text") {
      return f.Fail("content parts of type '" + part["type"].get<std::string>() +
                        "' are not supported; only text",
                    p + ".type");
    }
    if (!part.contains("text") || !part["text"].is_string())
      return f.Wrong(p + ".text", "a string");
    out += part["text"].get<std::string>();
  }
}

// An assistant message's tool_calls, as the chat templates read them: each
// call's arguments, a JSON string on the wire, become the object they encode
// (Mistral's and Llama's templates write them with tojson).
void ReadToolCalls(FieldReader& f, const Json& calls, const std::string& at, Json& out) {
  if (!calls.is_array()) return f.Wrong(at, "a list of tool calls");
  out = Json::array();
  for (size_t j = 0; j < calls.size(); ++j) {
    const Json& call = calls[j];
    const std::string c = at + "[" + std::to_string(j) + "]";
    if (!call.is_object()) return f.Wrong(c, "an object");
    auto id = call.find("id");
    if (id == call.end() || !id->is_string()) return f.Wrong(c + ".id", "a string");
    if (auto type = call.find("type"); type != call.end() && *type != "function") {
      return f.Wrong(c + ".type", "\"function\"");
    }
    auto function = call.find("function");
    if (function == call.end() || !function->is_object()) {
      return f.Wrong(c + ".function", "an object");
    }
    auto name = function->find("name");
    if (name == function->end() || !name->is_string()) {
      return f.Wrong(c + ".function.name", "a string");
    }
    Json arguments = function->value("arguments", Json());
    if (arguments.is_string()) {
      Json parsed = Json::parse(arguments.get<std::string>(), nullptr, false);
      if (parsed.is_object()) arguments = std::move(parsed);  // else kept as the client sent it
    } else if (!arguments.is_object()) {
      return f.Wrong(c + ".function.arguments", "a JSON object encoded as a string");
    }
    out.push_back({{"id", *id},
                   {"type", "function"},
                   {"function", {{"name", *name}, {"arguments", std::move(arguments)}}}});
  }
}

void ReadMessages(FieldReader& f, Json& out) {
  const Json* messages = f.Find("messages");
  if (f.error) return;
  if (!messages) return f.Fail("'messages' is required", "messages");
  if (!messages->is_array() || messages->empty()) {
    return f.Wrong("messages", "a non-empty list of messages");
  }
  for (size_t i = 0; i < messages->size(); ++i) {
    const Json& m = (*messages)[i];
    const std::string at = "messages[" + std::to_string(i) + "]";
    if (!m.is_object()) return f.Wrong(at, "an object");
    auto role = m.find("role");
    if (role == m.end() || !role->is_string()) return f.Wrong(at + ".role", "a string");
    std::string r = role->get<std::string>();
    if (r == "developer") r = "system";  // OpenAI's newer name for the system role
    if (r != "system" && r != "user" && r != "assistant" && r != "tool") {
      return f.Fail("unknown role '" + r + "'; expected system, user, assistant or tool",
                    at + ".role");
    }
    std::string content;
    ReadContent(f, m, at, content);
    if (f.error) return;
    Json normalized = m;
    normalized["role"] = r;
    normalized["content"] = content;
    normalized.erase("prefix");
    normalized.erase("tool_calls");
    if (auto calls = m.find("tool_calls"); calls != m.end() && !calls->is_null()) {
      if (r != "assistant") return f.Fail("only assistant messages carry 'tool_calls'", at);
      Json read;
      ReadToolCalls(f, *calls, at + ".tool_calls", read);
      if (f.error) return;
      if (!read.empty()) normalized["tool_calls"] = std::move(read);
    }
    if (auto id = m.find("tool_call_id"); id != m.end() && !id->is_null() && !id->is_string()) {
      return f.Wrong(at + ".tool_call_id", "a string");
    }
    out.push_back(std::move(normalized));
  }
}

// Function tools: {"type": "function", "function": {"name", "description",
// "parameters"}}, names as OpenAI and Mistral restrict them.
void ReadTools(FieldReader& f, Json& out) {
  const Json* tools = f.Find("tools");
  if (!tools || f.error) return;
  if (!tools->is_array()) return f.Wrong("tools", "a list of tools");
  for (size_t i = 0; i < tools->size(); ++i) {
    const Json& tool = (*tools)[i];
    const std::string at = "tools[" + std::to_string(i) + "]";
    if (!tool.is_object()) return f.Wrong(at, "an object");
    if (auto type = tool.find("type"); type != tool.end() && *type != "function") {
      return f.Fail("only tools of type \"function\" are supported", at + ".type");
    }
    auto function = tool.find("function");
    if (function == tool.end() || !function->is_object()) {
      return f.Wrong(at + ".function", "an object");
    }
    auto name = function->find("name");
    const bool name_ok = name != function->end() && name->is_string() &&
                         !name->get_ref<const std::string&>().empty() &&
                         name->get_ref<const std::string&>().size() <= 64 &&
                         name->get_ref<const std::string&>().find_first_not_of(
                             "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") ==
                             std::string::npos;
    if (!name_ok) {
      return f.Wrong(at + ".function.name", "1 to 64 letters, digits, '_' or '-'");
    }
    for (size_t j = 0; j < i; ++j) {
      if ((*tools)[j]["function"]["name"] == *name) {
        return f.Fail("two tools are named '" + name->get<std::string>() + "'",
                      at + ".function.name");
      }
    }
    if (auto d = function->find("description");
        d != function->end() && !d->is_null() && !d->is_string()) {
      return f.Wrong(at + ".function.description", "a string");
    }
    if (auto p = function->find("parameters");
        p != function->end() && !p->is_null() && !p->is_object()) {
      return f.Wrong(at + ".function.parameters", "a JSON schema object");
    }
  }
  if (!tools->empty()) out = *tools;  // an empty list declares nothing
}

// tool_choice against the tools: a forced call needs tools, a named one
// must be among them.
void CheckToolChoice(FieldReader& f, const ChatRequest& r) {
  if (f.error) return;
  const bool forced =
      r.tool_choice == "any" || r.tool_choice == "required" || r.tool_choice == "function";
  if (forced && (r.tools.is_null() || r.tools.empty())) {
    return f.Fail("'tool_choice' \"" + r.tool_choice + "\" needs a non-empty 'tools' list",
                  "tool_choice");
  }
  if (r.tool_choice != "function") return;
  for (const Json& tool : r.tools) {
    if (tool["function"]["name"] == r.tool_choice_name) return;
  }
  f.Fail("'tool_choice' names the function '" + r.tool_choice_name +
             "', which 'tools' does not declare",
         "tool_choice");
}

Json LogprobsContent(const std::vector<TokenLogprob>& tokens) {
  Json content = Json::array();
  auto bytes = [](const std::string& s) {
    Json b = Json::array();
    for (unsigned char c : s) b.push_back(c);
    return b;
  };
  for (const TokenLogprob& t : tokens) {
    Json top = Json::array();
    for (const auto& [token, lp] : t.top) {
      top.push_back({{"token", token}, {"logprob", lp}, {"bytes", bytes(token)}});
    }
    content.push_back({{"token", t.token},
                       {"logprob", t.logprob},
                       {"bytes", bytes(t.token)},
                       {"top_logprobs", top}});
  }
  return Json{{"content", content}};
}

// The legacy completions shape: parallel arrays and one map per token.
Json LegacyLogprobs(const std::vector<TokenLogprob>& tokens, size_t text_offset) {
  Json j{{"tokens", Json::array()},
         {"token_logprobs", Json::array()},
         {"top_logprobs", Json::array()},
         {"text_offset", Json::array()}};
  for (const TokenLogprob& t : tokens) {
    j["tokens"].push_back(t.token);
    j["token_logprobs"].push_back(t.logprob);
    Json top = Json::object();
    for (const auto& [token, lp] : t.top) top[token] = lp;
    j["top_logprobs"].push_back(top);
    j["text_offset"].push_back(text_offset);
    text_offset += t.token.size();
  }
  return j;
}

Json UsageObject(const Usage& u) {
  return {{"prompt_tokens", u.prompt_tokens},
          {"completion_tokens", u.completion_tokens},
          {"total_tokens", u.prompt_tokens + u.completion_tokens},
          {"energy_joules", u.energy_joules},
          {"energy_source", EnergySourceName(u.energy_source)},
          {"co2e_grams", u.co2e_grams},
          {"cost", u.cost},
          {"cost_currency", u.currency}};
}

// Embeddings have no completion tokens; the energy fields as for the others.
Json EmbeddingUsage(const Usage& u) {
  Json j = UsageObject(u);
  j.erase("completion_tokens");
  return j;
}

Json Envelope(const ResponseMeta& meta, const char* object) {
  return {{"id", meta.id},
          {"object", object},
          {"created", meta.created},
          {"model", meta.model},
          {"system_fingerprint", "autan"}};
}

Json FinishReason(const std::string& r) { return r.empty() ? Json() : Json(r); }

// A prompt or embedding input: a string, a list of strings, a list of token
// ids or a list of lists of token ids.
std::optional<ApiError> ReadInputs(const Json& value, const std::string& name, int32_t n_vocab,
                                   std::vector<std::string>& texts,
                                   std::vector<std::vector<int32_t>>& ids, bool& ids_given) {
  auto is_id = [n_vocab](const Json& t) {
    return t.is_number_integer() && t.get<int64_t>() >= 0 && t.get<int64_t>() < n_vocab;
  };
  auto ids_of = [&](const Json& list, std::vector<int32_t>& out) {
    for (const Json& t : list) {
      if (!is_id(t)) return false;
      out.push_back(t.get<int32_t>());
    }
    return !out.empty();
  };
  const std::string expected =
      "'" + name +
      "' must be a string, a list of strings, a list of token ids or a list of lists of token ids";
  const std::string id_range = "token ids of this model (0.." + std::to_string(n_vocab - 1) + ")";
  if (value.is_string()) {
    texts.push_back(value.get<std::string>());
  } else if (value.is_array() && !value.empty() && value[0].is_string()) {
    for (const Json& p : value) {
      if (!p.is_string()) return BadRequest(expected, name);
      texts.push_back(p.get<std::string>());
    }
  } else if (value.is_array() && !value.empty() && value[0].is_array()) {
    ids_given = true;
    for (const Json& p : value) {
      ids.emplace_back();
      if (!p.is_array() || !ids_of(p, ids.back())) {
        return BadRequest("'" + name + "' token lists must hold " + id_range, name);
      }
    }
  } else if (value.is_array()) {
    ids_given = true;
    ids.emplace_back();
    if (!ids_of(value, ids.back())) return BadRequest(expected + " (" + id_range + ")", name);
  } else {
    return BadRequest(expected, name);
  }
  return std::nullopt;
}

}  // namespace

std::optional<ApiError> ParseJsonBody(std::string_view body, Json& out) {
  // The only exception in the server: nlohmann reports where the JSON broke
  // through it, and it never leaves this function.
  try {
    out = Json::parse(body);
  } catch (const Json::exception& e) {
    std::string what = e.what();
    if (const size_t colon = what.find("] "); colon != std::string::npos) what.erase(0, colon + 2);
    return BadRequest("the request body is not valid JSON: " + what);
  }
  if (!out.is_object()) return BadRequest("the request body must be a JSON object");
  return std::nullopt;
}

std::optional<ApiError> ParseChatRequest(const Json& body, int32_t n_vocab, ChatRequest& out) {
  FieldReader f(body);
  ReadMessages(f, out.messages);
  ReadGenerationParams(f, n_vocab, out.gen);
  bool logprobs = false;
  int32_t top_logprobs = 0;
  f.Bool("logprobs", logprobs);
  f.Integer("top_logprobs", 0, 20, top_logprobs);
  if (!f.error && f.Find("top_logprobs") && !logprobs) {
    f.Fail("'top_logprobs' needs 'logprobs': true", "top_logprobs");
  }
  if (logprobs) out.gen.logprobs = top_logprobs;
  ReadTools(f, out.tools);
  f.Bool("parallel_tool_calls", out.parallel_tool_calls);
  if (!f.error) ReadMistralChatFields(f, body, out);
  CheckToolChoice(f, out);
  if (f.error) return f.error;
  if (out.safe_prompt) ApplySafePrompt(out.messages);
  return std::nullopt;
}

std::optional<ApiError> ParseCompletionRequest(const Json& body, int32_t n_vocab,
                                               CompletionRequest& out) {
  FieldReader f(body);
  ReadGenerationParams(f, n_vocab, out.gen);
  f.Integer("logprobs", 0, 20, out.gen.logprobs);
  f.Bool("echo", out.echo);
  if (const Json* suffix = f.Find("suffix"); suffix && !f.error) {
    f.Fail("'suffix' is not supported on /v1/completions", "suffix");
  }
  if (f.error) return f.error;
  const Json* prompt = f.Find("prompt");
  if (!prompt) return BadRequest("'prompt' is required", "prompt");
  if (std::optional<ApiError> e =
          ReadInputs(*prompt, "prompt", n_vocab, out.texts, out.ids, out.ids_given)) {
    return e;
  }
  const size_t prompts = out.ids_given ? out.ids.size() : out.texts.size();
  if (prompts * static_cast<size_t>(out.gen.n) > static_cast<size_t>(kMaxChoices)) {
    return BadRequest("at most 16 choices in all (prompts times n)", "prompt");
  }
  return std::nullopt;
}

std::optional<ApiError> ParseEmbeddingRequest(const Json& body, int32_t n_vocab, int32_t dim,
                                              EmbeddingRequest& out) {
  FieldReader f(body);
  if (const Json* model = f.Find("model"); model && !model->is_string()) {
    f.Wrong("model", "a string");
  }
  f.String("model", out.model);
  std::string format = "float";
  f.String("encoding_format", format);
  if (!f.error && format != "float" && format != "base64") {
    f.Fail("'encoding_format' must be \"float\" or \"base64\"", "encoding_format");
  }
  out.base64 = format == "base64";
  f.Integer("dimensions", 1, std::numeric_limits<int32_t>::max(), out.dimensions);
  // Mistral's names for the same two settings.
  f.Integer("output_dimension", 1, std::numeric_limits<int32_t>::max(), out.dimensions);
  std::string dtype = "float";
  f.String("output_dtype", dtype);
  if (!f.error && dtype != "float") {
    f.Fail("'output_dtype' must be \"float\": quantized embeddings are not supported",
           "output_dtype");
  }
  if (f.error) return f.error;
  if (out.dimensions && *out.dimensions != dim) {
    const char* param = body.contains("dimensions") ? "dimensions" : "output_dimension";
    return BadRequest("this model's embeddings have " + std::to_string(dim) + " dimensions; '" +
                          param + "' must be " + std::to_string(dim) + " or left out",
                      param);
  }
  const Json* input = f.Find("input");
  if (!input) return BadRequest("'input' is required", "input");
  if (std::optional<ApiError> e =
          ReadInputs(*input, "input", n_vocab, out.texts, out.ids, out.ids_given)) {
    return e;
  }
  for (const std::string& text : out.texts) {
    if (text.empty()) return BadRequest("'input' must not hold empty strings", "input");
  }
  return std::nullopt;
}

Json ChatCompletionObject(const ResponseMeta& meta, const std::vector<ChoiceOutput>& choices,
                          bool with_logprobs, const Usage& usage) {
  Json j = Envelope(meta, "chat.completion");
  j["choices"] = Json::array();
  for (const ChoiceOutput& c : choices) {
    Json message = {{"role", "assistant"}, {"content", c.text}};
    if (!c.tool_calls.empty()) {
      // Text the model wrote before its calls is kept; mere spacing is not.
      if (c.text.find_first_not_of(" \t\r\n") == std::string::npos) message["content"] = nullptr;
      message["tool_calls"] = Json::array();
      for (const ToolCall& t : c.tool_calls) {
        message["tool_calls"].push_back(
            {{"id", t.id},
             {"type", "function"},
             {"function", {{"name", t.name}, {"arguments", t.arguments}}}});
      }
    }
    j["choices"].push_back({{"index", c.index},
                            {"message", std::move(message)},
                            {"logprobs", with_logprobs ? LogprobsContent(c.logprobs) : Json()},
                            {"finish_reason", FinishReason(c.finish_reason)}});
  }
  j["usage"] = UsageObject(usage);
  return j;
}

Json TextCompletionObject(const ResponseMeta& meta, const std::vector<ChoiceOutput>& choices,
                          bool with_logprobs, const Usage& usage) {
  Json j = Envelope(meta, "text_completion");
  j["choices"] = Json::array();
  for (const ChoiceOutput& c : choices) {
    j["choices"].push_back({{"text", c.text},
                            {"index", c.index},
                            {"logprobs", with_logprobs ? LegacyLogprobs(c.logprobs, 0) : Json()},
                            {"finish_reason", FinishReason(c.finish_reason)}});
  }
  j["usage"] = UsageObject(usage);
  return j;
}

Json ChatRoleChunk(const ResponseMeta& meta, int32_t index, bool include_usage) {
  Json j = Envelope(meta, "chat.completion.chunk");
  j["choices"] = Json::array({{{"index", index},
                               {"delta", {{"role", "assistant"}, {"content", ""}}},
                               {"logprobs", nullptr},
                               {"finish_reason", nullptr}}});
  if (include_usage) j["usage"] = nullptr;
  return j;
}

std::vector<Json> ChatDeltaChunks(const ResponseMeta& meta, const ChoiceDelta& d,
                                  bool with_logprobs, bool include_usage) {
  // One delta per chunk, as OpenAI streams them: the text, then each call's
  // head ({index, id, type, function: {name, arguments: ""}}) and argument
  // fragments ({index, function: {name: "", arguments}}: the empty name keeps
  // clients that require one in every delta, like Mistral's, working, and
  // those that concatenate names unchanged). The logprobs go with the first
  // chunk, the finish_reason with the last.
  std::vector<Json> deltas;
  if (!d.text.empty() || (d.tool_calls.empty() && d.finish_reason.empty())) {
    deltas.push_back({{"content", d.text}});
  }
  for (const ToolCallDelta& t : d.tool_calls) {
    Json call = {{"index", t.index}};
    if (!t.id.empty()) {
      call["id"] = t.id;
      call["type"] = "function";
      call["function"] = {{"name", t.name}, {"arguments", t.arguments}};
    } else {
      call["function"] = {{"name", ""}, {"arguments", t.arguments}};
    }
    deltas.push_back({{"tool_calls", Json::array({std::move(call)})}});
  }
  if (deltas.empty()) deltas.push_back(Json::object());
  std::vector<Json> chunks;
  for (size_t i = 0; i < deltas.size(); ++i) {
    Json j = Envelope(meta, "chat.completion.chunk");
    const bool last = i + 1 == deltas.size();
    j["choices"] =
        Json::array({{{"index", d.index},
                      {"delta", std::move(deltas[i])},
                      {"logprobs", with_logprobs && i == 0 ? LogprobsContent(d.logprobs) : Json()},
                      {"finish_reason", last ? FinishReason(d.finish_reason) : Json()}}});
    if (include_usage) j["usage"] = nullptr;
    chunks.push_back(std::move(j));
  }
  return chunks;
}

Json TextDeltaChunk(const ResponseMeta& meta, const ChoiceDelta& d, bool with_logprobs,
                    bool include_usage) {
  Json j = Envelope(meta, "text_completion");
  j["choices"] = Json::array({{{"text", d.text},
                               {"index", d.index},
                               {"logprobs", with_logprobs ? LegacyLogprobs(d.logprobs, 0) : Json()},
                               {"finish_reason", FinishReason(d.finish_reason)}}});
  if (include_usage) j["usage"] = nullptr;
  return j;
}

Json UsageChunk(const ResponseMeta& meta, const char* object, const Usage& usage) {
  Json j = Envelope(meta, object);
  j["choices"] = Json::array();
  j["usage"] = UsageObject(usage);
  return j;
}

Json EmbeddingListObject(const ResponseMeta& meta, const std::vector<std::vector<float>>& data,
                         bool base64, const Usage& usage) {
  static_assert(std::endian::native == std::endian::little, "base64 embeddings are little-endian");
  Json list = Json::array();
  for (size_t i = 0; i < data.size(); ++i) {
    Json values;
    if (base64) {
      values = Base64(std::string_view(reinterpret_cast<const char*>(data[i].data()),
                                       data[i].size() * sizeof(float)));
    } else {
      values = Json::array();
      for (float v : data[i]) values.push_back(v);
    }
    list.push_back({{"object", "embedding"}, {"index", i}, {"embedding", std::move(values)}});
  }
  return {{"id", meta.id},
          {"object", "list"},
          {"data", std::move(list)},
          {"model", meta.model},
          {"usage", EmbeddingUsage(usage)}};
}

Json ModelObject(const std::string& id, int64_t created) {
  return {{"id", id}, {"object", "model"}, {"created", created}, {"owned_by", "autan"}};
}

Json ModelList(const std::string& id, int64_t created) {
  return {{"object", "list"}, {"data", Json::array({ModelObject(id, created)})}};
}

}  // namespace autan::server
