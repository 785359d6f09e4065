// Writers that produce a file as a stream of byte spans (GGUF, safetensors):
// into memory, or into a file that appears under its name only once complete.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "core/result.h"

namespace autan {

using ByteSink = std::function<Status(std::span<const uint8_t>)>;
// Calls the sink with each piece of the output, in order.
using ByteEmitter = std::function<Status(const ByteSink&)>;

Result<std::vector<uint8_t>> CollectBytes(const ByteEmitter& emit);

// Writes to PATH.tmp, flushes it to disk and renames it over `path`, so a
// reader never sees a partial file; on failure PATH.tmp is removed.
Status WriteFileAtomically(const std::string& path, const ByteEmitter& emit);

}  // namespace autan
