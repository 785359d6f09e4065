#include "hub/pull.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "core/sha256.h"
#include "formats/gguf.h"
#include "hub/http_client.h"

namespace autan::hub {
namespace {

constexpr int kMaxRedirects = 10;

bool ParseU64(std::string_view s, uint64_t& out) {
  if (s.empty() || s.size() > 19) return false;  // below 2^63, no overflow
  out = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    out = out * 10 + static_cast<uint64_t>(c - '0');
  }
  return true;
}

std::string Human(uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.2f GiB", static_cast<double>(bytes) / (1 << 30));
  if (bytes < (1u << 30)) {
    std::snprintf(text, sizeof(text), "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  }
  return text;
}

// An error from the server's answer, with what the user can do about it.
Error StatusError(long status, const Origin& origin, const ModelRef& ref, bool sent_token) {
  const std::string what = ref.repo.empty() ? ref.url : ref.repo + "/" + ref.file;
  if (status == 401 || status == 403) {
    return Fail(
        "HTTP %ld from %s for %s: %s. The repository may be gated or private: accept its terms on "
        "its page, then set HF_TOKEN (or --token-file) to an access token that can read it",
        status, origin.host.c_str(), what.c_str(),
        sent_token ? "the token was refused or lacks access" : "access denied without a token");
  }
  if (status == 404) {
    return Fail("HTTP 404 from %s: %s does not exist (check the repository, file and revision)",
                origin.host.c_str(), what.c_str());
  }
  return Fail("HTTP %ld from %s for %s", status, origin.host.c_str(), what.c_str());
}

// Shared by the probe and the download: one client, the endpoint the token
// belongs to, and the headers each hop gets.
struct Context {
  const ModelRef& ref;
  const PullOptions& options;
  Origin endpoint;
  HttpClient& http;

  // The token goes only to the hub it is for, never to a CDN or mirror a
  // redirect leads to.
  std::vector<std::string> Headers(const Origin& to) const {
    std::vector<std::string> h;
    if (!options.token.empty() && to == endpoint)
      h.push_back("Authorization: Bearer " + options.token);
    return h;
  }
};

struct ProbeResult {
  std::string sha256;
  uint64_t size = 0;  // 0: unknown
};

// How one metadata request ended: an answer to read (true), a failure worth
// retrying (false, `retry_reason` says which: the connection, 429, 5xx) or
// one that is not (an error).
Result<bool> Answered(const HttpOutcome& out, const Origin& origin, std::string& retry_reason) {
  if (out.kind == HttpOutcome::Kind::kFatal) {
    return Fail("cannot reach %s: %s", origin.host.c_str(), out.error.c_str());
  }
  const long status = out.response.status;
  if (out.kind == HttpOutcome::Kind::kTransport || status == 429 || status >= 500) {
    retry_reason =
        origin.host + ": " + (out.error.empty() ? "HTTP " + std::to_string(status) : out.error);
    return false;
  }
  return true;
}

// What the hub says about the file before any byte is fetched: a HEAD on the
// resolve URL, following redirects within the same host only (a renamed
// repository), as huggingface_hub does. LFS files answer with
// `X-Linked-Etag: "<sha256>"` and `X-Linked-Size`.
// Returns false for a failure worth retrying (`retry_reason` says which).
Result<bool> ProbeOnce(const Context& c, ProbeResult& p, std::string& retry_reason) {
  std::string url = c.ref.url;
  for (int hop = 0; hop <= kMaxRedirects; ++hop) {
    Result<Origin> origin = ParseOrigin(url);
    if (!origin.ok()) return origin.error();
    const std::vector<std::string> headers = c.Headers(*origin);
    HttpOutcome out = c.http.Perform({.url = url, .head = true, .headers = headers}, {});
    Result<bool> answered = Answered(out, *origin, retry_reason);
    if (!answered.ok() || !*answered) return answered;
    const HttpResponse& r = out.response;
    if (r.status >= 300 && r.status < 400 && !r.redirect_url.empty()) {
      Result<Origin> next = ParseOrigin(r.redirect_url);
      if (!next.ok())
        return Fail("%s redirects to a refused URL: %s", origin->host.c_str(),
                    next.error().message.c_str());
      if (*next == *origin && r.Header("x-linked-etag").empty()) {
        url = r.redirect_url;
        continue;
      }
    } else if (r.status < 200 || r.status >= 300) {
      return StatusError(r.status, *origin, c.ref, !headers.empty());
    }
    p.sha256 = Sha256FromEtag(r.Header("x-linked-etag"));
    const std::string size = r.Header("x-linked-size");
    if (!size.empty() && !ParseU64(size, p.size)) {
      return Fail("%s sent a bad X-Linked-Size '%s'", origin->host.c_str(), size.c_str());
    }
    if (p.size == 0 && r.status >= 200 && r.status < 300) {
      ParseU64(r.Header("content-length"), p.size);
    }
    return true;
  }
  return Fail("more than %d redirects for %s", kMaxRedirects, c.ref.url.c_str());
}

// The digest from the hub's tree API, for a resolve answer that carried no
// X-Linked-Etag (a mirror or proxy of the hub that drops it):
// GET /api/models/REPO/tree/REV/DIR lists the folder's files, an LFS file
// with `"lfs": {"oid": "<sha256>", "size": N}`. Leaves `p` empty when the
// server has no such API or does not list the file.
constexpr size_t kMaxTreeBytes = 16u << 20;

Result<bool> TreeDigestOnce(const Context& c, ProbeResult& p, std::string& retry_reason) {
  Result<Origin> origin = ParseOrigin(c.ref.url);
  if (!origin.ok()) return origin.error();
  std::string revision;
  for (char ch : c.ref.revision) revision += ch == '/' ? std::string("%2F") : std::string(1, ch);
  const size_t slash = c.ref.file.rfind('/');
  const std::string url = OriginText(*origin) + "/api/models/" + c.ref.repo + "/tree/" + revision +
                          (slash == std::string::npos ? "" : "/" + c.ref.file.substr(0, slash));
  std::string body;
  HttpHandlers handlers;
  handlers.on_body = [&](std::string_view piece) -> Status {
    if (body.size() + piece.size() > kMaxTreeBytes) {
      return Fail("%s: the file list is over %zu MiB", url.c_str(), kMaxTreeBytes >> 20);
    }
    body.append(piece);
    return {};
  };
  HttpOutcome out = c.http.Perform({.url = url, .headers = c.Headers(*origin)}, handlers);
  Result<bool> answered = Answered(out, *origin, retry_reason);
  if (!answered.ok() || !*answered) return answered;
  if (out.response.status != 200) return true;
  const ListedFile listed = FindInTreeListing(body, c.ref.file);
  p.sha256 = listed.sha256;
  p.size = listed.size;
  return true;
}

// The partial file: locked, appended to, hashed as it grows.
struct PartFile {
  int fd = -1;
  std::string path;
  uint64_t size = 0;
  uint64_t resumed_at = 0;  // bytes that were there before this run
  Sha256Hasher sha;

  ~PartFile() {
    if (fd >= 0) close(fd);
  }
  Status Write(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = pwrite(fd, data.data(), data.size(), static_cast<off_t>(size));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return Fail("cannot write %s: %s", path.c_str(), std::strerror(errno));
      sha.Update(data.substr(0, static_cast<size_t>(n)));
      size += static_cast<uint64_t>(n);
      data.remove_prefix(static_cast<size_t>(n));
    }
    return {};
  }
  Status Truncate() {
    if (ftruncate(fd, 0) != 0)
      return Fail("cannot truncate %s: %s", path.c_str(), std::strerror(errno));
    size = 0;
    sha.Reset();
    return {};
  }
  void Remove() { unlink(path.c_str()); }
};

Result<std::unique_ptr<PartFile>> OpenPart(const std::string& path, uint64_t expected_size) {
  auto part = std::make_unique<PartFile>();
  part->path = path;
  part->fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (part->fd < 0) return Fail("cannot open %s: %s", path.c_str(), std::strerror(errno));
  if (flock(part->fd, LOCK_EX | LOCK_NB) != 0) {
    return Fail("%s is in use: another `autan pull` is downloading this file", path.c_str());
  }
  struct stat st;
  if (fstat(part->fd, &st) != 0)
    return Fail("cannot stat %s: %s", path.c_str(), std::strerror(errno));
  if (expected_size != 0 && static_cast<uint64_t>(st.st_size) > expected_size) {
    AUTAN_TRY(part->Truncate());  // longer than the file can be: not a prefix of it
    return part;
  }
  // The bytes already there count towards the digest.
  std::vector<char> buffer(1 << 20);
  for (uint64_t at = 0; at < static_cast<uint64_t>(st.st_size);) {
    const ssize_t n = pread(part->fd, buffer.data(), buffer.size(), static_cast<off_t>(at));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Fail("cannot read %s: %s", path.c_str(), std::strerror(errno));
    part->sha.Update(std::string_view(buffer.data(), static_cast<size_t>(n)));
    at += static_cast<uint64_t>(n);
  }
  part->size = part->resumed_at = static_cast<uint64_t>(st.st_size);
  return part;
}

// One attempt at fetching the rest of the file, following redirects. Returns
// true when the body arrived whole, false for a failure worth retrying
// (`retry_reason` says which); an Error for one that is not.
Result<bool> FetchOnce(const Context& c, PartFile& part, uint64_t& total,
                       std::string& retry_reason) {
  std::string url = c.ref.url;
  for (int hop = 0; hop <= kMaxRedirects; ++hop) {
    Result<Origin> origin = ParseOrigin(url);
    if (!origin.ok()) return Fail("refused redirect: %s", origin.error().message.c_str());
    std::vector<std::string> headers = c.Headers(*origin);
    const bool sent_token = !headers.empty();
    const uint64_t from = part.size;
    if (from > 0) headers.push_back("Range: bytes=" + std::to_string(from) + "-");
    bool writing = false;
    HttpHandlers handlers;
    handlers.on_headers = [&](const HttpResponse& r) -> Status {
      // A redirect's body is a page for browsers; an overloaded server's is
      // retried below.
      if ((r.status >= 300 && r.status < 400) || r.status == 429 || r.status >= 500) return {};
      if (r.status == 416) {
        part.Remove();
        return Fail(
            "%s refused the range from byte %llu (HTTP 416); the partial file was deleted, "
            "run the pull again to start over",
            origin->host.c_str(), static_cast<unsigned long long>(from));
      }
      if (r.status == 206) {
        Result<ContentRange> range = ParseContentRange(r.Header("content-range"));
        if (!range.ok()) return Fail("%s: %s", origin->host.c_str(), range.error().message.c_str());
        if (range->start != from || range->end + 1 != range->total ||
            (total != 0 && range->total != total)) {
          return Fail("%s answered range %s to a request from byte %llu of %llu",
                      origin->host.c_str(), r.Header("content-range").c_str(),
                      static_cast<unsigned long long>(from),
                      static_cast<unsigned long long>(total));
        }
        total = range->total;
      } else if (r.status == 200) {
        // The whole file again: the server ignored the range, or there was none.
        if (from > 0 && c.options.note) c.options.note("the server does not resume; starting over");
        AUTAN_TRY(part.Truncate());
        uint64_t length = 0;
        if (ParseU64(r.Header("content-length"), length)) {
          if (total != 0 && length != total) {
            return Fail("%s sends %llu bytes, but the file has %llu", origin->host.c_str(),
                        static_cast<unsigned long long>(length),
                        static_cast<unsigned long long>(total));
          }
          total = length;
        }
      } else {
        return StatusError(r.status, *origin, c.ref, sent_token);
      }
      writing = true;
      return {};
    };
    handlers.on_body = [&](std::string_view data) -> Status {
      if (!writing) return {};
      AUTAN_TRY(part.Write(data));
      if (c.options.progress) c.options.progress({part.size, total, part.resumed_at});
      return {};
    };
    HttpOutcome out = c.http.Perform({.url = url, .headers = headers}, handlers);
    if (out.kind == HttpOutcome::Kind::kFatal) return Fail("%s", out.error.c_str());
    if (out.kind == HttpOutcome::Kind::kTransport) {
      retry_reason = origin->host + ": " + out.error;
      return false;
    }
    const HttpResponse& r = out.response;
    if (r.status >= 300 && r.status < 400) {
      if (r.redirect_url.empty())
        return Fail("HTTP %ld from %s without a Location", r.status, origin->host.c_str());
      url = r.redirect_url;
      continue;
    }
    if (r.status == 429 || r.status >= 500) {
      retry_reason = "HTTP " + std::to_string(r.status) + " from " + origin->host;
      return false;
    }
    if (total != 0 && part.size != total) {
      retry_reason = origin->host + " closed the connection at byte " + std::to_string(part.size);
      return false;
    }
    return true;
  }
  return Fail("more than %d redirects for %s", kMaxRedirects, c.ref.url.c_str());
}

// Calls `once` until it returns true, waiting 1, 2, 4, ... s (at most 30)
// after each try that returns false, and giving up after options.retries
// tries in a row that moved `position` no further. Errors end it at once.
Status Retry(const PullOptions& options, const std::function<Result<bool>(std::string&)>& once,
             const std::function<uint64_t()>& position, const std::function<std::string()>& kept) {
  int failures = 0;
  double backoff = options.first_backoff_s;
  for (;;) {
    const uint64_t before = position();
    std::string reason;
    Result<bool> done = once(reason);
    if (!done.ok()) return done.error();
    if (*done) return {};
    if (position() > before) {
      failures = 0;  // progress: the connection is worth another try
      backoff = options.first_backoff_s;
    }
    if (++failures > options.retries) {
      return Fail("gave up after %d attempts (%s)%s", failures, reason.c_str(), kept().c_str());
    }
    if (options.note) {
      char line[512];
      std::snprintf(line, sizeof(line), "%s; retrying in %.1f s", reason.c_str(), backoff);
      options.note(line);
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(backoff));
    backoff = std::min(backoff * 2, 30.0);
  }
}

// Fetches until the part file is whole.
Status Download(const Context& c, PartFile& part, uint64_t& total) {
  if (total != 0 && part.size >= total) return {};
  return Retry(
      c.options,
      [&](std::string& reason) -> Result<bool> {
        Result<bool> done = FetchOnce(c, part, total, reason);
        if (done.ok() && !*done) reason += " at " + Human(part.size);
        return done;
      },
      [&] { return part.size; },
      [&] {
        return "; " + Human(part.size) + " is kept in " + part.path +
               ": run the same command again to resume";
      });
}

Status CheckFreeSpace(const std::string& dir, uint64_t needed) {
  struct statvfs vfs;
  if (needed == 0 || statvfs(dir.c_str(), &vfs) != 0) return {};
  const uint64_t free = static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
  if (free < needed) {
    return Fail("not enough disk space in %s: the download needs %s more, %s are free", dir.c_str(),
                Human(needed).c_str(), Human(free).c_str());
  }
  return {};
}

Status MakeDirs(const std::string& dir) {
  for (size_t slash = dir.find('/', 1);; slash = dir.find('/', slash + 1)) {
    const std::string prefix = dir.substr(0, slash);
    if (!prefix.empty() && mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) {
      return Fail("cannot create the model store %s: %s: %s", dir.c_str(), prefix.c_str(),
                  std::strerror(errno));
    }
    if (slash == std::string::npos) return {};
  }
}

// Checks the whole file, then gives it its final name in one rename, so the
// store never holds a file that is partial, altered or unreadable.
Status Finish(PartFile& part, const std::string& expected_sha, const std::string& final_path,
              std::string& actual_sha) {
  actual_sha = part.sha.FinishHex();
  if (actual_sha != expected_sha) {
    part.Remove();
    return Fail(
        "SHA-256 mismatch: expected %s, got %s; the download was deleted (the file changed "
        "on the server or was corrupted on the way)",
        expected_sha.c_str(), actual_sha.c_str());
  }
  if (fsync(part.fd) != 0)
    return Fail("cannot sync %s: %s", part.path.c_str(), std::strerror(errno));
  if (Result<gguf::File> gguf = gguf::File::Open(part.path); !gguf.ok()) {
    part.Remove();
    return Fail("the download is not a valid GGUF model and was deleted: %s",
                gguf.error().message.c_str());
  }
  if (rename(part.path.c_str(), final_path.c_str()) != 0) {
    return Fail("cannot rename %s to %s: %s", part.path.c_str(), final_path.c_str(),
                std::strerror(errno));
  }
  // The rename itself survives a crash once the folder is synced.
  const std::string dir = final_path.substr(0, final_path.rfind('/'));
  if (const int dfd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    fsync(dfd);
    close(dfd);
  }
  return {};
}

}  // namespace

Status CheckToken(std::string_view token) {
  for (size_t i = 0; i < token.size(); ++i) {
    const auto c = static_cast<unsigned char>(token[i]);
    if (c <= ' ' || c >= 0x7f) {
      return Fail(
          "the token (HF_TOKEN or --token-file) has a space or control character at "
          "position %zu",
          i);
    }
  }
  return {};
}

Result<ContentRange> ParseContentRange(std::string_view value) {
  const std::string v(value);
  if (!value.starts_with("bytes "))
    return Fail("bad Content-Range '%s': expected 'bytes '", v.c_str());
  value.remove_prefix(6);
  const size_t dash = value.find('-');
  const size_t slash = value.find('/');
  ContentRange r;
  if (dash == std::string_view::npos || slash == std::string_view::npos || dash > slash ||
      !ParseU64(value.substr(0, dash), r.start) ||
      !ParseU64(value.substr(dash + 1, slash - dash - 1), r.end) ||
      !ParseU64(value.substr(slash + 1), r.total)) {
    return Fail("bad Content-Range '%s': expected 'bytes START-END/TOTAL'", v.c_str());
  }
  if (r.start > r.end || r.end >= r.total) {
    return Fail("bad Content-Range '%s': the range is empty or past the end", v.c_str());
  }
  return r;
}

std::string Sha256FromEtag(std::string_view value) {
  if (value.starts_with("W/")) value.remove_prefix(2);
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
    value = value.substr(1, value.size() - 2);
  }
  if (value.size() != 64) return {};
  std::string hex;
  for (char c : value) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c + 32);
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return {};
    hex += c;
  }
  return hex;
}

