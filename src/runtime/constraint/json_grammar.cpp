#include "runtime/constraint/json_grammar.h"

#include <algorithm>
#include <functional>
#include <queue>

#include "core/check.h"

namespace autan::constraint {

ByteTrie ByteTrie::Build(std::vector<std::pair<std::string, int32_t>> entries,
                         bool subtree_values) {
  std::stable_sort(entries.begin(), entries.end(),
                   [](const auto& x, const auto& y) { return x.first < y.first; });
  ByteTrie t;
  t.nodes_.emplace_back();
  std::vector<std::vector<std::pair<uint8_t, int32_t>>> children(1);
  std::vector<std::pair<uint32_t, uint32_t>> ranges(1, {0, 0});  // sorted-entry range per node
  std::vector<int32_t> path = {0};
  std::vector<int32_t> sorted_values;
  const std::string* prev = nullptr;
  for (const auto& [s, value] : entries) {
    if (prev != nullptr && s == *prev) continue;  // equal strings keep the first value
    size_t lcp = 0;
    if (prev != nullptr) {
      while (lcp < prev->size() && lcp < s.size() && (*prev)[lcp] == s[lcp]) ++lcp;
    }
    const uint32_t index = static_cast<uint32_t>(sorted_values.size());
    sorted_values.push_back(value);
    path.resize(lcp + 1);
    for (size_t d = lcp; d < s.size(); ++d) {
      const int32_t id = static_cast<int32_t>(t.nodes_.size());
      t.nodes_.emplace_back();
      children.emplace_back();
      ranges.emplace_back(index, index);
      children[path.back()].emplace_back(static_cast<uint8_t>(s[d]), id);
      path.push_back(id);
    }
    t.nodes_[path.back()].terminal = value;
    for (int32_t id : path) ranges[id].second = index + 1;
    prev = &s;
  }
  for (size_t i = 0; i < t.nodes_.size(); ++i) {
    Node& n = t.nodes_[i];
    n.first_edge = static_cast<uint32_t>(t.edge_bytes_.size());
    n.n_edges = static_cast<uint32_t>(children[i].size());
    for (const auto& [byte, child] : children[i]) {
      t.edge_bytes_.push_back(byte);
      t.edge_children_.push_back(child);
    }
    if (subtree_values) {
      n.values_begin = static_cast<uint32_t>(t.values_.size());
      t.values_.insert(t.values_.end(), sorted_values.begin() + ranges[i].first,
                       sorted_values.begin() + ranges[i].second);
      std::sort(t.values_.begin() + n.values_begin, t.values_.end());
      n.values_end = static_cast<uint32_t>(t.values_.size());
    }
  }
  return t;
}

int32_t ByteTrie::Child(int32_t node, uint8_t byte) const {
  const Node& n = nodes_[node];
  const uint8_t* begin = edge_bytes_.data() + n.first_edge;
  const uint8_t* end = begin + n.n_edges;
  const uint8_t* it =
      n.n_edges <= 8 ? std::find(begin, end, byte) : std::lower_bound(begin, end, byte);
  if (it == end || *it != byte) return -1;
  return edge_children_[n.first_edge + (it - begin)];
}

std::span<const uint8_t> ByteTrie::EdgeBytes(int32_t node) const {
  const Node& n = nodes_[node];
  return {edge_bytes_.data() + n.first_edge, n.n_edges};
}

std::span<const int32_t> ByteTrie::SubtreeValues(int32_t node) const {
  const Node& n = nodes_[node];
  return {values_.data() + n.values_begin, n.values_end - n.values_begin};
}

namespace {

// Replaces each anyOf's alternatives by the non-anyOf nodes they reach,
// refusing cycles (an anyOf that reaches itself consumes no input on the way).
Status FlattenAlternatives(std::vector<GrammarNode>& nodes, int32_t max_nodes) {
  enum : uint8_t { kNew, kOpen, kDone };
  std::vector<uint8_t> state(nodes.size(), kNew);
  std::vector<std::pair<int32_t, size_t>> stack;  // (node, next alternative to look at)
  std::vector<int32_t> seen(nodes.size(), -1);    // last list a node was added to
  int64_t total = 0;
  for (size_t start = 0; start < nodes.size(); ++start) {
    if (nodes[start].kind != NodeKind::kAnyOf || state[start] != kNew) continue;
    stack.emplace_back(static_cast<int32_t>(start), 0);
    state[start] = kOpen;
    while (!stack.empty()) {
      const int32_t id = stack.back().first;
      size_t& next = stack.back().second;
      const std::vector<int32_t>& alts = nodes[id].alternatives;
      if (next < alts.size()) {
        const int32_t alt = alts[next++];
        if (nodes[alt].kind != NodeKind::kAnyOf || state[alt] == kDone) continue;
        if (state[alt] == kOpen) {
          return Fail("anyOf/oneOf at %s refers back to itself without consuming input",
                      nodes[alt].path.c_str());
        }
        state[alt] = kOpen;
        stack.emplace_back(alt, 0);
        continue;
      }
      std::vector<int32_t> unique;
      auto add = [&](int32_t alt) {
        if (seen[alt] == id) return;  // already in this list
        seen[alt] = id;
        unique.push_back(alt);
      };
      for (int32_t alt : alts) {
        if (nodes[alt].kind != NodeKind::kAnyOf) {
          add(alt);
          continue;
        }
        for (int32_t inner : nodes[alt].alternatives) add(inner);
      }
      // Nested anyOf lists can multiply: bound what all of them hold together.
      total += static_cast<int64_t>(unique.size());
      if (total > 16 * static_cast<int64_t>(max_nodes)) {
        return Fail("anyOf/oneOf at %s: the schema's alternatives expand to more than %lld",
                    nodes[id].path.c_str(), 16 * static_cast<long long>(max_nodes));
      }
      nodes[id].alternatives = std::move(unique);
      state[id] = kDone;
      stack.pop_back();
    }
  }
  return {};
}

// The fewest objects/arrays a finished value of each node needs, by Knuth's
// generalization of Dijkstra: an object needs 1 + the most any required
// property needs, an array 1 (+ its items' need when minItems > 0), an anyOf
// the least of its alternatives. Nodes never finalized have no finite value.
void ComputeMinDepth(std::vector<GrammarNode>& nodes, const std::vector<ByteTrie>& tries) {
  const size_t n = nodes.size();
  std::vector<std::vector<int32_t>> parents(n);
  std::vector<int32_t> waiting(n, 0);        // objects: required properties not yet final
  using Item = std::pair<int32_t, int32_t>;  // (depth, node)
  std::priority_queue<Item, std::vector<Item>, std::greater<>> queue;
  for (size_t i = 0; i < n; ++i) {
    GrammarNode& g = nodes[i];
    g.min_depth = kUnbounded;
    const int32_t id = static_cast<int32_t>(i);
    switch (g.kind) {
      case NodeKind::kLiteral:
        if (!tries[g.trie].empty()) queue.emplace(0, id);
        break;
      case NodeKind::kString:
        if (g.min_length <= g.max_length) queue.emplace(0, id);
        break;
      case NodeKind::kNumber:
      case NodeKind::kInteger:
        queue.emplace(0, id);
        break;
      case NodeKind::kObject:
        for (size_t p = 0; p < g.properties.size(); ++p) {
          if (g.next_required[p] == static_cast<int32_t>(p)) {
            parents[g.properties[p]].push_back(id);
            ++waiting[i];
          }
        }
        if (waiting[i] == 0) queue.emplace(1, id);
        break;
      case NodeKind::kArray:
        if (g.min_items > g.max_items) break;
        if (g.min_items == 0) {
          queue.emplace(1, id);
        } else {
          parents[g.items].push_back(id);
        }
        break;
      case NodeKind::kAnyOf:
        for (int32_t alt : g.alternatives) parents[alt].push_back(id);
        break;
    }
  }
  while (!queue.empty()) {
    const auto [depth, id] = queue.top();
    queue.pop();
    if (nodes[id].min_depth != kUnbounded) continue;
    nodes[id].min_depth = depth;
    for (int32_t parent : parents[id]) {
      GrammarNode& p = nodes[parent];
      if (p.min_depth != kUnbounded) continue;
      if (p.kind == NodeKind::kAnyOf) {
        queue.emplace(depth, parent);
      } else if (p.kind == NodeKind::kArray) {
        queue.emplace(depth + 1, parent);
      } else if (--waiting[parent] == 0) {  // the last required property: the deepest
        queue.emplace(depth + 1, parent);
      }
    }
  }
}

}  // namespace

Status JsonGrammar::Finish() {
  AUTAN_TRY(FlattenAlternatives(nodes_, options_.max_nodes));
  ComputeMinDepth(nodes_, tries_);
  for (GrammarNode& g : nodes_) {
    switch (g.kind) {
      case NodeKind::kLiteral:
        for (uint8_t b : tries_[g.trie].EdgeBytes(0)) g.first.set(b);
        break;
      case NodeKind::kString:
        g.first.set('"');
        break;
      case NodeKind::kNumber:
      case NodeKind::kInteger:
        g.first.set('-');
        for (int c = '0'; c <= '9'; ++c) g.first.set(c);
        break;
      case NodeKind::kObject:
        g.first.set('{');
        break;
      case NodeKind::kArray:
        g.first.set('[');
        break;
      case NodeKind::kAnyOf:
        break;
    }
  }
  for (GrammarNode& g : nodes_) {
    if (g.kind != NodeKind::kAnyOf) continue;
    for (int32_t alt : g.alternatives) {
      if (nodes_[alt].min_depth != kUnbounded) g.first |= nodes_[alt].first;
    }
  }
  const GrammarNode& root = nodes_[root_];
  if (root.min_depth == kUnbounded) {
    return Fail(
        "no finite JSON value satisfies the schema at %s: a required property or item always "
        "recurses, or its constraints contradict each other",
        root.path.c_str());
  }
  if (root.min_depth > options_.max_depth) {
    return Fail("the schema at %s needs objects/arrays nested %d deep; the limit is %d",
                root.path.c_str(), root.min_depth, options_.max_depth);
  }
  return {};
}

}  // namespace autan::constraint
