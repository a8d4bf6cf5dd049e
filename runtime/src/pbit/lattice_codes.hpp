// The one place where a p-bit problem becomes the board's codes: couplings between lattice
// nodes and biases of lattice nodes, already rounded to integer codes, written into a
// LatticeProgram (one weight per lattice edge in the lattice's edge order, one bias per node).
// map_to_lattice() (ising_model.hpp, integer models as written) and embed_model()
// (model_embedding.hpp, placed and quantized models) both end here.
//
// Thread contract: pure functions, safe from any thread.
#pragma once

#include <cstdint>
#include <span>

#include "kelvin/driver/device_description.hpp"
#include "kelvin/driver/pbit/pbit_board.hpp"
#include "kelvin/firmware_protocol/pbit_lattice.hpp"

namespace kelvin::runtime::detail {

struct LatticeCoupling {
  std::uint32_t u = 0;  // lattice nodes
  std::uint32_t v = 0;
  std::int64_t code = 0;
};

// The board's lattice. Throws common::Error(kInvalidArgument) for a description no lattice fits.
firmware_protocol::PbitLattice lattice_of(const driver::PbitDescription& board);

// The program with these couplings and biases (bias k belongs to lattice node k; fewer biases
// than nodes leave the rest 0; every lattice edge not listed gets weight 0). Throws
// common::Error: kNotSupported for a pair that is not a lattice edge ("(i, j) is not a lattice
// edge for degree 12 on 70x70"), kInvalidArgument for an edge listed twice, kOutOfRange for a
// code outside the board's weight or bias range (naming it). `edge_index_out`, when not empty,
// receives each coupling's lattice edge index.
driver::LatticeProgram lattice_program(const firmware_protocol::PbitLattice& lattice,
                                       const driver::PbitDescription& board,
                                       std::span<const LatticeCoupling> couplings,
                                       std::span<const std::int64_t> bias_codes,
                                       std::span<std::uint32_t> edge_index_out = {});

}  // namespace kelvin::runtime::detail
