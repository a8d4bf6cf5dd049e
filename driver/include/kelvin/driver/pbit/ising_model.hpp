// Host-side mapping of a sparse Ising model onto the p-bit board's lattice. Model node i is
// lattice node i (row-major: row i / cols, column i % cols); each model edge must be a lattice
// edge. Lattice nodes the model does not use get bias 0 and all lattice edges it does not use
// weight 0, so they do not couple to the model.
//
// The model's law is P(s) ~ exp(beta (sum_edges J_ij s_i s_j + sum_i b_i s_i)), s_i in {-1, +1},
// with J and b in the board's integer coupling units.
//
// Thread contract: pure functions of their arguments; IsingModel is a plain value type.
#pragma once

#include <cstdint>
#include <tuple>
#include <vector>

#include "kelvin/driver/device_description.hpp"
#include "kelvin/driver/pbit/pbit_board.hpp"

namespace kelvin::driver {

struct IsingModel {
  std::uint32_t nodes = 0;
  std::vector<std::tuple<std::uint32_t, std::uint32_t, int>> edges;  // (i, j, J_ij)
  std::vector<int> bias;  // one per node, or empty for all zeros
};

// The codes that realize `model` on the board. Throws Error with
//   kInvalidArgument  no nodes, a bias list of the wrong size, an endpoint >= nodes, a self
//                     loop, or an edge listed twice (in either order);
//   kNotSupported     more nodes than the lattice, or an edge that is not a lattice edge
//                     ("(i, j) is not a lattice edge for degree 12 on 70x70");
//   kOutOfRange       a weight beyond the cap or a bias outside its range (naming it).
LatticeProgram map_to_lattice(const IsingModel& model, const PbitDescription& board);

}  // namespace kelvin::driver
