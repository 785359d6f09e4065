#include "core/byte_sink.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace autan {

Result<std::vector<uint8_t>> CollectBytes(const ByteEmitter& emit) {
  std::vector<uint8_t> out;
  AUTAN_TRY(emit([&](std::span<const uint8_t> bytes) -> Status {
    out.insert(out.end(), bytes.begin(), bytes.end());
    return {};
  }));
  return out;
}

Status WriteFileAtomically(const std::string& path, const ByteEmitter& emit) {
  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) return Fail("%s: cannot create: %s", tmp.c_str(), std::strerror(errno));
  Status status = emit([&](std::span<const uint8_t> bytes) -> Status {
    if (!bytes.empty() && std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size()) {
      return Fail("%s: write failed: %s", tmp.c_str(), std::strerror(errno));
    }
    return {};
  });
  if (status.ok() && (std::fflush(f) != 0 || ::fsync(fileno(f)) != 0)) {
    status = Fail("%s: flush failed: %s", tmp.c_str(), std::strerror(errno));
  }
  if (std::fclose(f) != 0 && status.ok()) {
    status = Fail("%s: close failed: %s", tmp.c_str(), std::strerror(errno));
  }
  if (status.ok() && std::rename(tmp.c_str(), path.c_str()) != 0) {
    status = Fail("%s: cannot rename to %s: %s", tmp.c_str(), path.c_str(), std::strerror(errno));
  }
  if (!status.ok()) std::remove(tmp.c_str());
  return status;
}

}  // namespace autan
