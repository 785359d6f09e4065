// GGUF files as a hostile user would hand them over: the header, metadata and
// tensor table (gguf::File::Parse), every typed getter on every key, the
// vocabulary and the Llama loader (Model::FromFile), and, when all of that
// accepts the file, one forward pass, which must stay inside the tensors the
// loader bound.
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "core/mapped_file.h"
#include "core/thread_pool.h"
#include "formats/gguf.h"
#include "fuzz_util.h"
#include "model/model.h"
#include "runtime/session.h"

namespace autan::fuzz {
namespace {

// Reads every metadata value through every getter: each either succeeds or
// fails with a message, whatever the key's type.
void ReadAllMetadata(const gguf::File& file) {
  for (const auto& [key, value] : file.metadata()) {
    const Result<uint64_t> u = file.GetUInt(key);
    if (!u.ok()) CheckMessage(u.error());
    (void)file.GetInt(key);
    (void)file.GetFloat(key);
    (void)file.GetBool(key);
    (void)file.GetString(key);
    (void)file.GetStringSpan(key);
    (void)file.GetFloatArray(key);
    const Result<std::vector<int32_t>> ints = file.GetIntArray(key);
    if (!ints.ok()) CheckMessage(ints.error());
    (void)file.FindUInt(key);
  }
}

// Touches the first and last byte of every tensor: ASan reports a view that
// leaves the file.
uint32_t TouchTensors(const gguf::File& file) {
  uint32_t sum = 0;
  for (const gguf::TensorInfo& t : file.tensors()) {
    if (t.n_bytes == 0) continue;
    sum += t.data[0] + t.data[t.n_bytes - 1];
  }
  return sum;
}

// A model small enough to run: one forward pass over two tokens.
void RunForward(std::shared_ptr<const Model> model) {
  const ModelConfig& c = model->config();
  if (c.n_vocab < 2 || c.dim > 1024 || c.ffn_dim > 4096 || c.n_layers > 8) return;
  ThreadPool pool(1);
  SessionOptions options;
  options.n_ctx = 8;
  options.max_batch = 4;
  Result<std::unique_ptr<Session>> session = Session::Create(model, pool, options);
  if (!session.ok()) return CheckMessage(session.error());
  const int32_t tokens[] = {0, c.n_vocab - 1};
  Result<std::span<const float>> logits = (*session)->Eval(tokens);
  if (!logits.ok()) return CheckMessage(logits.error());
  if (logits->size() != static_cast<size_t>(c.n_vocab)) std::abort();
}

}  // namespace
}  // namespace autan::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace autan;
  std::shared_ptr<const MappedFile> bytes = MappedFile::FromBytes({data, size}, "fuzz.gguf");
  Result<gguf::File> file = gguf::File::Parse(bytes);
  if (!file.ok()) {
    fuzz::CheckMessage(file.error());
    return 0;
  }
  fuzz::ReadAllMetadata(*file);
  volatile uint32_t sink = fuzz::TouchTensors(*file);
  (void)sink;
  Result<std::shared_ptr<const Model>> model = Model::FromFile(std::move(file).value());
  if (!model.ok()) {
    fuzz::CheckMessage(model.error());
    return 0;
  }
  fuzz::RunForward(std::move(model).value());
  return 0;
}