ListedFile FindInTreeListing(std::string_view listing, std::string_view path) {
  nlohmann::json list;
  try {
    list = nlohmann::json::parse(listing);
  } catch (const nlohmann::json::exception&) {  // also numbers out of range
    return {};
  }
  if (!list.is_array()) return {};
  for (const nlohmann::json& entry : list) {
    if (!entry.is_object()) continue;
    const auto name = entry.find("path");
    if (name == entry.end() || !name->is_string() || *name != path) continue;
    const auto lfs = entry.find("lfs");
    if (lfs == entry.end() || !lfs->is_object()) return {};
    const auto oid = lfs->find("oid");
    if (oid == lfs->end() || !oid->is_string()) return {};
    ListedFile f{Sha256FromEtag(oid->get<std::string>()), 0};
    const auto size = lfs->find("size");
    if (!f.sha256.empty() && size != lfs->end() && size->is_number_unsigned()) {
      f.size = size->get<uint64_t>();
    }
    return f;
  }
  return {};
}

Result<PullResult> Pull(const ModelRef& ref, const PullOptions& options) {
  const std::string final_path = options.store_dir + "/" + ref.store_name;
  struct stat st;
  if (!options.force && stat(final_path.c_str(), &st) == 0) {
    return PullResult{final_path, static_cast<uint64_t>(st.st_size), "", true};
  }
  std::string expected_sha;
  if (!options.sha256.empty()) {
    expected_sha = Sha256FromEtag(options.sha256);
    if (expected_sha.empty())
      return Fail("--sha256 '%s': expected 64 hex digits", options.sha256.c_str());
  }
  AUTAN_TRY(CheckToken(options.token));
  Result<std::string> endpoint = CheckEndpoint(options.endpoint);
  if (!endpoint.ok()) return endpoint.error();
  Result<Origin> endpoint_origin = ParseOrigin(*endpoint);
  if (!endpoint_origin.ok()) return endpoint_origin.error();
  AUTAN_TRY(MakeDirs(options.store_dir));

  Result<std::unique_ptr<HttpClient>> http =
      HttpClient::Create({.stall_timeout_s = options.stall_timeout_s});
  if (!http.ok()) return http.error();
  const Context c{ref, options, *endpoint_origin, **http};

  uint64_t total = 0;
  if (expected_sha.empty()) {
    ProbeResult probe;
    AUTAN_TRY(Retry(
        options, [&](std::string& reason) { return ProbeOnce(c, probe, reason); },
        [] { return uint64_t{0}; }, [] { return std::string(); }));
    if (probe.sha256.empty() && !ref.repo.empty()) {
      ProbeResult tree;
      AUTAN_TRY(Retry(
          options, [&](std::string& reason) { return TreeDigestOnce(c, tree, reason); },
          [] { return uint64_t{0}; }, [] { return std::string(); }));
      probe.sha256 = tree.sha256;
      if (tree.size != 0) probe.size = tree.size;
    }
    if (probe.sha256.empty()) {
      return Fail(
          "%s gives no SHA-256 for %s (no X-Linked-Etag, nor in its tree API), so the download "
          "could not be verified; pass --sha256 HEX",
          ParseOrigin(ref.url).ok() ? ParseOrigin(ref.url)->host.c_str() : "the server",
          ref.url.c_str());
    }
    expected_sha = probe.sha256;
    total = probe.size;
  }
  Result<std::unique_ptr<PartFile>> part = OpenPart(final_path + ".part", total);
  if (!part.ok()) return part.error();
  PartFile& p = **part;
  if (p.size > 0 && options.note) options.note("resuming at " + Human(p.size));
  if (options.progress) options.progress({p.size, total, p.size});
  AUTAN_TRY(CheckFreeSpace(options.store_dir, total > p.size ? total - p.size : 0));
  AUTAN_TRY(Download(c, p, total));
  std::string actual_sha;
  AUTAN_TRY(Finish(p, expected_sha, final_path, actual_sha));
  return PullResult{final_path, p.size, actual_sha, false};
}

}  // namespace autan::hub
