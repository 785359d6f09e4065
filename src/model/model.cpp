#include "model/model.h"

#include <string_view>

#include "formats/checkpoint.h"
#include "model/checkpoint_vocab.h"
#include "model/vocab_gguf.h"

namespace autan {
namespace {

struct ArchitectureEntry {
  std::string_view name;
  ArchitectureLoader load;
};

// Mistral and Mistral-derived GGUF files use the "llama" key.
constexpr ArchitectureEntry kArchitectures[] = {
    {"llama", LoadLlama},
};

}  // namespace

Result<std::shared_ptr<const Model>> Model::Load(const std::string& path,
                                                 const LoadOptions& options) {
  if (IsCheckpointFolder(path)) {
    Result<CheckpointView> view = OpenCheckpoint(path);
    if (!view.ok()) return view.error();
    Result<VocabSpec> vocab = CheckpointVocab(*view, path);
    if (!vocab.ok()) return vocab.error();
    Result<Tokenizer> tokenizer = Tokenizer::Create(std::move(vocab).value());
    if (!tokenizer.ok()) {
      return Fail("%s: %s", view->tokenizer_path.c_str(), tokenizer.error().message.c_str());
    }
    return FromFile(std::move(view->file), options, std::move(tokenizer).value());
  }
  Result<gguf::File> file = gguf::File::Open(path);
  if (!file.ok()) return file.error();
  return FromFile(std::move(file).value(), options);
}

Result<std::shared_ptr<const Model>> Model::FromFile(gguf::File file, const LoadOptions& options,
                                                     std::optional<Tokenizer> given) {
  const std::string path = file.path();
  ModelConfig config;
  Result<std::string_view> arch = file.GetString("general.architecture");
  if (!arch.ok()) return Fail("%s: %s", path.c_str(), arch.error().message.c_str());
  config.architecture = std::string(*arch);
  if (Result<std::string_view> name = file.GetString("general.name"); name.ok()) {
    config.name = std::string(*name);
  }
  config.sliding_window = options.sliding_window;

  Result<Tokenizer> tokenizer =
      given ? Result<Tokenizer>(std::move(*given)) : TokenizerFromGguf(file);
  if (!tokenizer.ok()) return Fail("%s: %s", path.c_str(), tokenizer.error().message.c_str());
  config.n_vocab = tokenizer->n_vocab();

  for (const ArchitectureEntry& entry : kArchitectures) {
    if (entry.name != config.architecture) continue;
    Result<std::unique_ptr<const Architecture>> loaded = entry.load(file, config);
    if (!loaded.ok()) return Fail("%s: %s", path.c_str(), loaded.error().message.c_str());
    return std::shared_ptr<const Model>(new Model(std::move(file), std::move(config),
                                                  std::move(tokenizer).value(),
                                                  std::move(loaded).value()));
  }
  return Fail("%s: unsupported architecture '%s'", path.c_str(), config.architecture.c_str());
}

}  // namespace autan
