#include "kelvin/driver/pbit/ising_model.hpp"

#include <stdexcept>
#include <utility>

#include <fmt/format.h>

#include "kelvin/common/error.hpp"
#include "kelvin/firmware_protocol/pbit_lattice.hpp"

namespace kelvin::driver {

using common::Error;
using common::ErrorKind;

LatticeProgram map_to_lattice(const IsingModel& model, const PbitDescription& board) {
  firmware_protocol::PbitLattice lattice;
  try {
    lattice = firmware_protocol::make_pbit_lattice(board.rows, board.cols, board.degree);
  } catch (const std::invalid_argument& e) {
    throw Error(ErrorKind::kInvalidArgument, e.what());
  }
  const std::string where = fmt::format("degree {} on {}x{}", board.degree, board.rows, board.cols);
  if (model.nodes == 0)
    throw Error(ErrorKind::kInvalidArgument, "the model has no nodes");
  if (model.nodes > lattice.nodes()) {
    throw Error(ErrorKind::kNotSupported,
                fmt::format("the model has {} nodes; the lattice ({}) has {}", model.nodes, where,
                            lattice.nodes()));
  }
  if (!model.bias.empty() && model.bias.size() != model.nodes) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("{} biases for a model of {} nodes", model.bias.size(), model.nodes));
  }

  LatticeProgram program;
  program.weights.assign(lattice.edges().size(), 0);
  program.biases.assign(lattice.nodes(), 0);
  std::vector<bool> used(lattice.edges().size(), false);
  for (const auto& [i, j, weight] : model.edges) {
    if (i >= model.nodes || j >= model.nodes) {
      throw Error(ErrorKind::kInvalidArgument,
                  fmt::format("edge ({}, {}) names a node outside the model's {} nodes", i, j,
                              model.nodes));
    }
    if (i == j)
      throw Error(ErrorKind::kInvalidArgument, fmt::format("edge ({}, {}) is a self loop", i, j));
    const auto edge = lattice.edge_index(i, j);
    if (!edge) {
      throw Error(ErrorKind::kNotSupported,
                  fmt::format("({}, {}) is not a lattice edge for {}", i, j, where));
    }
    if (used[*edge])
      throw Error(ErrorKind::kInvalidArgument, fmt::format("edge ({}, {}) is listed twice", i, j));
    used[*edge] = true;
    if (!board.weight.contains(weight)) {
      throw Error(ErrorKind::kOutOfRange,
                  fmt::format("weight {} of edge ({}, {}) is outside [{}, {}]", weight, i, j,
                              board.weight.min_code, board.weight.max_code));
    }
    program.weights[*edge] = static_cast<std::int8_t>(weight);
  }
  for (std::size_t i = 0; i < model.bias.size(); ++i) {
    if (!board.bias.contains(model.bias[i])) {
      throw Error(ErrorKind::kOutOfRange,
                  fmt::format("bias {} of node {} is outside [{}, {}]", model.bias[i], i,
                              board.bias.min_code, board.bias.max_code));
    }
    program.biases[i] = static_cast<std::int8_t>(model.bias[i]);
  }
  return program;
}

}  // namespace kelvin::driver
