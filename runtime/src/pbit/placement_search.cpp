#include "placement_search.hpp"

#include <algorithm>
#include <limits>
#include <random>
#include <set>
#include <tuple>

#include <fmt/format.h>

namespace kelvin::runtime::detail {
namespace {

constexpr std::uint32_t kFree = std::numeric_limits<std::uint32_t>::max();

// The order in which model nodes are placed: connected components by edge count (largest first,
// since they are the hardest to fit while the lattice is empty), each from its highest-degree
// node, then always the node with the most already-ordered neighbours (ties: higher degree, then
// the tie key). Placing the most constrained node next makes dead ends show up early, where
// backtracking is cheap. Isolated nodes come last: any free lattice node takes them.
std::vector<std::uint32_t> placement_order(const PlacementGraph& g,
                                           const std::vector<std::uint64_t>& tie) {
  const std::uint32_t n = g.nodes;
  std::vector<std::uint32_t> component(n, kFree);
  std::vector<std::vector<std::uint32_t>> members;
  std::vector<std::uint64_t> edges;
  for (std::uint32_t s = 0; s < n; ++s) {
    if (component[s] != kFree || g.adjacency[s].empty())
      continue;
    const auto c = static_cast<std::uint32_t>(members.size());
    members.emplace_back();
    edges.push_back(0);
    std::vector<std::uint32_t> stack = {s};
    component[s] = c;
    while (!stack.empty()) {
      const std::uint32_t v = stack.back();
      stack.pop_back();
      members[c].push_back(v);
      edges[c] += g.adjacency[v].size();
      for (const auto& [w, e] : g.adjacency[v]) {
        if (component[w] == kFree) {
          component[w] = c;
          stack.push_back(w);
        }
      }
    }
  }
  std::vector<std::uint32_t> by_size(members.size());
  for (std::uint32_t c = 0; c < by_size.size(); ++c)
    by_size[c] = c;
  std::stable_sort(by_size.begin(), by_size.end(),
                   [&](std::uint32_t a, std::uint32_t b) { return edges[a] > edges[b]; });

  std::vector<std::uint32_t> order;
  order.reserve(n);
  std::vector<std::uint32_t> connections(n, 0);
  std::vector<bool> ordered(n, false);
  auto degree = [&](std::uint32_t v) { return static_cast<std::uint32_t>(g.adjacency[v].size()); };
  // Largest key first: (ordered neighbours, degree, -tie).
  using Key = std::tuple<std::uint32_t, std::uint32_t, std::uint64_t, std::uint32_t>;
  auto key = [&](std::uint32_t v) {
    return Key{connections[v], degree(v), std::numeric_limits<std::uint64_t>::max() - tie[v], v};
  };
  for (const std::uint32_t c : by_size) {
    std::set<Key> frontier;
    std::uint32_t start = members[c].front();
    for (const std::uint32_t v : members[c])
      if (key(v) > key(start))
        start = v;
    frontier.insert(key(start));
    while (!frontier.empty()) {
      const std::uint32_t v = std::get<3>(*frontier.rbegin());
      frontier.erase(std::prev(frontier.end()));
      ordered[v] = true;
      order.push_back(v);
      for (const auto& [w, e] : g.adjacency[v]) {
        if (ordered[w])
          continue;
        frontier.erase(key(w));
        ++connections[w];
        frontier.insert(key(w));
      }
    }
  }
  for (std::uint32_t v = 0; v < n; ++v)
    if (g.adjacency[v].empty())
      order.push_back(v);
  return order;
}

// One backtracking attempt over a fixed order.
class Attempt {
 public:
  Attempt(const PlacementGraph& g, const firmware_protocol::PbitLattice& lattice,
          std::vector<std::uint32_t> order, std::mt19937_64* rng, int root_candidates)
      : g_(g),
        lattice_(lattice),
        order_(std::move(order)),
        rng_(rng),
        root_candidates_(static_cast<std::size_t>(root_candidates)),
        place_(g.nodes, kFree),
        owner_(lattice.nodes(), kFree),
        free_neighbours_(lattice.nodes()) {
    for (std::uint32_t x = 0; x < lattice.nodes(); ++x)
      free_neighbours_[x] = static_cast<std::uint32_t>(lattice.neighbours(x).size());
  }

