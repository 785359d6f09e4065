#include "model/checkpoint_vocab.h"

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
  return spec;
}

}  // namespace autan
