// Models and data for the Boltzmann learner's tests: grid-shaped Boltzmann machines placed on a
// corner of the lattice (nearest-neighbour jumps are lattice edges for every degree), examples
// drawn exactly from a known law, and the SGD noise bound of the learning tests.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include <Eigen/Dense>

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

// The KL bound of the learning tests: constant-step SGD near the optimum of the log-likelihood,
// with STOCHASTIC rounding (below: why not nearest). With theta in coupling units, the gradient
// beta (clamped - free) has Hessian H = beta^2 F (F: the Fisher matrix, the covariance of the
// sufficient statistics s_i, s_i s_j under the target) and noise covariance c H:
//   * 1/batch: the clamped phase averages `batch` i.i.d. data examples;
//   * 1/free_copies: each free copy's average of correlated samples has at most the variance of
//     one sample, so there is at least one effective sample per copy;
//   * lambda_max(H) / 4: stochastic rounding writes theta + eps with Cov(eps) <= I / 4, which
//     moves the free moments by beta F eps, a gradient noise H Cov(eps) H <= (lambda_max / 4) H.
// The stationary covariance of theta solves H C + C H - eta H C H = eta c H, so
// C = eta c / (2 - eta H), and E[KL] = 1/2 tr(H C) <= m = eta c tr(H) / (4 (1 - eta lambda_max /
// 2)). KL is a positive combination of chi^2_1 variables with mean m; its tail is at most that of
// m chi^2_1, and P(chi^2_1 > 16) = 6e-5, so 16 m bounds the stationary KL. The transient from
// the start (KL_0 at theta_0) decays at least as (1 - eta lambda_min)^(2 t). Neglected: third
// order terms of the KL, the second-order bias of rounding noise through the nonlinear moments,
// and the persistent chains' lag (20 burn-in sweeps per step on models of at most 6 nodes).
// Nearest rounding has no such bound on the host parameters: inside a rounding cell the codes,
// and so the expected gradient, do not change, and theta random-walks there; only the law of
// the codes is meaningful then.
struct SgdKlBound {
  double mean = 0.0;       // m
  double transient = 0.0;  // KL_0 (1 - eta lambda_min)^(2 steps)
  double bound = 0.0;      // 16 m + transient
};

inline SgdKlBound sgd_kl_bound(const Eigen::MatrixXd& fisher, double eta, double beta,
                               std::uint32_t batch, std::uint32_t free_copies, std::uint64_t steps,
                               double kl0) {
  const Eigen::MatrixXd h = beta * beta * fisher;
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(h);
  const double lmin = eig.eigenvalues().minCoeff(), lmax = eig.eigenvalues().maxCoeff();
  const double c = 1.0 / batch + 1.0 / free_copies + lmax / 4.0;
  SgdKlBound b;
  b.mean = eta * c * h.trace() / (4.0 * (1.0 - eta * lmax / 2.0));
  b.transient = kl0 * std::pow(1.0 - eta * lmin, 2.0 * static_cast<double>(steps));
  b.bound = 16.0 * b.mean + b.transient;
  return b;
}

// The covariance of statistics under a law given as weighted states: stats[x] (one vector per
// state) with probabilities p[x].
inline Eigen::MatrixXd covariance(const std::vector<Eigen::VectorXd>& stats,
                                  const std::vector<double>& p) {
  const auto d = stats.front().size();
  Eigen::VectorXd mean = Eigen::VectorXd::Zero(d);
  Eigen::MatrixXd second = Eigen::MatrixXd::Zero(d, d);
  for (std::size_t x = 0; x < p.size(); ++x) {
    mean += p[x] * stats[x];
    second += p[x] * stats[x] * stats[x].transpose();
  }
  return second - mean * mean.transpose();
}

}  // namespace kelvin::runtime::testing
