#include "tokenizer/hf_tokenizer.h"

#include <nlohmann/json.hpp>
#include <unordered_map>
#include <utility>

#include "tokenizer/pretokenize.h"

namespace autan {

namespace {

using nlohmann::json;

// Every component of a (possibly Sequence) normalizer or pre-tokenizer.
void Components(const json& node, const char* list_key, std::vector<const json*>& out) {
  if (!node.is_object()) return;
  const auto it = node.find(list_key);
  if (node.value("type", "") == "Sequence" && it != node.end() && it->is_array()) {
    for (const json& child : *it) Components(child, list_key, out);
    return;
  }
  out.push_back(&node);
}

Result<std::pair<std::string, std::string>> MergePair(const json& merge, size_t i) {
  if (merge.is_string()) {
    const std::string text = merge.get<std::string>();
    const size_t space = text.find(' ', 1);
    if (space == std::string::npos) {
      return Fail("model.merges[%zu]: '%s' is not two tokens separated by a space", i,
                  text.c_str());
    }
    return std::pair(text.substr(0, space), text.substr(space + 1));
  }
  if (merge.is_array() && merge.size() == 2 && merge[0].is_string() && merge[1].is_string()) {
    return std::pair(merge[0].get<std::string>(), merge[1].get<std::string>());
  }
  return Fail("model.merges[%zu]: neither \"a b\" nor [\"a\", \"b\"]", i);
}

Status ReadVocab(const json& model, const json& root, VocabSpec& spec) {
  const auto vocab = model.find("vocab");
  if (vocab == model.end() || !vocab->is_object())
    return Fail("model.vocab: missing or not an object");
  std::vector<std::string> tokens;
  std::vector<bool> set;
  const auto put = [&](int64_t id, const std::string& text, const char* where) -> Status {
    if (id < 0 || id > (int64_t{1} << 24)) {
      return Fail("%s: id %lld of '%s' is out of range", where, static_cast<long long>(id),
                  text.c_str());
    }
    const auto index = static_cast<size_t>(id);
    if (index >= tokens.size()) {
      tokens.resize(index + 1);
      set.resize(index + 1, false);
    }
    tokens[index] = text;
    set[index] = true;
    return {};
  };
  for (const auto& [text, id] : vocab->items()) {
    if (!id.is_number_integer()) return Fail("model.vocab['%s']: not an integer id", text.c_str());
    AUTAN_TRY(put(id.get<int64_t>(), text, "model.vocab"));
  }
  spec.token_types.assign(tokens.size(), 1);   // normal
  std::vector<std::pair<size_t, bool>> added;  // id, special
  if (const auto it = root.find("added_tokens"); it != root.end() && it->is_array()) {
    for (size_t i = 0; i < it->size(); ++i) {
      const json& a = (*it)[i];
      const std::string where = "added_tokens[" + std::to_string(i) + "]";
      if (!a.is_object() || !a.contains("id") || !a["id"].is_number_integer() ||
          !a.contains("content") || !a["content"].is_string()) {
        return Fail("%s: needs an integer id and a string content", where.c_str());
      }
      AUTAN_TRY(put(a["id"].get<int64_t>(), a["content"].get<std::string>(), where.c_str()));
      added.emplace_back(a["id"].get<size_t>(), a.value("special", false));
    }
  }
  for (size_t id = 0; id < set.size(); ++id) {
    if (!set[id]) return Fail("model.vocab: no token has id %zu (ids must be dense)", id);
  }
  spec.token_types.resize(tokens.size(), 1);
  for (const auto& [id, special] : added) spec.token_types[id] = special ? 3 : 4;
  spec.tokens = std::move(tokens);
  return {};
}

// The BOS id when the post-processor puts a special token first.
std::optional<int32_t> BosOf(const json& root, const VocabSpec& spec) {
  const auto pp = root.find("post_processor");
  if (pp == root.end() || !pp->is_object()) return std::nullopt;
  const auto single = pp->find("single");
  if (single == pp->end() || !single->is_array() || single->empty()) return std::nullopt;
  const json& first = (*single)[0];
  if (!first.contains("SpecialToken") || !first["SpecialToken"].contains("id")) return std::nullopt;
  const std::string text = first["SpecialToken"].value("id", "");
  for (size_t i = 0; i < spec.tokens.size(); ++i) {
    if (spec.tokens[i] == text) return static_cast<int32_t>(i);
  }
  return std::nullopt;
}

int32_t IdOf(const VocabSpec& spec, std::string_view text) {
  for (size_t i = 0; i < spec.tokens.size(); ++i) {
    if (spec.tokens[i] == text) return static_cast<int32_t>(i);
  }
  return -1;
}

Result<VocabSpec> Build(const json& root) {
  if (!root.is_object()) return Fail("not a JSON object");
  const auto model = root.find("model");
  if (model == root.end() || !model->is_object()) return Fail("model: missing or not an object");
  const std::string type = model->value("type", "BPE");
  if (type != "BPE") return Fail("model.type: '%s' is not supported (only BPE)", type.c_str());
  VocabSpec spec;
  AUTAN_TRY(ReadVocab(*model, root, spec));
  const auto merges = model->find("merges");
  if (merges == model->end() || !merges->is_array()) return Fail("model.merges: missing");

  std::vector<const json*> pre, norm;
  if (root.contains("pre_tokenizer")) Components(root["pre_tokenizer"], "pretokenizers", pre);
  if (root.contains("normalizer")) Components(root["normalizer"], "normalizers", norm);
  bool byte_level = false;
  std::string pattern;
  for (const json* p : pre) {
    const std::string t = p->value("type", "");
    if (t == "ByteLevel") byte_level = true;
    if (t == "Split" && p->contains("pattern") && (*p)["pattern"].contains("Regex")) {
      pattern = (*p)["pattern"].value("Regex", "");
    }
  }
  if (byte_level) {
    spec.model = "gpt2";
    for (size_t i = 0; i < merges->size(); ++i) {
      auto pair = MergePair((*merges)[i], i);
      if (!pair.ok()) return pair.error();
      spec.merges.push_back(pair->first + " " + pair->second);
    }
    if (pattern.empty()) {
      spec.pre = "gpt-2";
    } else {
      // Checked here so that the error names the field.
      auto compiled = PreTokenizer::FromPattern(pattern, {});
      if (!compiled.ok()) {
        return Fail("pre_tokenizer Split pattern: %s", compiled.error().message.c_str());
      }
      spec.pre_pattern = pattern;
    }
    spec.ignore_merges = model->value("ignore_merges", false);
  } else {
    // SentencePiece-style: merge order becomes scores, earliest highest.
    spec.model = "llama";
    std::unordered_map<std::string, int32_t> ids;
    for (size_t i = 0; i < spec.tokens.size(); ++i)
      ids.emplace(spec.tokens[i], static_cast<int32_t>(i));
    spec.scores.assign(spec.tokens.size(), -1e9f);
    for (size_t i = 0; i < merges->size(); ++i) {
      auto pair = MergePair((*merges)[i], i);
      if (!pair.ok()) return pair.error();
      const auto it = ids.find(pair->first + pair->second);
      if (it == ids.end()) {
        return Fail("model.merges[%zu]: '%s%s' is not in model.vocab", i, pair->first.c_str(),
                    pair->second.c_str());
      }
      float& score = spec.scores[it->second];
      score = std::max(score, -static_cast<float>(i));
    }
    for (size_t i = 0; i < spec.tokens.size(); ++i) {
      const std::string& text = spec.tokens[i];
      if (text.size() == 6 && text.starts_with("<0x") && text.ends_with(">"))
        spec.token_types[i] = 6;
    }
    bool prefix = false;
    for (const json* n : norm) {
      if (n->value("type", "") == "Prepend") prefix = true;
    }
    for (const json* p : pre) {
      if (p->value("type", "") == "Metaspace") {
        prefix =
            p->value("prepend_scheme", "always") != "never" && p->value("add_prefix_space", true);
      }
    }
    spec.add_space_prefix = prefix;
  }
  const std::string unk = model->contains("unk_token") && (*model)["unk_token"].is_string()
                              ? (*model)["unk_token"].get<std::string>()
                              : "<unk>";
  spec.unk_id = IdOf(spec, unk);
  if (spec.unk_id >= 0 && spec.token_types[spec.unk_id] != 1) spec.token_types[spec.unk_id] = 2;
  spec.bos_id = IdOf(spec, "<s>");
  spec.eos_id = IdOf(spec, "</s>");
  const auto bos = BosOf(root, spec);
  spec.add_bos = bos.has_value();
  if (bos) spec.bos_id = *bos;
  spec.add_eos = false;
  return spec;
}

}  // namespace

Result<VocabSpec> VocabSpecFromHfJson(std::string_view text, std::string_view file_name) {
  const json root = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) {
    return Fail("%.*s: not valid JSON", static_cast<int>(file_name.size()), file_name.data());
  }
  auto spec = Build(root);
  if (!spec.ok()) {
    return Fail("%.*s: %s", static_cast<int>(file_name.size()), file_name.data(),
                spec.error().message.c_str());
  }
  return spec;
}

}  // namespace autan
