// JSON schema -> JsonGrammar.
#include <cmath>
#include <map>
#include <set>
#include <string_view>

#include "core/check.h"
#include "runtime/constraint/json_grammar.h"
#include "runtime/constraint/json_lexer.h"

namespace autan::constraint {

namespace {

constexpr int kMaxSchemaDepth = 200;  // nesting of schema objects, $ref hops included

// Keywords that constrain values in ways this recognizer cannot enforce.
constexpr std::string_view kUnsupported[] = {
    "pattern",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "patternProperties",
    "propertyNames",
    "minProperties",
    "maxProperties",
    "dependencies",
    "dependentRequired",
    "dependentSchemas",
    "if",
    "then",
    "else",
    "not",
    "contains",
    "minContains",
    "maxContains",
    "prefixItems",
    "additionalItems",
    "unevaluatedProperties",
    "unevaluatedItems",
    "$dynamicRef",
    "$recursiveRef",
};

// Keywords that constrain values and that this compiler understands; a $ref,
// allOf, anyOf/oneOf or enum/const cannot be combined with the others.
constexpr std::string_view kConstraining[] = {
    "type",  "enum",     "const",    "properties",  "required",  "additionalProperties",
    "items", "minItems", "maxItems", "minLength",   "maxLength", "anyOf",
    "oneOf", "allOf",    "$ref",     "uniqueItems",
};

// RFC 6901 escaping of one reference token.
std::string PointerToken(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

// `s` as JSON text (compact), or an error for strings that are not UTF-8.
template <typename Json>
Result<std::string> Dump(const Json& s, const std::string& path) {
  try {
    return s.dump();
  } catch (const nlohmann::json::exception&) {
    return Fail("a string at %s is not valid UTF-8", path.c_str());
  }
}

template <typename Json>
Result<int32_t> Count(const Json& s, const char* key, const std::string& path) {
  const Json& v = s[key];
  if (!v.is_number() || v.template get<double>() < 0 ||
      v.template get<double>() != std::floor(v.template get<double>())) {
    return Fail("%s at %s/%s must be a non-negative integer", key, path.c_str(), key);
  }
  const double d = v.template get<double>();
  return d >= kUnbounded ? kUnbounded : static_cast<int32_t>(d);
}

}  // namespace

// Written for nlohmann::json and ordered_json alike (no conversion: that
// would cost time quadratic in the number of keys of an object).
template <typename Json>
class SchemaCompiler {
 public:
  SchemaCompiler(const Json& root, JsonGrammar& g) : root_(root), g_(g) {}

  // The root is also the target of "#" references.
  Result<int32_t> CompileRoot() {
    resolving_.insert("");
    pending_.push_back("");
    return Compile(root_, "", 0);
  }
  Result<int32_t> Compile(const Json& s, const std::string& path, int depth);
  Result<int32_t> AnyValue();

 private:
  Result<int32_t> NewNode(NodeKind kind, const std::string& path);
  // Assigns the $ref targets waiting for a node to `id`.
  int32_t Claim(int32_t id);
  Status CheckKeywords(const Json& s, const std::string& path) const;
  Result<int32_t> CompileRef(const Json& s, const std::string& path, int depth);
  Result<int32_t> CompileAlternatives(const Json& s, const std::string& path, int depth);
  Result<int32_t> CompileLiteral(const Json& s, const std::string& path);
  Result<std::vector<std::string>> Types(const Json& s, const std::string& path) const;
  Result<int32_t> CompileTyped(const Json& s, const std::string& type, const std::string& path,
                               int depth);
  Result<int32_t> CompileObject(const Json& s, const std::string& path, int depth);
  Result<int32_t> CompileArray(const Json& s, const std::string& path, int depth);
  Result<int32_t> AddLiterals(int32_t id, const std::vector<std::string>& texts);

