#include "server/response_format.h"

#include "runtime/constraint/json_constraint.h"

namespace autan::server {
namespace {

// Keeps the output inside the grammar and ends generation once the JSON value
// is closed (nothing but white space could follow an object, array, string
// or literal; a number could still grow, so it waits for an end token).
class JsonProcessor : public LogitsProcessor {
 public:
  JsonProcessor(std::shared_ptr<const constraint::JsonGrammar> grammar,
                std::shared_ptr<const constraint::TokenTrie> vocab)
      : constraint_(std::move(grammar), std::move(vocab)) {}

  void Apply(std::span<float> logits) override {
    if (constraint_.MaskLogits(logits) == 0) stuck_ = true;
  }
  void Accept(int32_t token) override {
    if (!constraint_.Accept(token).ok()) {
      stuck_ = true;  // every token was refused and the sampler had to pick one anyway
      return;
    }
    for (char c : constraint_.vocab().piece(token)) {
      if (c != ' ' && c != '\n' && c != '\t' && c != '\r') last_ = c;
    }
  }
  bool Complete() const override {
    if (stuck_ || constraint_.IsFinished()) return true;
    return constraint_.IsComplete() && !(last_ >= '0' && last_ <= '9') && last_ != '.';
  }

 private:
  constraint::JsonConstraint constraint_;
  char last_ = 0;
  bool stuck_ = false;
};

}  // namespace

struct ResponseFormats::Impl {
  std::shared_ptr<const constraint::TokenTrie> vocab;
};

ResponseFormats::ResponseFormats(const Model& model) : impl_(std::make_unique<Impl>()) {
  impl_->vocab = constraint::TokenTrie::FromTokenizer(model.tokenizer());
}

ResponseFormats::~ResponseFormats() = default;

std::optional<ApiError> ResponseFormats::SchemaFactory(const nlohmann::ordered_json& schema,
                                                       const std::string& param,
                                                       const constraint::GrammarOptions& options,
                                                       ProcessorFactory& out) const {
  out = nullptr;
  Result<std::shared_ptr<const constraint::JsonGrammar>> g =
      constraint::JsonGrammar::FromSchema(schema, options);
  if (!g.ok()) return BadRequest(param + ": " + g.error().message, param);
  out = [grammar = std::move(g).value(), vocab = impl_->vocab] {
    return std::make_unique<JsonProcessor>(grammar, vocab);
  };
  return std::nullopt;
}

std::optional<ApiError> ResponseFormats::Factory(const GenerationParams& params,
                                                 ProcessorFactory& out) const {
  out = nullptr;
  std::shared_ptr<const constraint::JsonGrammar> grammar;
  switch (params.format) {
    case ResponseFormat::kText:
      return std::nullopt;
    case ResponseFormat::kJsonObject:
      grammar = constraint::JsonGrammar::AnyObject();
      break;
    case ResponseFormat::kJsonSchema: {
      Result<std::shared_ptr<const constraint::JsonGrammar>> g =
          constraint::JsonGrammar::FromSchema(params.schema);
      if (!g.ok()) {
        return BadRequest("response_format.json_schema.schema: " + g.error().message,
                          "response_format.json_schema.schema");
      }
      grammar = std::move(g).value();
      break;
    }
  }
  out = [grammar, vocab = impl_->vocab] { return std::make_unique<JsonProcessor>(grammar, vocab); };
  return std::nullopt;
}

}  // namespace autan::server
