// `autan pull`: one GGUF file from a Hugging Face–style hub (or any URL) into
// the model store, resumable, checked against its SHA-256 and parsed as GGUF
// before it takes its final name.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/result.h"
#include "hub/model_ref.h"

namespace autan::hub {

struct PullProgress {
  uint64_t done = 0;        // bytes in the partial file
  uint64_t total = 0;       // 0 when the server did not say
  uint64_t resumed_at = 0;  // bytes that were there before this run
};

struct PullOptions {
  std::string store_dir;
  std::string endpoint = std::string(kDefaultEndpoint);  // checked (CheckEndpoint)
  std::string token;   // sent as a Bearer token, and only to `endpoint`
  std::string sha256;  // expected digest (hex), overriding what the server says
  bool force = false;  // download again even if the file is in the store
  int retries = 5;     // attempts in a row that make no progress before giving up
  long stall_timeout_s = 30;
  double first_backoff_s = 1.0;  // doubled after each failed attempt, at most 30 s
  std::function<void(const PullProgress&)> progress;
  std::function<void(const std::string&)> note;  // one line for the user
};

struct PullResult {
  std::string path;  // the file in the store
  uint64_t bytes = 0;
  std::string sha256;            // empty when the file was already there
  bool already_present = false;  // nothing was downloaded
};

// Errors say what failed and where: the HTTP status and host, the expected
// and actual digest, the GGUF field. A failed check deletes the partial file;
// a network failure keeps it, so that running the same pull again resumes.
Result<PullResult> Pull(const ModelRef& ref, const PullOptions& options);

// A token must be one printable word: anything else could end the header
// line and add headers of its own. The error does not show the token.
Status CheckToken(std::string_view token);

// "bytes START-END/TOTAL" (RFC 9110 14.4), each number checked.
struct ContentRange {
  uint64_t start = 0, end = 0, total = 0;
};
Result<ContentRange> ParseContentRange(std::string_view value);

// The digest in an X-Linked-Etag (or ETag) value: quotes and a weak "W/"
// prefix removed, lower-cased; empty unless 64 hex digits.
std::string Sha256FromEtag(std::string_view value);

// The SHA-256 and size of `path` in a hub tree listing (the JSON array of
// GET /api/models/REPO/tree/REV/DIR, an LFS file with "lfs": {"oid", "size"}),
// or an empty digest when the listing is not such an array or does not give
// one for that path.
struct ListedFile {
  std::string sha256;  // 64 lower-case hex digits, or empty
  uint64_t size = 0;   // 0: not given
};
ListedFile FindInTreeListing(std::string_view listing, std::string_view path);

}  // namespace autan::hub