  const Json& root_;
  JsonGrammar& g_;
  std::map<std::string, int32_t> refs_;  // compiled $ref targets by pointer
  std::set<std::string> resolving_;      // $ref targets being compiled
  std::vector<std::string> pending_;     // $ref targets waiting for their node
  int64_t literal_bytes_ = 0;
  int32_t any_value_ = -1;
  int32_t never_ = -1;
};

template <typename Json>
Result<int32_t> SchemaCompiler<Json>::NewNode(NodeKind kind, const std::string& path) {
  if (static_cast<int64_t>(g_.nodes_.size()) >= g_.options_.max_nodes) {
    return Fail("the schema is too large: more than %d nodes (at %s)", g_.options_.max_nodes,
                path.c_str());
  }
  g_.nodes_.emplace_back();
  g_.nodes_.back().kind = kind;
  g_.nodes_.back().path = path.empty() ? "#" : "#" + path;
  return static_cast<int32_t>(g_.nodes_.size() - 1);
}

template <typename Json>
int32_t SchemaCompiler<Json>::Claim(int32_t id) {
  for (const std::string& p : pending_) refs_[p] = id;
  pending_.clear();
  return id;
}

template <typename Json>
Result<int32_t> SchemaCompiler<Json>::AnyValue() {
  if (any_value_ >= 0) return Claim(any_value_);
  // Built once: an anyOf of an object of anything, an array of anything, a
  // string, a number and the three literals.
  std::vector<std::string> saved = std::move(pending_);
  pending_.clear();
  NodeKind kinds[] = {NodeKind::kAnyOf,  NodeKind::kObject, NodeKind::kArray,
                      NodeKind::kString, NodeKind::kNumber, NodeKind::kLiteral};
  int32_t ids[6];
  for (int i = 0; i < 6; ++i) {
    Result<int32_t> id = NewNode(kinds[i], "");
    if (!id.ok()) return id;
    ids[i] = *id;
  }
  AUTAN_TRY(AddLiterals(ids[5], {"true", "false", "null"}));
  GrammarNode& object = g_.nodes_[ids[1]];
  object.additional = ids[0];
  object.next_required = {0};
  object.trie = static_cast<int32_t>(g_.tries_.size());
  g_.tries_.push_back(ByteTrie::Build({}, true));
  g_.nodes_[ids[2]].items = ids[0];
  g_.nodes_[ids[0]].alternatives = {ids[1], ids[2], ids[3], ids[4], ids[5]};
  any_value_ = ids[0];
  pending_ = std::move(saved);
  return Claim(any_value_);
}

template <typename Json>
Status SchemaCompiler<Json>::CheckKeywords(const Json& s, const std::string& path) const {
  for (std::string_view k : kUnsupported) {
    if (s.contains(k)) {
      return Fail("unsupported schema keyword \"%.*s\" at #%s/%s", static_cast<int>(k.size()),
                  k.data(), path.c_str(), PointerToken(k).c_str());
    }
  }
  if (s.contains("uniqueItems") && s["uniqueItems"] != false) {
    return Fail("unsupported schema keyword \"uniqueItems\" (true) at #%s/uniqueItems",
                path.c_str());
  }
  // $ref, allOf and anyOf/oneOf take over the whole schema: other constraining
  // keywords beside them would need an intersection of schemas.
  for (const char* exclusive : {"$ref", "allOf", "anyOf", "oneOf"}) {
    if (!s.contains(exclusive)) continue;
    for (std::string_view k : kConstraining) {
      if (k == exclusive || k == "uniqueItems" || k == "anyOf" || k == "oneOf" || !s.contains(k)) {
        continue;
      }
      return Fail("\"%s\" combined with \"%.*s\" at #%s is not supported", exclusive,
                  static_cast<int>(k.size()), k.data(), path.c_str());
    }
  }
  if (s.contains("enum") && s.contains("const")) {
    return Fail("\"enum\" combined with \"const\" at #%s is not supported", path.c_str());
  }
  return {};
}

template <typename Json>
Result<int32_t> SchemaCompiler<Json>::Compile(const Json& s, const std::string& path, int depth) {
  if (depth > kMaxSchemaDepth) {
    return Fail("the schema is nested more than %d levels deep (counting $ref) at #%s",
                kMaxSchemaDepth, path.c_str());
  }
  if (s.is_boolean()) {
    if (s.template get<bool>()) return AnyValue();
    if (never_ < 0) {
      AUTAN_TRY(NewNode(NodeKind::kAnyOf, path));
      never_ = static_cast<int32_t>(g_.nodes_.size() - 1);
    }
    return Claim(never_);
  }
  if (!s.is_object()) {
    return Fail("the schema at #%s must be an object or a boolean", path.c_str());
  }
  AUTAN_TRY(CheckKeywords(s, path));
  if (s.contains("$ref")) return CompileRef(s, path, depth);
  if (s.contains("allOf")) {
    const Json& all = s["allOf"];
    if (!all.is_array() || all.size() != 1) {
      return Fail("allOf at #%s/allOf is supported with exactly one schema", path.c_str());
    }
    return Compile(all[0], path + "/allOf/0", depth + 1);
  }
  if (s.contains("anyOf") || s.contains("oneOf")) return CompileAlternatives(s, path, depth);
  if (s.contains("enum") || s.contains("const")) return CompileLiteral(s, path);
  Result<std::vector<std::string>> types = Types(s, path);
  if (!types.ok()) return types.error();
  if (types->empty()) return AnyValue();
  if (types->size() == 1) return CompileTyped(s, types->front(), path, depth);
  Result<int32_t> id = NewNode(NodeKind::kAnyOf, path);
  if (!id.ok()) return id;
  Claim(*id);
  for (const std::string& type : *types) {
    Result<int32_t> alt = CompileTyped(s, type, path, depth);
    if (!alt.ok()) return alt;
    g_.nodes_[*id].alternatives.push_back(*alt);
  }
  return id;
}

template <typename Json>
Result<int32_t> SchemaCompiler<Json>::CompileRef(const Json& s, const std::string& path,
                                                 int depth) {
  const Json& ref = s["$ref"];
  if (!ref.is_string() || ref.template get<std::string>().empty() ||
      ref.template get<std::string>()[0] != '#') {
    return Fail("$ref at #%s/$ref must be a local reference starting with '#'", path.c_str());
  }
  const std::string target = ref.template get<std::string>().substr(1);
  if (auto it = refs_.find(target); it != refs_.end()) return Claim(it->second);
  if (resolving_.count(target) != 0) {
    return Fail("$ref cycle at #%s/$ref: \"#%s\" refers back to itself without consuming input",
                path.c_str(), target.c_str());
  }
  // Walk the pointer (RFC 6901; %XX escapes of the URI fragment decoded).
  const Json* at = &root_;
  size_t pos = 0;
  while (pos < target.size()) {
    if (target[pos] != '/') break;
    const size_t end = std::min(target.find('/', pos + 1), target.size());
    std::string token;
    for (size_t i = pos + 1; i < end; ++i) {
      const char c = target[i];
      if (c == '~' && i + 1 < end && (target[i + 1] == '0' || target[i + 1] == '1')) {
        token += target[++i] == '0' ? '~' : '/';
      } else if (c == '%' && i + 2 < end && IsHexDigit(target[i + 1]) &&
                 IsHexDigit(target[i + 2])) {
        token += static_cast<char>(std::stoi(target.substr(i + 1, 2), nullptr, 16));
        i += 2;
      } else {
        token += c;
      }
    }
    pos = end;
    if (at->is_object() && at->contains(token)) {
      at = &(*at)[token];
    } else if (at->is_array() && !token.empty() &&
               token.find_first_not_of("0123456789") == std::string::npos && token.size() < 10 &&
               std::stoul(token) < at->size()) {
      at = &(*at)[std::stoul(token)];
    } else {
      at = nullptr;
      break;
    }
  }
  if (at == nullptr || pos < target.size()) {
    return Fail("$ref at #%s/$ref: \"#%s\" does not name a schema in this document", path.c_str(),
                target.c_str());
  }
  resolving_.insert(target);
  pending_.push_back(target);
  Result<int32_t> id = Compile(*at, target, depth + 1);
  resolving_.erase(target);
  if (id.ok()) refs_[target] = *id;
  return id;
}

template <typename Json>
Result<int32_t> SchemaCompiler<Json>::CompileAlternatives(const Json& s, const std::string& path,
                                                          int depth) {
  if (s.contains("anyOf") && s.contains("oneOf")) {
    return Fail("anyOf together with oneOf at #%s is not supported", path.c_str());
  }
  const char* key = s.contains("anyOf") ? "anyOf" : "oneOf";
  const Json& list = s[key];
  if (!list.is_array() || list.empty()) {
    return Fail("%s at #%s/%s must be a non-empty array of schemas", key, path.c_str(), key);
  }
  Result<int32_t> id = NewNode(NodeKind::kAnyOf, path);
  if (!id.ok()) return id;
  Claim(*id);
  for (size_t i = 0; i < list.size(); ++i) {
    Result<int32_t> alt = Compile(list[i], path + "/" + key + "/" + std::to_string(i), depth + 1);
    if (!alt.ok()) return alt;
    g_.nodes_[*id].alternatives.push_back(*alt);
  }
  return id;
}

template <typename Json>
Result<int32_t> SchemaCompiler<Json>::AddLiterals(int32_t id,
                                                  const std::vector<std::string>& texts) {
  std::vector<std::pair<std::string, int32_t>> entries;
  for (const std::string& t : texts) {
    literal_bytes_ += static_cast<int64_t>(t.size());
    entries.emplace_back(t, static_cast<int32_t>(entries.size()));
  }
  if (literal_bytes_ > g_.options_.max_literal_bytes) {
    return Fail("the schema's enum/const values and property names exceed %lld bytes (at %s)",
                static_cast<long long>(g_.options_.max_literal_bytes), g_.nodes_[id].path.c_str());
  }
  g_.nodes_[id].trie = static_cast<int32_t>(g_.tries_.size());
  g_.tries_.push_back(ByteTrie::Build(std::move(entries), false));
  return id;
}

template <typename Json>
Result<int32_t> SchemaCompiler<Json>::CompileLiteral(const Json& s, const std::string& path) {
  std::vector<const Json*> values;
  std::string where = path + (s.contains("const") ? "/const" : "/enum");
  if (s.contains("const")) {
    values.push_back(&s["const"]);
  } else {
    if (!s["enum"].is_array()) return Fail("enum at #%s must be an array", where.c_str());
    for (const Json& v : s["enum"]) values.push_back(&v);
  }
  std::vector<std::string> types;
  if (s.contains("type")) {
    Result<std::vector<std::string>> t = Types(s, path);
    if (!t.ok()) return t.error();
    types = *t;
  }
  auto type_ok = [&](const Json& v) {
    if (types.empty()) return true;
    for (const std::string& t : types) {
      if ((t == "null" && v.is_null()) || (t == "boolean" && v.is_boolean()) ||
          (t == "object" && v.is_object()) || (t == "array" && v.is_array()) ||
          (t == "string" && v.is_string()) || (t == "number" && v.is_number()) ||
          (t == "integer" && v.is_number() &&
           v.template get<double>() == std::floor(v.template get<double>()))) {
        return true;
      }
    }
    return false;
  };
  std::vector<std::string> texts;
  for (const Json* v : values) {
    if (!type_ok(*v)) continue;
    Result<std::string> text = Dump(*v, "#" + where);
    if (!text.ok()) return text.error();
    texts.push_back(std::move(*text));
  }
  if (texts.empty()) {
    return Fail("no value of enum/const at #%s fits the schema's type", where.c_str());
  }
  Result<int32_t> id = NewNode(NodeKind::kLiteral, path);
  if (!id.ok()) return id;
  Claim(*id);
  return AddLiterals(*id, texts);
}

template <typename Json>
Result<std::vector<std::string>> SchemaCompiler<Json>::Types(const Json& s,
                                                             const std::string& path) const {
  static constexpr std::string_view kTypes[] = {"object",  "array",   "string", "number",
                                                "integer", "boolean", "null"};
  std::vector<std::string> types;
  if (!s.contains("type")) {
    // No type: the kinds of value the keywords present talk about, or any value.
    auto has = [&](std::initializer_list<const char*> keys) {
      for (const char* k : keys) {
        if (s.contains(k)) return true;
      }
      return false;
    };
    if (has({"properties", "required", "additionalProperties"})) types.push_back("object");
    if (has({"items", "minItems", "maxItems"})) types.push_back("array");
    if (has({"minLength", "maxLength"})) types.push_back("string");
    return types;
  }
  const Json& t = s["type"];
  std::vector<const Json*> names;
  if (t.is_array()) {
    for (const Json& n : t) names.push_back(&n);
  } else {
    names.push_back(&t);
  }
  for (const Json* n : names) {
    const bool known =
        n->is_string() && std::find(std::begin(kTypes), std::end(kTypes),
                                    n->template get<std::string>()) != std::end(kTypes);
    if (!known) {
      return Fail(
          "type at #%s/type must be one of object, array, string, number, integer, "
          "boolean, null (or a list of them)",
          path.c_str());
    }
    const std::string name = n->template get<std::string>();
    if (std::find(types.begin(), types.end(), name) == types.end()) types.push_back(name);
  }
  if (types.empty()) return Fail("type at #%s/type is an empty list", path.c_str());
  return types;
}

template <typename Json>
Result<int32_t> SchemaCompiler<Json>::CompileTyped(const Json& s, const std::string& type,
                                                   const std::string& path, int depth) {
  if (type == "object") return CompileObject(s, path, depth);
  if (type == "array") return CompileArray(s, path, depth);
  if (type == "null" || type == "boolean") {
    Result<int32_t> id = NewNode(NodeKind::kLiteral, path);
    if (!id.ok()) return id;
    Claim(*id);
    return AddLiterals(*id, type == "null" ? std::vector<std::string>{"null"}
                                           : std::vector<std::string>{"true", "false"});
  }
  const NodeKind kind = type == "string"   ? NodeKind::kString
                        : type == "number" ? NodeKind::kNumber
                                           : NodeKind::kInteger;
  Result<int32_t> id = NewNode(kind, path);
  if (!id.ok()) return id;
  Claim(*id);
  if (kind == NodeKind::kString) {
    for (const char* key : {"minLength", "maxLength"}) {
      if (!s.contains(key)) continue;
      Result<int32_t> n = Count(s, key, "#" + path);
      if (!n.ok()) return n.error();
      (key[1] == 'i' ? g_.nodes_[*id].min_length : g_.nodes_[*id].max_length) = *n;
    }
  }
  return id;
}

template <typename Json>
Result<int32_t> SchemaCompiler<Json>::CompileObject(const Json& s, const std::string& path,
                                                    int depth) {
  Result<int32_t> id = NewNode(NodeKind::kObject, path);
  if (!id.ok()) return id;
  Claim(*id);
  std::vector<std::string> names;
  std::vector<int32_t> nodes;
  if (s.contains("properties")) {
    const Json& props = s["properties"];
    if (!props.is_object()) return Fail("properties at #%s must be an object", path.c_str());
    for (const auto& [name, sub] : props.items()) {
      Result<int32_t> node = Compile(sub, path + "/properties/" + PointerToken(name), depth + 1);
      if (!node.ok()) return node;
      names.push_back(name);
      nodes.push_back(*node);
    }
  }
  // No additionalProperties: undeclared keys only when nothing is declared.
  bool any_additional = names.empty();
  int32_t additional = -1;
  if (s.contains("additionalProperties")) {
    const Json& a = s["additionalProperties"];
    if (a.is_boolean()) {
      any_additional = a.template get<bool>();
    } else {
      any_additional = false;
      Result<int32_t> node = Compile(a, path + "/additionalProperties", depth + 1);
      if (!node.ok()) return node;
      additional = *node;
    }
  }
  if (any_additional) {
    Result<int32_t> any = AnyValue();
    if (!any.ok()) return any;
    additional = *any;
  }
  std::vector<bool> required(names.size(), false);
  if (s.contains("required")) {
    const Json& req = s["required"];
    if (!req.is_array()) return Fail("required at #%s must be an array", path.c_str());
    for (size_t i = 0; i < req.size(); ++i) {
      if (!req[i].is_string()) {
        return Fail("required at #%s/required/%zu must be a string", path.c_str(), i);
      }
      const std::string& name = req[i].template get_ref<const std::string&>();
      const size_t p = std::find(names.begin(), names.end(), name) - names.begin();
      if (p == names.size()) {
        if (additional < 0) {
          return Fail(
              "required property \"%s\" at #%s/required/%zu is not in properties and "
              "additionalProperties is false",
              name.c_str(), path.c_str(), i);
        }
        names.push_back(name);  // an undeclared required key takes the additional schema
        nodes.push_back(additional);
        required.push_back(true);
      } else if (never_ >= 0 && nodes[p] == never_) {
        return Fail("required property \"%s\" at #%s/required/%zu has the schema false",
                    name.c_str(), path.c_str(), i);
      } else {
        required[p] = true;
      }
    }
  }
  std::vector<std::pair<std::string, int32_t>> keys;
  for (size_t i = 0; i < names.size(); ++i) {
    Result<std::string> text = Dump(Json(names[i]), "#" + path + "/properties");
    if (!text.ok()) return text.error();
    literal_bytes_ += static_cast<int64_t>(text->size());
    keys.emplace_back(text->substr(1, text->size() - 2), static_cast<int32_t>(i));
  }
  if (literal_bytes_ > g_.options_.max_literal_bytes) {
    return Fail("the schema's enum/const values and property names exceed %lld bytes (at #%s)",
                static_cast<long long>(g_.options_.max_literal_bytes), path.c_str());
  }
  GrammarNode& g = g_.nodes_[*id];
  g.properties = std::move(nodes);
  g.additional = additional;
  g.next_required.assign(g.properties.size() + 1, static_cast<int32_t>(g.properties.size()));
  for (size_t i = g.properties.size(); i-- > 0;) {
    g.next_required[i] = required[i] ? static_cast<int32_t>(i) : g.next_required[i + 1];
  }
  g.trie = static_cast<int32_t>(g_.tries_.size());
  g_.tries_.push_back(ByteTrie::Build(std::move(keys), true));
  return id;
}

template <typename Json>
Result<int32_t> SchemaCompiler<Json>::CompileArray(const Json& s, const std::string& path,
                                                   int depth) {
  Result<int32_t> id = NewNode(NodeKind::kArray, path);
  if (!id.ok()) return id;
  Claim(*id);
  int32_t items = -1;
  if (s.contains("items")) {
    if (s["items"].is_array()) {
      return Fail("unsupported schema keyword \"items\" as an array (tuple form) at #%s/items",
                  path.c_str());
    }
    Result<int32_t> node = Compile(s["items"], path + "/items", depth + 1);
    if (!node.ok()) return node;
    items = *node;
  } else {
    Result<int32_t> any = AnyValue();
    if (!any.ok()) return any;
    items = *any;
  }
  GrammarNode& g = g_.nodes_[*id];
  g.items = items;
  for (const char* key : {"minItems", "maxItems"}) {
    if (!s.contains(key)) continue;
    Result<int32_t> n = Count(s, key, "#" + path);
    if (!n.ok()) return n.error();
    (key[1] == 'i' ? g_.nodes_[*id].min_items : g_.nodes_[*id].max_items) = *n;
  }
  return id;
}

template <typename Json>
Result<std::shared_ptr<const JsonGrammar>> JsonGrammar::Compile(const Json& schema,
                                                                const GrammarOptions& options) {
  if (options.max_depth < 1 || options.max_depth > 4096 || options.max_whitespace_run < 0 ||
      options.max_whitespace_run > 4096 || options.max_parses < 1 || options.max_nodes < 16 ||
      options.max_literal_bytes < 64) {
    return Fail(
        "grammar options out of range (max_depth 1..4096, max_whitespace_run 0..4096, "
        "max_parses >= 1, max_nodes >= 16, max_literal_bytes >= 64)");
  }
  auto g = std::shared_ptr<JsonGrammar>(new JsonGrammar());
  g->options_ = options;
  SchemaCompiler<Json> compiler(schema, *g);
  Result<int32_t> root = compiler.CompileRoot();
  if (!root.ok()) return root.error();
  g->root_ = *root;
  AUTAN_TRY(g->Finish());
  return std::shared_ptr<const JsonGrammar>(std::move(g));
}

Result<std::shared_ptr<const JsonGrammar>> JsonGrammar::FromSchema(
    const nlohmann::ordered_json& schema, const GrammarOptions& options) {
  return Compile(schema, options);
}

Result<std::shared_ptr<const JsonGrammar>> JsonGrammar::FromSchema(const nlohmann::json& schema,
                                                                   const GrammarOptions& options) {
  return Compile(schema, options);
}

std::shared_ptr<const JsonGrammar> JsonGrammar::AnyObject(const GrammarOptions& options) {
  Result<std::shared_ptr<const JsonGrammar>> g =
      FromSchema(nlohmann::ordered_json{{"type", "object"}}, options);
  AUTAN_CHECK(g.ok());
  return *g;
}

std::shared_ptr<const JsonGrammar> JsonGrammar::AnyValue(const GrammarOptions& options) {
  Result<std::shared_ptr<const JsonGrammar>> g = FromSchema(nlohmann::ordered_json(true), options);
  AUTAN_CHECK(g.ok());
  return *g;
}

}  // namespace autan::constraint
