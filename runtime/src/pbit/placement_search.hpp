// Internal: the placement search behind embed_model(). Finds an injective map of a model graph's
// nodes onto lattice nodes such that every model edge joins two lattice neighbours, by ordered
// backtracking with randomized restarts. The model has already been checked (no self loops or
// duplicates, degrees within the lattice's, bipartite).
//
// Thread contract: pure function of its arguments; safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "kelvin/firmware_protocol/pbit_lattice.hpp"

namespace kelvin::runtime::detail {

struct PlacementGraph {
  std::uint32_t nodes = 0;
  // Per model node: (neighbour, index of the edge in the model's list).
  std::vector<std::vector<std::pair<std::uint32_t, std::uint32_t>>> adjacency;
  std::uint32_t edge_count = 0;
};

struct PlacementSearchOptions {
  int restarts = 0;
  std::uint64_t seed = 1;
  std::uint64_t backtrack_budget = 0;
  int root_candidates = 8;
};

struct PlacementOutcome {
  std::optional<std::vector<std::uint32_t>> placement;  // model node -> lattice node
  int attempts = 0;
  // Of the attempt that placed the most edges, when none succeeded: how many, the model edge it
  // could not place next, and why.
  std::uint32_t best_edges_placed = 0;
  std::uint32_t failed_edge = 0;
  std::string failure_reason;
};

PlacementOutcome search_placement(const PlacementGraph& graph,
                                  const firmware_protocol::PbitLattice& lattice,
                                  const PlacementSearchOptions& options);

}  // namespace kelvin::runtime::detail
