// Host-side energy of a p-bit lattice program: E(s) = -(sum_edges J_ij s_i s_j + sum_i b_i s_i)
// in the board's integer coupling units, so that the board's law is P(s) ~ exp(-beta E(s)).
// Parallel tempering needs it for every replica after every exchange interval, and the CLI and
// tests use it to state target energies. Integer arithmetic: energies compare exactly.
//
// Thread contract: an IsingEnergy is immutable after construction; its const members are safe
// from any thread.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "kelvin/driver/pbit/pbit_board.hpp"
#include "kelvin/firmware_protocol/pbit_lattice.hpp"

namespace kelvin::runtime {

class IsingEnergy {
 public:
  // Keeps the non-zero weights of `program` (one per lattice edge) and its biases. Throws
  // common::Error(kInvalidArgument) if the program's sizes do not match the lattice.
  IsingEnergy(const firmware_protocol::PbitLattice& lattice, const driver::LatticeProgram& program);

  std::uint32_t nodes() const noexcept { return static_cast<std::uint32_t>(biases_.size()); }
  // Non-zero couplings, the work of one evaluation besides the biases.
  std::size_t coupled_edges() const noexcept { return edges_.size(); }

  // E(s) for spins +1/-1, one per lattice node. Throws common::Error(kInvalidArgument) for a
  // wrong size.
  std::int64_t operator()(std::span<const std::int8_t> spins) const;
  // E of recorded sample k of a sampling result (see driver::SamplingResult::recorded_spin),
  // with its spins written to `spins` (resized to the lattice's nodes).
  std::int64_t of_sample(const driver::SamplingResult& result, std::uint64_t sample,
                         std::vector<std::int8_t>& spins) const;

 private:
  struct Edge {
    std::uint32_t u = 0;
    std::uint32_t v = 0;
    std::int32_t weight = 0;
  };
  std::vector<Edge> edges_;
  std::vector<std::int32_t> biases_;
};

}  // namespace kelvin::runtime
