// SHA-256 lives in core so that the store can hash tokens the same way.
#pragma once

#include "core/sha256.h"

namespace autan::server {

using autan::Sha256;
using autan::Sha256Hex;

}  // namespace autan::server
