#include "partition_plan.hpp"

#include "lattice_copies.hpp"

#include <algorithm>
#include <cstdlib>
#include <set>

#include <fmt/format.h>

#include "kelvin/common/error.hpp"
#include "kelvin/runtime/pbit/model_embedding.hpp"
#include "lattice_codes.hpp"

namespace kelvin::runtime::detail {

using common::Error;
using common::ErrorKind;

namespace {

[[noreturn]] void refuse(const std::string& what) {
  throw Error(ErrorKind::kInvalidArgument, "partitioned sampling: " + what);
}

void check_model(const IsingModel& model, const std::vector<int>& owner, int ranks) {
  if (model.nodes == 0)
    refuse("the model has no nodes");
  if (!model.bias.empty() && model.bias.size() != model.nodes)
    refuse(fmt::format("{} biases for {} nodes", model.bias.size(), model.nodes));
  if (owner.size() != model.nodes)
    refuse(fmt::format("owner has {} entries for {} nodes", owner.size(), model.nodes));
  for (std::size_t i = 0; i < owner.size(); ++i) {
    if (owner[i] < 0 || owner[i] >= ranks)
      refuse(
          fmt::format("owner[{}] = {} is not a rank of the group (0..{})", i, owner[i], ranks - 1));
  }
  std::set<std::pair<std::uint32_t, std::uint32_t>> seen;
  for (const auto& [i, j, w] : model.edges) {
    if (i >= model.nodes || j >= model.nodes)
      refuse(fmt::format("edge ({}, {}) has an endpoint >= {} nodes", i, j, model.nodes));
    if (i == j)
      refuse(fmt::format("edge ({}, {}) is a self loop", i, j));
    if (!seen.insert({std::min(i, j), std::max(i, j)}).second)
      refuse(fmt::format("edge ({}, {}) is listed twice", i, j));
  }
}

}  // namespace

PartitionPlan plan_partition(const IsingModel& model, const std::vector<int>& owner, int ranks,
                             int rank, PartitionSchedule schedule) {
  check_model(model, owner, ranks);
  PartitionPlan p;
  p.ranks = ranks;
  p.rank = rank;
  p.nodes_of.resize(static_cast<std::size_t>(ranks));
  p.boundary_of.resize(static_cast<std::size_t>(ranks));
  p.local_index.assign(model.nodes, -1);
  for (std::uint32_t i = 0; i < model.nodes; ++i) {
    auto& mine = p.nodes_of[static_cast<std::size_t>(owner[i])];
    if (owner[i] == rank)
      p.local_index[i] = static_cast<std::int32_t>(mine.size());
    mine.push_back(i);
  }
  for (int r = 0; r < ranks; ++r) {
    if (p.nodes_of[static_cast<std::size_t>(r)].empty())
      refuse(fmt::format("rank {} owns no node", r));
  }
  p.cross.resize(p.nodes_of[static_cast<std::size_t>(rank)].size());
  std::vector<char> boundary(model.nodes, 0);
  for (std::uint32_t e = 0; e < model.edges.size(); ++e) {
    const auto& [i, j, w] = model.edges[e];
    const int a = owner[i], b = owner[j];
    if (a == b) {
      if (a == rank)
        p.internal_edges.push_back(e);
      continue;
    }
    if (schedule == PartitionSchedule::kAlternating && a % 2 == b % 2) {
      refuse(fmt::format(
          "edge ({}, {}) joins ranks {} and {}, both {}: the alternating schedule holds one "
          "colour (rank parity) while the other sweeps, so ranks of one colour may not share "
          "an edge (renumber the ranks, or use the concurrent schedule)",
          i, j, a, b, a % 2 == 0 ? "even" : "odd"));
    }
    ++p.cross_edges;
    boundary[i] = boundary[j] = 1;
    if (a == rank) {
      p.cross[static_cast<std::size_t>(p.local_index[i])].push_back({j, w});
      p.owned_cross.push_back(e);
    } else if (b == rank) {
      p.cross[static_cast<std::size_t>(p.local_index[j])].push_back({i, w});
    }
  }
  for (std::uint32_t i = 0; i < model.nodes; ++i) {
    if (boundary[i]) {
      p.boundary_of[static_cast<std::size_t>(owner[i])].push_back(i);
      ++p.boundary_nodes;
    }
  }
  return p;
}

PartLayout lay_out_part(const IsingModel& model, const PartitionPlan& plan,
                        const driver::PbitBoard& board, std::uint32_t chains) {
  const auto& mine = plan.nodes_of[static_cast<std::size_t>(plan.rank)];
  const auto n = static_cast<std::uint32_t>(mine.size());
  const driver::PbitDescription& p = board.pbit();
  PartLayout out;
  out.base_bias.assign(n, 0);
  for (std::uint32_t k = 0; k < n; ++k) {
    const std::int64_t b = model.bias.empty() ? 0 : model.bias[mine[k]];
    std::int64_t reach = std::abs(b);
    for (const auto& [j, w] : plan.cross[k])
      reach += std::abs(w);
    if (reach > p.bias.max_code || -reach < p.bias.min_code) {
      throw Error(ErrorKind::kOutOfRange,
                  fmt::format("partitioned sampling: node {} (rank {}): bias {} plus a boundary "
                              "field of up to +-{} from its neighbours on other ranks can leave "
                              "the board's bias range [{}, {}]",
                              mine[k], plan.rank, b, reach - std::abs(b), p.bias.min_code,
                              p.bias.max_code));
    }
    out.base_bias[k] = b;
  }
  // One placement of the part (weights 1: only the placement is used; codes are written here).
  SparseIsingModel part;
  part.nodes = n;
  for (const std::uint32_t e : plan.internal_edges) {
    const auto& [i, j, w] = model.edges[e];
    part.edges.push_back({static_cast<std::uint32_t>(plan.local_index[i]),
                          static_cast<std::uint32_t>(plan.local_index[j]), 1.0});
  }
  const ModelEmbedding embedding = embed_model(part, p);
  const std::vector<std::int64_t> offsets =
      translated_copy_offsets(embedding.placement, p.rows, p.cols);
  out.copies_fit = static_cast<std::uint32_t>(offsets.size());
  if (chains > out.copies_fit) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("partitioned sampling: chains = {}, but only {} cop{} of rank {}'s "
                            "part ({} nodes) fit side by side on its {}x{} lattice",
                            chains, out.copies_fit, out.copies_fit == 1 ? "y" : "ies", plan.rank, n,
                            p.rows, p.cols));
  }
  out.copies = chains;
  std::vector<LatticeCoupling> couplings;
  std::vector<std::int64_t> biases(p.nodes(), 0);
  for (std::uint32_t c = 0; c < chains; ++c) {
    std::vector<std::uint32_t> at(n);
    for (std::uint32_t k = 0; k < n; ++k) {
      at[k] = static_cast<std::uint32_t>(embedding.placement[k] + offsets[c]);
      biases[at[k]] = out.base_bias[k];
    }
    for (const std::uint32_t e : plan.internal_edges) {
      const auto& [i, j, w] = model.edges[e];
      couplings.push_back({at[static_cast<std::size_t>(plan.local_index[i])],
                           at[static_cast<std::size_t>(plan.local_index[j])], w});
    }
    out.place.push_back(std::move(at));
  }
  out.program = lattice_program(board.lattice(), p, couplings, biases);
  return out;
}

void write_boundary_biases(PartLayout& layout, const PartitionPlan& plan,
                           const std::vector<std::int8_t>& held, std::uint32_t nodes) {
  for (std::uint32_t c = 0; c < layout.copies; ++c) {
    const std::int8_t* s = held.data() + std::size_t{c} * nodes;
    for (std::size_t k = 0; k < layout.base_bias.size(); ++k) {
      std::int64_t b = layout.base_bias[k];
      for (const auto& [j, w] : plan.cross[k])
        b += std::int64_t{w} * s[j];
      layout.program.biases[layout.place[c][k]] = static_cast<std::int8_t>(b);
    }
  }
}

}  // namespace kelvin::runtime::detail
