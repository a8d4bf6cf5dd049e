// An Ising model written in the p-bit board's own terms, and its codes. Model node i is
// lattice node i (row-major: row i / cols, column i % cols); each model edge must be a lattice
// edge. Lattice nodes the model does not use get bias 0 and all lattice edges it does not use
// weight 0, so they do not couple to the model.
//
// The model's law is P(s) ~ exp(beta (sum_edges J_ij s_i s_j + sum_i b_i s_i)), s_i in {-1, +1},
// with J and b in the board's integer coupling units.
//
// Models in any units and numbering go through embed_model() (model_embedding.hpp) instead;
// both end in the same code writer (runtime/src/pbit/lattice_codes.hpp).
//
// Thread contract: pure functions of their arguments; IsingModel is a plain value type.
#pragma once

#include <cstdint>
#include <tuple>
#include <vector>

#include "kelvin/driver/device_description.hpp"
#include "kelvin/driver/pbit/pbit_board.hpp"

namespace kelvin::runtime {

struct IsingModel {
  std::uint32_t nodes = 0;
  std::vector<std::tuple<std::uint32_t, std::uint32_t, int>> edges;  // (i, j, J_ij)
  std::vector<int> bias;  // one per node, or empty for all zeros
};

// The codes that realize `model` on the board. Throws common::Error with
//   kInvalidArgument  no nodes, a bias list of the wrong size, an endpoint >= nodes, a self
//                     loop, or an edge listed twice (in either order);
//   kNotSupported     more nodes than the lattice, or an edge that is not a lattice edge
//                     ("(i, j) is not a lattice edge for degree 12 on 70x70");
//   kOutOfRange       a weight beyond the cap or a bias outside its range (naming it).
driver::LatticeProgram map_to_lattice(const IsingModel& model,
                                      const driver::PbitDescription& board);

}  // namespace kelvin::runtime
