// safetensors files as a hostile user would hand them over: the header
// length, the JSON header and the tensor table (safetensors::File::Parse).
// Accepted tensors must lie inside the file: their first and last bytes are
// read, so ASan reports any view that leaves it.
#include <cstdint>
#include <memory>

#include "core/mapped_file.h"
#include "formats/safetensors.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace autan;
  std::shared_ptr<const MappedFile> bytes = MappedFile::FromBytes({data, size}, "fuzz.safetensors");
  Result<safetensors::File> file = safetensors::File::Parse(bytes);
  if (!file.ok()) {
    fuzz::CheckMessage(file.error());
    return 0;
  }
  uint32_t sum = 0;
  for (const safetensors::TensorInfo& t : file->tensors()) {
    if (file->FindTensor(t.name) != &t) std::abort();  // names are unique and found
    if (t.n_bytes > 0) sum += t.data[0] + t.data[t.n_bytes - 1];
  }
  volatile uint32_t sink = sum;
  (void)sink;
  return 0;
}
