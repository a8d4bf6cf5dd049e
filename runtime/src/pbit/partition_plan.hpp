// The pieces of a partitioned Ising model (partitioned_sampling.hpp) that every rank derives from
// the replicated global model and owner vector: which nodes each rank owns, its boundary, the
// cross edges, and this rank's layout on its lattice (a placement of its part, translated into
// as many side-by-side copies as there are chains, and the codes of every copy).
//
// Thread contract: plain value types and pure functions; safe from any thread.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "kelvin/driver/pbit/pbit_board.hpp"
#include "kelvin/runtime/pbit/ising_model.hpp"
#include "kelvin/runtime/pbit/partitioned_sampling.hpp"

namespace kelvin::runtime::detail {

struct PartitionPlan {
  int ranks = 1;
  int rank = 0;
  std::vector<std::vector<std::uint32_t>> nodes_of;     // per rank: its global nodes, ascending
  std::vector<std::vector<std::uint32_t>> boundary_of;  // per rank: its nodes with a cross edge
  std::vector<std::int32_t> local_index;  // global node -> index in nodes_of[rank], or -1
  // Per local node: (global neighbour on another rank, J).
  std::vector<std::vector<std::pair<std::uint32_t, int>>> cross;
  std::vector<std::uint32_t> internal_edges;  // model edge indices inside this rank
  std::vector<std::uint32_t> owned_cross;     // cross edges whose first endpoint is this rank's
  std::uint32_t cross_edges = 0;              // all ranks'
  std::uint32_t boundary_nodes = 0;           // all ranks'
};

// Throws common::Error(kInvalidArgument): no nodes, a bias list of the wrong size, an endpoint
// out of range, a self loop, an edge listed twice, an owner vector of the wrong size or naming a
// rank outside [0, ranks), a rank without nodes, or (alternating) an edge between two ranks of
// the same colour.
PartitionPlan plan_partition(const IsingModel& model, const std::vector<int>& owner, int ranks,
                             int rank, PartitionSchedule schedule);

struct PartLayout {
  std::uint32_t copies_fit = 0;
  std::uint32_t copies = 0;                       // used: one per chain
  std::vector<std::vector<std::uint32_t>> place;  // [copy][local node] -> lattice node
  driver::LatticeProgram program;                 // weights fixed; biases rewritten per phase
  std::vector<std::int64_t> base_bias;            // per local node
};

// This rank's part on `board`: placed as written when every internal edge is a lattice edge,
// else by embed_model(); translated into `chains` copies. Throws common::Error: kInvalidArgument
// when fewer copies fit (naming the rank), kOutOfRange for a node whose bias plus boundary
// field can leave the bias range or a weight beyond the cap, kNotSupported as embed_model().
PartLayout lay_out_part(const IsingModel& model, const PartitionPlan& plan,
                        const driver::PbitBoard& board, std::uint32_t chains);

// Writes every copy's biases: base bias plus sum_j J s_j over its cross edges, with s_j from
// held[copy * nodes + j] (the neighbours' latest spins, global numbering).
void write_boundary_biases(PartLayout& layout, const PartitionPlan& plan,
                           const std::vector<std::int8_t>& held, std::uint32_t nodes);

}  // namespace kelvin::runtime::detail
