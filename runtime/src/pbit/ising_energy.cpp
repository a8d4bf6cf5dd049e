#include "kelvin/runtime/pbit/ising_energy.hpp"

#include <fmt/format.h>

#include "kelvin/common/error.hpp"

namespace kelvin::runtime {

using common::Error;
using common::ErrorKind;

IsingEnergy::IsingEnergy(const firmware_protocol::PbitLattice& lattice,
                         const driver::LatticeProgram& program) {
  const auto& edges = lattice.edges();
  if (program.weights.size() != edges.size() || program.biases.size() != lattice.nodes()) {
    throw Error(
        ErrorKind::kInvalidArgument,
        fmt::format("a lattice program of {} weights and {} biases does not fit a "
                    "lattice of {} edges and {} nodes",
                    program.weights.size(), program.biases.size(), edges.size(), lattice.nodes()));
  }
  for (std::size_t e = 0; e < edges.size(); ++e) {
    if (program.weights[e] != 0)
      edges_.push_back({edges[e].first, edges[e].second, program.weights[e]});
  }
  biases_.assign(program.biases.begin(), program.biases.end());
}

std::int64_t IsingEnergy::operator()(std::span<const std::int8_t> spins) const {
  if (spins.size() != biases_.size()) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("{} spins for {} nodes", spins.size(), biases_.size()));
  }
  std::int64_t sum = 0;
  for (const Edge& e : edges_)
    sum += e.weight * spins[e.u] * spins[e.v];
  for (std::size_t i = 0; i < biases_.size(); ++i)
    sum += biases_[i] * spins[i];
  return -sum;
}

std::int64_t IsingEnergy::of_sample(const driver::SamplingResult& result, std::uint64_t sample,
                                    std::vector<std::int8_t>& spins) const {
  if (result.nodes != biases_.size()) {
    throw Error(ErrorKind::kInvalidArgument, fmt::format("a sample of {} nodes for a program of {}",
                                                         result.nodes, biases_.size()));
  }
  spins.resize(biases_.size());
  for (std::uint32_t i = 0; i < result.nodes; ++i)
    spins[i] = static_cast<std::int8_t>(result.recorded_spin(sample, i));
  return (*this)(spins);
}

}  // namespace kelvin::runtime
