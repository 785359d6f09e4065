// KL-divergence base files (`autan perplexity --kl-divergence-base`), which a
// user may take from anywhere, llama-perplexity included: kld_base::File::Parse
// validates the sizes, tokens and row scales. Every row of an accepted file
// is read at both ends, so ASan reports a view that leaves the file.
#include <cstdint>
#include <memory>

#include "core/mapped_file.h"
#include "formats/kld_base.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace autan;
  std::shared_ptr<const MappedFile> bytes = MappedFile::FromBytes({data, size}, "fuzz.kld");
  Result<kld_base::File> file = kld_base::File::Parse(bytes);
  if (!file.ok()) {
    fuzz::CheckMessage(file.error());
    return 0;
  }
  float sum = 0;
  for (int32_t token : file->tokens()) {
    if (token < 0 || token >= file->n_vocab()) std::abort();  // validated on parse
  }
  for (int32_t c = 0; c < file->n_chunks(); ++c) {
    for (int32_t i = 0; i < kld_base::ScoredPerChunk(file->n_ctx()); ++i) {
      const kld_base::Row row = file->row(c, i);
      sum += row.LogProb(0) + row.LogProb(file->n_vocab() - 1);
    }
  }
  volatile float sink = sum;
  (void)sink;
  return 0;
}
