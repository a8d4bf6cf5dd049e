// Exact enumeration of small sparse Ising models (up to 24 nodes, 2^24 states): the reference
// that the Boltzmann learner's tests and examples compare the board's estimates with.
//
// The law is that of SparseIsingModel (model_embedding.hpp):
//   P(s) ~ exp(beta (sum_e J_e s_i s_j + sum_i b_i s_i)), s_i in {-1, +1}.
// Sums run in long double with the energy shifted by its maximum, so log Z is exact to rounding
// for any beta and couplings.
//
// Thread contract: pure functions of their arguments; safe from any thread.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "kelvin/runtime/pbit/model_embedding.hpp"

namespace kelvin::runtime {

inline constexpr std::uint32_t kMaxExactIsingNodes = 24;

struct ExactIsingMoments {
  std::vector<double> mean;         // <s_i>, per node
  std::vector<double> correlation;  // <s_i s_j>, per model edge (model order)
  double log_z = 0.0;               // natural log of the partition function
};

// Throws common::Error(kInvalidArgument) for a model with no nodes, more than 24 nodes, a bias
// list of the wrong size, an endpoint >= nodes, a NaN or infinite value.
ExactIsingMoments exact_ising(const SparseIsingModel& model);

// The same moments under the law conditioned on fixed[k] = values[k] (+-1) for every k: the
// clamped phase's exact moments. The fixed nodes' means are their values; log_z is that of the
// conditional (the sum over the free nodes only). Throws as exact_ising(), and
// kInvalidArgument for fixed and values of different sizes, a fixed node >= nodes or listed
// twice, or a value other than +-1.
ExactIsingMoments exact_conditional(const SparseIsingModel& model,
                                    std::span<const std::uint32_t> fixed,
                                    std::span<const int> values);

// The marginal law of `subset` (model nodes, distinct): 2^k probabilities; bit k of the index is
// subset[k], set for +1. Throws as exact_ising(), and kInvalidArgument for a subset node >= nodes,
// listed twice, or a subset of more than 24 nodes.
std::vector<double> exact_marginal(const SparseIsingModel& model,
                                   std::span<const std::uint32_t> subset);

// KL(p || q) = sum_x p(x) log(p(x) / q(x)) in nats; terms with p(x) = 0 contribute 0, a q(x) = 0
// under p(x) > 0 gives +infinity. Throws common::Error(kInvalidArgument) for sizes that differ.
double kl_divergence(std::span<const double> p, std::span<const double> q);

}  // namespace kelvin::runtime
