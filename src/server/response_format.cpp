#include "server/response_format.h"

namespace autan::server {

struct ResponseFormats::Impl {};

ResponseFormats::ResponseFormats(const Model&) : impl_(std::make_unique<Impl>()) {}
ResponseFormats::~ResponseFormats() = default;

std::optional<ApiError> ResponseFormats::Factory(const GenerationParams& params,
                                                 ProcessorFactory& out) const {
  out = nullptr;
  if (params.format == ResponseFormat::kText) return std::nullopt;
  return BadRequest("response_format json_object and json_schema are not supported yet",
                    "response_format");
}

}  // namespace autan::server