  // True when every node is placed. Otherwise best_edges_/failed_edge_/reason_ describe the
  // deepest dead end.
  bool run(std::uint64_t budget) {
    const std::size_t n = order_.size();
    std::vector<std::vector<std::uint32_t>> candidates(n);
    std::vector<std::size_t> next(n, 0);
    std::size_t pos = 0;
    candidates[0] = candidates_for(order_[0]);
    std::uint64_t undone = 0;
    while (pos < n) {
      if (next[pos] < candidates[pos].size()) {
        place(order_[pos], candidates[pos][next[pos]++]);
        if (++pos < n) {
          candidates[pos] = candidates_for(order_[pos]);
          next[pos] = 0;
        }
        continue;
      }
      if (pos == 0 || undone >= budget)
        return false;
      --pos;
      unplace(order_[pos]);
      ++undone;
    }
    return true;
  }

  std::vector<std::uint32_t> placement() const { return place_; }
  std::uint32_t best_edges() const { return best_edges_; }
  std::uint32_t failed_edge() const { return failed_edge_; }
  const std::string& reason() const { return reason_; }

 private:
  void place(std::uint32_t v, std::uint32_t x) {
    place_[v] = x;
    owner_[x] = v;
    for (const auto& nb : lattice_.neighbours(x))
      --free_neighbours_[nb.node];
    for (const auto& [w, e] : g_.adjacency[v])
      edges_placed_ += place_[w] != kFree;
  }
  void unplace(std::uint32_t v) {
    for (const auto& [w, e] : g_.adjacency[v])
      edges_placed_ -= place_[w] != kFree;
    const std::uint32_t x = place_[v];
    for (const auto& nb : lattice_.neighbours(x))
      ++free_neighbours_[nb.node];
    owner_[x] = kFree;
    place_[v] = kFree;
  }
  bool adjacent(std::uint32_t x, std::uint32_t y) const {
    return lattice_.edge_index(x, y).has_value();
  }
  std::uint64_t tie(std::uint32_t x) { return rng_ ? (*rng_)() : x; }

  // Records a dead end when it is the deepest so far (edges placed), keeping the first one.
  void note(std::uint32_t edge, const std::string& reason) {
    if (reason_.empty() || edges_placed_ > best_edges_) {
      best_edges_ = edges_placed_;
      failed_edge_ = edge;
      reason_ = reason;
    }
  }

  // Forward check: every unplaced neighbour u of v that already has placed neighbours must keep
  // a free lattice node adjacent to x and to all of theirs, or placing v at x is a dead end.
  bool keeps_room(std::uint32_t v, std::uint32_t x) const {
    for (const auto& [u, e] : g_.adjacency[v]) {
      if (place_[u] != kFree)
        continue;
      bool constrained = false;
      for (const auto& [w, f] : g_.adjacency[u])
        constrained |= w != v && place_[w] != kFree;
      if (!constrained)
        continue;
      bool found = false;
      for (const auto& nb : lattice_.neighbours(x)) {
        if (owner_[nb.node] != kFree)
          continue;
        bool ok = true;
        for (const auto& [w, f] : g_.adjacency[u])
          ok = ok && (w == v || place_[w] == kFree || adjacent(nb.node, place_[w]));
        if (ok) {
          found = true;
          break;
        }
      }
      if (!found)
        return false;
    }
    return true;
  }

