// Writes safetensors files of BF16 tensors for tests, byte by byte as the
// format lays them out: an 8-byte little-endian header length, a JSON header
// padded with spaces to 8 bytes, the data.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace autan::testing {

struct Bf16Tensor {
  std::vector<uint64_t> shape;  // row-major
  std::vector<uint16_t> bf16;
};

inline void WriteBf16Safetensors(const std::filesystem::path& path,
                                 const std::map<std::string, Bf16Tensor>& tensors) {
  std::string header = "{";
  std::string data;
  for (const auto& [name, t] : tensors) {
    std::string shape;
    for (uint64_t d : t.shape) shape += (shape.empty() ? "" : ",") + std::to_string(d);
    const size_t begin = data.size();
    data.append(reinterpret_cast<const char*>(t.bf16.data()), t.bf16.size() * 2);
    header += (header.size() > 1 ? "," : "") +
              ("\"" + name + "\":{\"dtype\":\"BF16\",\"shape\":[" + shape + "],\"data_offsets\":[" +
               std::to_string(begin) + "," + std::to_string(data.size()) + "]}");
  }
  header += "}";
  while (header.size() % 8 != 0) header += ' ';
  std::ofstream out(path, std::ios::binary);
  const uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out.put(static_cast<char>(n >> (8 * i)));
  out << header << data;
}

}  // namespace autan::testing
