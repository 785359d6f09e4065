#include "model/checkpoint_vocab.h"

#include <cstdint>

#include "tokenizer/tokenizer_file.h"

namespace autan {

Result<VocabSpec> CheckpointVocab(const CheckpointView& view, const std::string& dir) {
  if (view.tokenizer_path.empty()) {
    return Fail(
        "%s: no tokenizer beside the weights (tekken.json, tokenizer.model.v3, "
        "tokenizer.model or tokenizer.json)",
        dir.c_str());
  }
  Result<VocabSpec> spec = LoadVocabSpecFile(view.tokenizer_path);
  if (!spec.ok()) return spec.error();
  if (view.tokenizer_config.add_bos) spec->add_bos = view.tokenizer_config.add_bos;
  if (view.tokenizer_config.add_eos) spec->add_eos = view.tokenizer_config.add_eos;

  // Embeddings padded past the vocabulary (to a multiple of 64, say, or
  // for tokens a fine-tune meant to add): the extra rows get placeholder
  // tokens, never produced from text, as llama.cpp's converter names them.
  const gguf::TensorInfo* embd = view.file.FindTensor("token_embd.weight");
  if (embd == nullptr || embd->dims.size() != 2) return *spec;  // OpenCheckpoint checked it
  const uint64_t rows = embd->dims[1];
  const size_t n = spec->tokens.size();
  // Tekken ranks every token after the special ones by its id: no padding.
  if (n > rows || (n < rows && spec->model == "tekken")) {
    return Fail("%s: %zu tokens, but the embeddings (token_embd.weight) have %llu rows",
                view.tokenizer_path.c_str(), n, static_cast<unsigned long long>(rows));
  }
  if (n < rows) {
    if (spec->scores.empty()) spec->scores.assign(n, 0.0f);
    if (spec->token_types.empty()) {
      spec->token_types.assign(n, static_cast<int32_t>(TokenType::kNormal));
    }
    for (size_t id = n; id < rows; ++id) {
      spec->tokens.push_back("[PAD" + std::to_string(id) + "]");
      spec->scores.push_back(-1000.0f);
      spec->token_types.push_back(static_cast<int32_t>(TokenType::kUnused));
    }
  }
  return spec;
}

}  // namespace autan
