#include "kelvin/runtime/pbit/ising_model.hpp"

#include <vector>

#include <fmt/format.h>

#include "kelvin/common/error.hpp"
#include "lattice_codes.hpp"

namespace kelvin::runtime {

using common::Error;
using common::ErrorKind;

driver::LatticeProgram map_to_lattice(const IsingModel& model,
                                      const driver::PbitDescription& board) {
  const firmware_protocol::PbitLattice lattice = detail::lattice_of(board);
  if (model.nodes == 0)
    throw Error(ErrorKind::kInvalidArgument, "the model has no nodes");
  if (model.nodes > lattice.nodes()) {
    throw Error(ErrorKind::kNotSupported,
                fmt::format("the model has {} nodes; the lattice (degree {} on {}x{}) has {}",
                            model.nodes, board.degree, board.rows, board.cols, lattice.nodes()));
  }
  if (!model.bias.empty() && model.bias.size() != model.nodes) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("{} biases for a model of {} nodes", model.bias.size(), model.nodes));
  }
  // Model node i is lattice node i: the couplings and biases are already lattice codes.
  std::vector<detail::LatticeCoupling> couplings;
  couplings.reserve(model.edges.size());
  for (const auto& [i, j, weight] : model.edges) {
    if (i >= model.nodes || j >= model.nodes) {
      throw Error(ErrorKind::kInvalidArgument,
                  fmt::format("edge ({}, {}) names a node outside the model's {} nodes", i, j,
                              model.nodes));
    }
    if (i == j)
      throw Error(ErrorKind::kInvalidArgument, fmt::format("edge ({}, {}) is a self loop", i, j));
    couplings.push_back({i, j, weight});
  }
  const std::vector<std::int64_t> biases(model.bias.begin(), model.bias.end());
  return detail::lattice_program(lattice, board, couplings, biases);
}

}  // namespace kelvin::runtime
