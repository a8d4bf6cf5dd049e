#include "lattice_codes.hpp"

#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "kelvin/common/error.hpp"

namespace kelvin::runtime::detail {

using common::Error;
using common::ErrorKind;

firmware_protocol::PbitLattice lattice_of(const driver::PbitDescription& board) {
  try {
    return firmware_protocol::make_pbit_lattice(board.rows, board.cols, board.degree);
  } catch (const std::invalid_argument& e) {
    throw Error(ErrorKind::kInvalidArgument, e.what());
  }
}

driver::LatticeProgram lattice_program(const firmware_protocol::PbitLattice& lattice,
                                       const driver::PbitDescription& board,
                                       std::span<const LatticeCoupling> couplings,
                                       std::span<const std::int64_t> bias_codes,
                                       std::span<std::uint32_t> edge_index_out) {
  driver::LatticeProgram program;
  program.weights.assign(lattice.edges().size(), 0);
  program.biases.assign(lattice.nodes(), 0);
  std::vector<bool> used(lattice.edges().size(), false);
  for (std::size_t k = 0; k < couplings.size(); ++k) {
    const auto& [u, v, code] = couplings[k];
    const auto edge = lattice.edge_index(u, v);
    if (!edge) {
      throw Error(ErrorKind::kNotSupported,
                  fmt::format("({}, {}) is not a lattice edge for degree {} on {}x{}", u, v,
                              board.degree, board.rows, board.cols));
    }
    if (used[*edge])
      throw Error(ErrorKind::kInvalidArgument, fmt::format("edge ({}, {}) is listed twice", u, v));
    used[*edge] = true;
    if (!board.weight.contains(code)) {
      throw Error(ErrorKind::kOutOfRange,
                  fmt::format("weight {} of edge ({}, {}) is outside [{}, {}]", code, u, v,
                              board.weight.min_code, board.weight.max_code));
    }
    program.weights[*edge] = static_cast<std::int8_t>(code);
    if (k < edge_index_out.size())
      edge_index_out[k] = *edge;
  }
  for (std::size_t i = 0; i < bias_codes.size() && i < program.biases.size(); ++i) {
    if (!board.bias.contains(bias_codes[i])) {
      throw Error(ErrorKind::kOutOfRange,
                  fmt::format("bias {} of node {} is outside [{}, {}]", bias_codes[i], i,
                              board.bias.min_code, board.bias.max_code));
    }
    program.biases[i] = static_cast<std::int8_t>(bias_codes[i]);
  }
  return program;
}

}  // namespace kelvin::runtime::detail