  std::vector<std::uint32_t> candidates_for(std::uint32_t v) {
    const auto& adj = g_.adjacency[v];
    const auto degree = static_cast<std::uint32_t>(adj.size());
    std::vector<std::uint32_t> placed;  // indices into adj
    for (std::uint32_t k = 0; k < adj.size(); ++k)
      if (place_[adj[k].first] != kFree)
        placed.push_back(k);
    const auto remaining = degree - static_cast<std::uint32_t>(placed.size());

    std::vector<std::pair<std::uint64_t, std::uint32_t>> scored;  // (sort key, lattice node)
    if (degree == 0) {
      // Isolated: the first free node does; nothing can depend on which.
      while (owner_[isolated_cursor_] != kFree)
        ++isolated_cursor_;
      return {isolated_cursor_};
    }
    if (placed.empty()) {
      // A component's first node: free nodes with room for all its edges, near the centre.
      const double rc = (lattice_.rows() - 1) / 2.0;
      const double cc = (lattice_.cols() - 1) / 2.0;
      const double jitter = std::max(lattice_.rows(), lattice_.cols()) / 4.0;
      std::uniform_real_distribution<double> uniform(0.0, jitter * jitter);
      for (std::uint32_t x = 0; x < lattice_.nodes(); ++x) {
        if (owner_[x] != kFree || free_neighbours_[x] < degree)
          continue;
        const double dr = x / lattice_.cols() - rc;
        const double dc = x % lattice_.cols() - cc;
        const double d2 = dr * dr + dc * dc + (rng_ ? uniform(*rng_) : 0.0);
        scored.emplace_back(static_cast<std::uint64_t>(d2 * 1024.0), x);
      }
      if (scored.empty()) {
        note(adj.front().second,
             fmt::format("no free lattice node has the {} free neighbours node {} needs", degree,
                         v));
        return {};
      }
      const std::size_t keep = std::min(root_candidates_, scored.size());
      std::partial_sort(scored.begin(), scored.begin() + static_cast<std::ptrdiff_t>(keep),
                        scored.end());
      scored.resize(keep);
    } else {
      // Next to every placed neighbour: start from the first one's free lattice neighbours and
      // intersect, remembering which edge empties the set.
      const auto [w0, e0] = adj[placed.front()];
      std::vector<std::uint32_t> pool;
      for (const auto& nb : lattice_.neighbours(place_[w0]))
        if (owner_[nb.node] == kFree)
          pool.push_back(nb.node);
      if (pool.empty()) {
        note(e0, fmt::format("every lattice neighbour of node {}'s place is taken", w0));
        return {};
      }
      for (std::size_t k = 1; k < placed.size(); ++k) {
        const auto [w, e] = adj[placed[k]];
        std::erase_if(pool, [&](std::uint32_t x) { return !adjacent(x, place_[w]); });
        if (pool.empty()) {
          note(e, fmt::format("no free lattice node is adjacent to the places of node {}'s {} "
                              "placed neighbours",
                              v, k + 1));
          return {};
        }
      }
      for (const std::uint32_t x : pool) {
        if (free_neighbours_[x] < remaining || !keeps_room(v, x))
          continue;
        // More free neighbours first (room for what follows); then the tie key.
        scored.emplace_back(
            (std::uint64_t{64 - std::min<std::uint32_t>(free_neighbours_[x], 64)} << 58) |
                (tie(x) >> 6),
            x);
      }
      if (scored.empty()) {
        std::uint32_t unplaced_edge = adj[placed.back()].second;
        for (const auto& [u, e] : adj)
          if (place_[u] == kFree) {
            unplaced_edge = e;
            break;
          }
        note(unplaced_edge,
             fmt::format("no free lattice node next to the places of node {}'s neighbours leaves "
                         "room for its {} remaining edges",
                         v, remaining));
        return {};
      }
      std::sort(scored.begin(), scored.end());
    }
    std::vector<std::uint32_t> out;
    out.reserve(scored.size());
    for (const auto& [k, x] : scored)
      out.push_back(x);
    return out;
  }

  const PlacementGraph& g_;
  const firmware_protocol::PbitLattice& lattice_;
  std::vector<std::uint32_t> order_;
  std::mt19937_64* rng_;
  std::size_t root_candidates_;
  std::vector<std::uint32_t> place_;            // model node -> lattice node
  std::vector<std::uint32_t> owner_;            // lattice node -> model node
  std::vector<std::uint32_t> free_neighbours_;  // per lattice node
  std::uint32_t isolated_cursor_ = 0;
  std::uint32_t edges_placed_ = 0;
  std::uint32_t best_edges_ = 0;
  std::uint32_t failed_edge_ = 0;
  std::string reason_;
};

}  // namespace

PlacementOutcome search_placement(const PlacementGraph& graph,
                                  const firmware_protocol::PbitLattice& lattice,
                                  const PlacementSearchOptions& options) {
  PlacementOutcome outcome;
  for (int attempt = 0; attempt <= options.restarts; ++attempt) {
    // Attempt 0 is deterministic (index order, the centre); the others draw their tie-breaks.
    std::mt19937_64 rng(options.seed + static_cast<std::uint64_t>(attempt));
    std::mt19937_64* random = attempt == 0 ? nullptr : &rng;
    std::vector<std::uint64_t> tie(graph.nodes);
    for (std::uint32_t v = 0; v < graph.nodes; ++v)
      tie[v] = random ? rng() : v;
    Attempt a(graph, lattice, placement_order(graph, tie), random, options.root_candidates);
    outcome.attempts = attempt + 1;
    if (a.run(options.backtrack_budget)) {
      outcome.placement = a.placement();
      return outcome;
    }
    if (outcome.failure_reason.empty() || a.best_edges() > outcome.best_edges_placed) {
      outcome.best_edges_placed = a.best_edges();
      outcome.failed_edge = a.failed_edge();
      outcome.failure_reason = a.reason();
    }
  }
  return outcome;
}

}  // namespace kelvin::runtime::detail
