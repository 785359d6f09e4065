// response_format json_object / json_schema: the logits processor that keeps
// each choice's output valid JSON (for a schema, JSON the schema accepts).
#pragma once

#include <functional>
#include <memory>

#include "model/model.h"
#include "runtime/constraint/json_grammar.h"
#include "runtime/scheduler.h"
#include "server/api_error.h"
#include "server/api_types.h"

namespace autan::server {

using ProcessorFactory = std::function<std::unique_ptr<LogitsProcessor>()>;

// Per-model state (the vocabulary's token trie), built once and shared.
class ResponseFormats {
 public:
  explicit ResponseFormats(const Model& model);
  ~ResponseFormats();
  // A factory for the request's format, an empty one for plain text, or a 400
  // naming what in the schema is not supported.
  std::optional<ApiError> Factory(const GenerationParams& params, ProcessorFactory& out) const;
  // A factory for output that `schema` accepts; a 400 naming `param` when
  // the schema is not supported.
  std::optional<ApiError> SchemaFactory(const nlohmann::ordered_json& schema,
                                        const std::string& param,
                                        const constraint::GrammarOptions& options,
                                        ProcessorFactory& out) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace autan::server
