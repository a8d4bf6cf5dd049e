// Models and data for the Boltzmann learner's tests: grid-shaped Boltzmann machines placed on a
// corner of the lattice (nearest-neighbour jumps are lattice edges for every degree), examples
// drawn exactly from a known law, and the SGD noise bound of the learning tests.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "kelvin/runtime/pbit/boltzmann_learning.hpp"
#include "kelvin/runtime/pbit/exact_ising.hpp"

namespace kelvin::runtime::testing {

// A rows x cols grid model: node r * cols + c, edges to the right and down (in that order per
// node), placed at lattice node r * lattice_cols + c. Weights and biases are filled by the caller.
inline BoltzmannModel grid_model(std::uint32_t rows, std::uint32_t cols,
                                 std::uint32_t lattice_cols) {
  BoltzmannModel m;
  m.nodes = rows * cols;
  m.roles.assign(m.nodes, NodeRole::kVisible);
  m.bias.assign(m.nodes, 0.0);
  for (std::uint32_t r = 0; r < rows; ++r) {
    for (std::uint32_t c = 0; c < cols; ++c) {
      const std::uint32_t v = r * cols + c;
      m.placement.push_back(r * lattice_cols + c);
      if (c + 1 < cols)
        m.edges.push_back({v, v + 1, 0.0, true});
      if (r + 1 < rows)
        m.edges.push_back({v, v + cols, 0.0, true});
    }
  }
  return m;
}

// The law of `m`'s weights and biases at inverse temperature beta, as a SparseIsingModel.
inline SparseIsingModel ising_of(const BoltzmannModel& m, double beta) {
  SparseIsingModel s;
  s.nodes = m.nodes;
  s.beta = beta;
  for (const auto& e : m.edges)
    s.edges.push_back({e.i, e.j, e.weight});
  s.bias = m.bias;
  return s;
}

// A state of `bits` nodes drawn from the 2^bits probabilities p (bit k set: node k is +1).
inline std::vector<int> draw_state(const std::vector<double>& p, std::uint32_t bits,
                                   std::mt19937_64& rng) {
  const double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
  std::size_t x = 0;
  double acc = p[0];
  while (acc <= u && x + 1 < p.size())
    acc += p[++x];
  std::vector<int> s(bits);
  for (std::uint32_t k = 0; k < bits; ++k)
    s[k] = ((x >> k) & 1) ? 1 : -1;
  return s;
}

}  // namespace kelvin::runtime::testing
