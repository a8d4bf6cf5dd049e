// The exact law of a small Ising model by enumerating all 2^n states: its means <s_i> and edge
// correlations <s_i s_j> under P(s) ~ exp(beta (sum_edges J_ij s_i s_j + sum_i b_i s_i)), the
// board's law (ising_model.hpp, model_embedding.hpp). For the p-bit tests that compare sampled
// statistics with the truth; n up to about 20.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "kelvin/runtime/pbit/ising_model.hpp"
#include "kelvin/runtime/pbit/model_embedding.hpp"

namespace kelvin::runtime::testing {

struct ExactMoments {
  std::vector<double> mean;         // per node
  std::vector<double> correlation;  // per model edge, in the model's order
};

inline ExactMoments exact_moments(const SparseIsingModel& m) {
  ExactMoments out{std::vector<double>(m.nodes, 0.0), std::vector<double>(m.edges.size(), 0.0)};
  const std::vector<double> bias = m.bias.empty() ? std::vector<double>(m.nodes, 0.0) : m.bias;
  const auto spin = [](std::size_t state, std::uint32_t i) { return (state >> i) & 1 ? 1 : -1; };
  // Energies relative to the largest, so that exp() cannot overflow at large beta.
  std::vector<double> energy(std::size_t{1} << m.nodes, 0.0);
  double top = -INFINITY;
  for (std::size_t state = 0; state < energy.size(); ++state) {
    for (const auto& e : m.edges)
      energy[state] += e.weight * spin(state, e.i) * spin(state, e.j);
    for (std::uint32_t i = 0; i < m.nodes; ++i)
      energy[state] += bias[i] * spin(state, i);
    top = std::max(top, energy[state]);
  }
  double z = 0.0;
  for (std::size_t state = 0; state < energy.size(); ++state) {
    const double w = std::exp(m.beta * (energy[state] - top));
    z += w;
    for (std::uint32_t i = 0; i < m.nodes; ++i)
      out.mean[i] += w * spin(state, i);
    for (std::size_t k = 0; k < m.edges.size(); ++k)
      out.correlation[k] += w * spin(state, m.edges[k].i) * spin(state, m.edges[k].j);
  }
  for (double& x : out.mean)
    x /= z;
  for (double& x : out.correlation)
    x /= z;
  return out;
}

// An integer model (the board's coupling units) at inverse temperature beta.
inline ExactMoments exact_moments(const IsingModel& model, double beta) {
  SparseIsingModel m;
  m.nodes = model.nodes;
  m.beta = beta;
  for (const auto& [i, j, w] : model.edges)
    m.edges.push_back({i, j, static_cast<double>(w)});
  m.bias.assign(model.nodes, 0.0);
  for (std::size_t i = 0; i < model.bias.size(); ++i)
    m.bias[i] = model.bias[i];
  return exact_moments(m);
}

}  // namespace kelvin::runtime::testing
