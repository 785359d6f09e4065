// What `autan pull` reads from the user and from a server before trusting
// it: the model reference (short name, hf://, URL, with URL decoding), the
// HF_ENDPOINT value, Content-Range, the digest in an ETag and in a tree
// listing of the hub's API.
// Input: "reference\n----\nheader value".
#include <cstdint>
#include <cstdlib>
#include <string>

#include "fuzz_util.h"
#include "hub/model_ref.h"
#include "hub/pull.h"

namespace autan::fuzz {
namespace {

// A store name stays one safe file name, whatever the input.
void CheckStoreName(const std::string& name) {
  if (name.empty() || name.find('/') != std::string::npos || name.front() == '.' ||
      name.front() == '-' || name.find("..") != std::string::npos || !name.ends_with(".gguf")) {
    std::abort();
  }
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) std::abort();
  }
}

}  // namespace
}  // namespace autan::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace autan;
  const auto parts = fuzz::SplitParts(fuzz::AsText(data, size), 2);
  const std::string input(parts[0]);
  for (std::string_view endpoint :
       {std::string_view("https://huggingface.co"), std::string_view("http://127.0.0.1:8080")}) {
    Result<hub::ModelRef> ref = hub::ParseModelRef(input, endpoint);
    if (ref.ok()) {
      fuzz::CheckStoreName(ref->store_name);
      // What was accepted is fetched over https, or http to this machine only.
      if (!hub::ParseOrigin(ref->url).ok()) std::abort();
    } else if (ref.error().message.empty()) {
      std::abort();
    }
  }
  if (Result<std::string> e = hub::CheckEndpoint(input); e.ok() && !hub::ParseOrigin(*e).ok()) {
    std::abort();
  }
  const std::string_view header = parts.size() > 1 ? parts[1] : parts[0];
  if (Result<hub::ContentRange> r = hub::ParseContentRange(header);
      r.ok() && (r->start > r->end || r->end >= r->total)) {
    std::abort();
  }
  const std::string sha = hub::Sha256FromEtag(header);
  if (!sha.empty() && sha.size() != 64) std::abort();
  // The value as a tree listing, looked up for the reference's path.
  const hub::ListedFile listed = hub::FindInTreeListing(header, input);
  if (!listed.sha256.empty() && listed.sha256.size() != 64) std::abort();
  if (listed.sha256.empty() && listed.size != 0) std::abort();
  return 0;
}
