#include "formats/safetensors.h"

#include <algorithm>
#include <cinttypes>
#include <cstring>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

namespace autan::safetensors {
namespace {

using Json = nlohmann::json;

// The header is an object of objects holding a short array: anything nested
// deeper is not a safetensors header.
constexpr int kMaxDepth = 3;
constexpr size_t kMaxDims = 8;
constexpr size_t kMaxTensors = size_t{1} << 20;

struct DtypeInfo {
  std::string_view name;
  uint64_t bits;
  std::optional<DType> type;
};

// Every dtype of the format; only the float types the engine computes with
// map to a DType.
constexpr DtypeInfo kDtypes[] = {
    {"BOOL", 8, std::nullopt},    {"U8", 8, std::nullopt},      {"I8", 8, std::nullopt},
    {"F8_E5M2", 8, std::nullopt}, {"F8_E4M3", 8, std::nullopt}, {"I16", 16, std::nullopt},
    {"U16", 16, std::nullopt},    {"F16", 16, DType::kF16},     {"BF16", 16, DType::kBF16},
    {"I32", 32, std::nullopt},    {"U32", 32, std::nullopt},    {"F32", 32, DType::kF32},
    {"F64", 64, std::nullopt},    {"I64", 64, std::nullopt},    {"U64", 64, std::nullopt},
};

const DtypeInfo* FindDtype(std::string_view name) {
  for (const DtypeInfo& d : kDtypes) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

std::string ShapeString(const std::vector<uint64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

bool ReadU64(const Json& j, uint64_t& out) {
  if (!j.is_number_unsigned()) return false;
  out = j.get<uint64_t>();
  return true;
}

}  // namespace

class HeaderParser {
 public:
  explicit HeaderParser(std::shared_ptr<const MappedFile> map) : map_(std::move(map)) {}

  Result<File> Run() {
    const size_t size = map_->size();
    if (size < 8)
      return Fail("%s: %zu bytes, too short for a safetensors header length", Where(), size);
    uint64_t header_len = 0;
    for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | map_->data()[i];
    if (header_len > kMaxHeaderBytes) {
      return Fail("%s: header length %" PRIu64 " at offset 0 exceeds the %" PRIu64 "-byte limit",
                  Where(), header_len, kMaxHeaderBytes);
    }
    if (header_len > size - 8) {
      return Fail("%s: header length %" PRIu64
                  " at offset 0 runs past the end of the file (%zu bytes)",
                  Where(), header_len, size);
    }
    data_begin_ = 8 + header_len;
    data_size_ = size - data_begin_;
    const char* text = reinterpret_cast<const char*>(map_->data() + 8);
    Json header;
    if (Status s = ParseJson(std::string_view(text, header_len), header); !s.ok()) return s.error();

    File file;
    file.map_ = map_;
    for (const auto& [key, value] : header.items()) {
      if (key == "__metadata__") {
        AUTAN_TRY(ReadMetadata(value, file.metadata_));
        continue;
      }
      if (file.tensors_.size() >= kMaxTensors) {
        return Fail("%s: more than %zu tensors in the header", Where(), kMaxTensors);
      }
      Result<TensorInfo> t = ReadTensor(key, value);
      if (!t.ok()) return t.error();
      file.tensors_.push_back(std::move(t).value());
    }
    AUTAN_TRY(CheckLayout(file.tensors_));
    for (size_t i = 0; i < file.tensors_.size(); ++i) file.index_.emplace(file.tensors_[i].name, i);
    return file;
  }

 private:
  const char* Where() const { return map_->path().c_str(); }

  // Well-formed JSON, an object at the top, no key twice in it, nothing
  // nested deeper than a header can be.
  Status ParseJson(std::string_view text, Json& out) {
    // The format pads the header with spaces to align the data.
    while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
    if (text.empty() || text.front() != '{') {
      return Fail("%s: the header at offset 8 is not a JSON object", Where());
    }
    bool too_deep = false;
    std::optional<std::string> duplicate;
    std::set<std::string> top_keys;
    auto guard = [&](int depth, Json::parse_event_t event, Json& parsed) {
      if ((event == Json::parse_event_t::object_start ||
           event == Json::parse_event_t::array_start) &&
          depth >= kMaxDepth) {
        too_deep = true;
      }
      if (event == Json::parse_event_t::key && depth == 1 && !duplicate &&
          !top_keys.insert(parsed.get<std::string>()).second) {
        duplicate = parsed.get<std::string>();
      }
      return !too_deep;
    };
    try {
      out = Json::parse(text.begin(), text.end(), guard);
    } catch (const Json::parse_error& e) {
      // e.byte counts from 1 within the header.
      return Fail("%s: malformed JSON header near offset %zu: %s", Where(),
                  static_cast<size_t>(8 + (e.byte > 0 ? e.byte - 1 : 0)), e.what());
    } catch (const Json::out_of_range& e) {
      // A number too large for a double (1e400) throws this even from a
      // parser told to return errors.
      return Fail("%s: a number in the JSON header is out of range: %s", Where(), e.what());
    }
    if (too_deep)
      return Fail("%s: the JSON header nests deeper than a safetensors header", Where());
    if (duplicate) return Fail("%s: header names '%s' twice", Where(), duplicate->c_str());
    if (!out.is_object()) return Fail("%s: the header at offset 8 is not a JSON object", Where());
    return {};
  }

  Status ReadMetadata(const Json& value, std::map<std::string, std::string>& out) {
    if (!value.is_object()) return Fail("%s: __metadata__ is not an object", Where());
    for (const auto& [k, v] : value.items()) {
      if (!v.is_string()) return Fail("%s: __metadata__ '%s' is not a string", Where(), k.c_str());
      out.emplace(k, v.get<std::string>());
    }
    return {};
  }

  Result<TensorInfo> ReadTensor(const std::string& name, const Json& value) {
    const char* n = name.c_str();
    if (!value.is_object()) return Fail("%s: tensor '%s' is not an object", Where(), n);
    for (const auto& [k, v] : value.items()) {
      if (k != "dtype" && k != "shape" && k != "data_offsets") {
        return Fail("%s: tensor '%s' has an unknown field '%s'", Where(), n, k.c_str());
      }
    }
    TensorInfo t;
    t.name = name;
    const auto dtype = value.find("dtype");
    if (dtype == value.end() || !dtype->is_string()) {
      return Fail("%s: tensor '%s' has no dtype string", Where(), n);
    }
    t.dtype = dtype->get<std::string>();
    const DtypeInfo* info = FindDtype(t.dtype);
    if (info == nullptr)
      return Fail("%s: tensor '%s' has unknown dtype '%s'", Where(), n, t.dtype.c_str());
    t.type = info->type;

    const auto shape = value.find("shape");
    if (shape == value.end() || !shape->is_array())
      return Fail("%s: tensor '%s' has no shape array", Where(), n);
    if (shape->size() > kMaxDims) {
      return Fail("%s: tensor '%s' has %zu dimensions (at most %zu)", Where(), n, shape->size(),
                  kMaxDims);
    }
    t.n_elements = 1;
    for (const Json& d : *shape) {
      uint64_t dim = 0;
      if (!ReadU64(d, dim))
        return Fail("%s: tensor '%s': a dimension is not a non-negative integer", Where(), n);
      t.shape.push_back(dim);
      if (dim != 0 && t.n_elements > std::numeric_limits<uint64_t>::max() / 8 / dim) {
        return Fail("%s: tensor '%s': shape %s overflows", Where(), n,
                    ShapeString(t.shape).c_str());
      }
      t.n_elements *= dim;
    }
    const uint64_t want_bytes = t.n_elements * (info->bits / 8);

    const auto offsets = value.find("data_offsets");
    uint64_t begin = 0;
    uint64_t end = 0;
    if (offsets == value.end() || !offsets->is_array() || offsets->size() != 2 ||
        !ReadU64((*offsets)[0], begin) || !ReadU64((*offsets)[1], end)) {
      return Fail("%s: tensor '%s' has no data_offsets [begin, end]", Where(), n);
    }
    if (begin > end || end > data_size_) {
      return Fail("%s: tensor '%s': data_offsets [%" PRIu64 ", %" PRIu64
                  "] do not lie inside the %" PRIu64 " data bytes",
                  Where(), n, begin, end, data_size_);
    }
    if (end - begin != want_bytes) {
      return Fail("%s: tensor '%s': shape %s of %s needs %" PRIu64 " bytes, data_offsets [%" PRIu64
                  ", %" PRIu64 "] hold %" PRIu64,
                  Where(), n, ShapeString(t.shape).c_str(), t.dtype.c_str(), want_bytes, begin, end,
                  end - begin);
    }
    t.offset = data_begin_ + begin;
    t.n_bytes = static_cast<size_t>(end - begin);
    t.data = map_->data() + t.offset;
    return t;
  }

  // Sorted by offset, the tensors tile the data exactly.
  Status CheckLayout(std::vector<TensorInfo>& tensors) {
    std::sort(tensors.begin(), tensors.end(), [](const TensorInfo& a, const TensorInfo& b) {
      return a.offset != b.offset ? a.offset < b.offset : a.n_bytes < b.n_bytes;
    });
    uint64_t at = data_begin_;
    for (const TensorInfo& t : tensors) {
      if (t.offset < at) {
        return Fail("%s: tensor '%s' at data offset %" PRIu64 " overlaps the tensor before it",
                    Where(), t.name.c_str(), t.offset - data_begin_);
      }
      if (t.offset > at) {
        return Fail("%s: data bytes %" PRIu64 "..%" PRIu64
                    " before tensor '%s' belong to no tensor",
                    Where(), at - data_begin_, t.offset - data_begin_, t.name.c_str());
      }
      at = t.offset + t.n_bytes;
    }
    if (at != data_begin_ + data_size_) {
      return Fail("%s: the last %" PRIu64 " data bytes belong to no tensor", Where(),
                  data_begin_ + data_size_ - at);
    }
    return {};
  }

  std::shared_ptr<const MappedFile> map_;
  uint64_t data_begin_ = 0;
  uint64_t data_size_ = 0;
};

Result<File> File::Open(const std::string& path) {
  Result<std::shared_ptr<const MappedFile>> map = MappedFile::Open(path);
  if (!map.ok()) return map.error();
  return Parse(std::move(map).value());
}

Result<File> File::Parse(std::shared_ptr<const MappedFile> bytes) {
  return HeaderParser(std::move(bytes)).Run();
}

const TensorInfo* File::FindTensor(std::string_view name) const {
  auto it = index_.find(std::string(name));
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

namespace {

namespace fs = std::filesystem;

// The shards an index file lists, each checked to be a plain file name in the
// index's folder (a hostile index must not reach elsewhere).
Result<std::map<std::string, std::vector<std::string>>> ReadIndex(const std::string& path) {
  Result<std::shared_ptr<const MappedFile>> map = MappedFile::Open(path);
  if (!map.ok()) return map.error();
  const auto* text = reinterpret_cast<const char*>((*map)->data());
  Json index;
  try {
    index = Json::parse(text, text + (*map)->size());
  } catch (const Json::exception& e) {  // parse_error, and out_of_range for 1e400
    return Fail("%s: malformed JSON: %s", path.c_str(), e.what());
  }
  const auto weight_map = index.is_object() ? index.find("weight_map") : index.end();
  if (weight_map == index.end() || !weight_map->is_object()) {
    return Fail("%s: no \"weight_map\" object", path.c_str());
  }
  std::map<std::string, std::vector<std::string>> shards;  // file -> its tensors
  for (const auto& [tensor, file] : weight_map->items()) {
    if (!file.is_string())
      return Fail("%s: weight_map '%s' is not a file name", path.c_str(), tensor.c_str());
    const std::string name = file.get<std::string>();
    if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..") {
      return Fail("%s: weight_map '%s' names '%s', not a file beside the index", path.c_str(),
                  tensor.c_str(), name.c_str());
    }
    shards[name].push_back(tensor);
  }
  if (shards.empty()) return Fail("%s: the weight_map is empty", path.c_str());
  return shards;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

Result<Checkpoint> Checkpoint::Open(const std::string& path) {
  std::string target = path;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    target.clear();
    for (const char* name :
         {"consolidated.safetensors", "model.safetensors.index.json", "model.safetensors"}) {
      if (fs::exists(fs::path(path) / name, ec)) {
        target = (fs::path(path) / name).string();
        break;
      }
    }
    if (target.empty()) {
      return Fail(
          "%s: no consolidated.safetensors, model.safetensors or "
          "model.safetensors.index.json in this folder",
          path.c_str());
    }
  }
  Checkpoint c;
  if (EndsWith(target, ".json")) {
    Result<std::map<std::string, std::vector<std::string>>> shards = ReadIndex(target);
    if (!shards.ok()) return shards.error();
    const fs::path dir = fs::path(target).parent_path();
    for (const auto& [name, listed] : *shards) {
      Result<File> f = File::Open((dir / name).string());
      if (!f.ok()) return f.error();
      if (f->tensors().size() != listed.size()) {
        return Fail("%s: %zu tensors, the index lists %zu for it", f->path().c_str(),
                    f->tensors().size(), listed.size());
      }
      for (const std::string& t : listed) {
        if (f->FindTensor(t) == nullptr) {
          return Fail("%s: the index puts tensor '%s' here, the file does not hold it",
                      f->path().c_str(), t.c_str());
        }
      }
      c.files_.push_back(std::move(f).value());
    }
  } else {
    Result<File> f = File::Open(target);
    if (!f.ok()) return f.error();
    c.files_.push_back(std::move(f).value());
  }
  for (const File& f : c.files_) {
    for (const TensorInfo& t : f.tensors()) {
      if (!c.index_.emplace(t.name, &t).second) {
        return Fail("%s: tensor '%s' also appears in another shard", f.path().c_str(),
                    t.name.c_str());
      }
    }
  }
  return c;
}

const TensorInfo* Checkpoint::FindTensor(std::string_view name) const {
  auto it = index_.find(std::string(name));
  return it == index_.end() ? nullptr : it->second;
}

std::vector<const TensorInfo*> Checkpoint::tensors() const {
  std::vector<const TensorInfo*> out;
  for (const File& f : files_) {
    for (const TensorInfo& t : f.tensors()) out.push_back(&t);
  }
  return out;
}

}  // namespace autan::safetensors
