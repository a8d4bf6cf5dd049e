// The exact law of a small Ising model by enumerating all 2^n states (exact_ising()): its means
// <s_i> and edge correlations <s_i s_j> under P(s) ~ exp(beta (sum_edges J_ij s_i s_j + sum_i b_i
// s_i)), the board's law (ising_model.hpp, model_embedding.hpp). For the p-bit tests that compare
// sampled statistics with the truth; n up to 24 (exact_ising.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "kelvin/runtime/pbit/exact_ising.hpp"
#include "kelvin/runtime/pbit/ising_model.hpp"
#include "kelvin/runtime/pbit/model_embedding.hpp"

namespace kelvin::runtime::testing {

struct ExactMoments {
  std::vector<double> mean;         // per node
  std::vector<double> correlation;  // per model edge, in the model's order
};

inline ExactMoments exact_moments(const SparseIsingModel& m) {
  ExactIsingMoments e = exact_ising(m);
  return {std::move(e.mean), std::move(e.correlation)};
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
