// Runs a parsed template: Jinja2's scoping (a fresh scope per loop iteration,
// macro closures, namespaces), undefined semantics and output, within the
// limits of RenderOptions.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/result.h"
#include "tokenizer/jinja/ast.h"
#include "tokenizer/jinja/template.h"
#include "tokenizer/jinja/value.h"

namespace autan::jinja {

struct Scope {
  std::shared_ptr<Scope> parent;
  std::unordered_map<std::string, Value> vars;
};

// `context` must be a dict; its entries are the template's global variables.
Result<std::string> RenderBody(const std::vector<NodePtr>& body, const Value& context,
                               const RenderOptions& options);

}  // namespace autan::jinja
