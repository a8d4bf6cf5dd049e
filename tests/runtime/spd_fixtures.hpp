// Deterministic test systems: random SPD matrices with a chosen spectrum.
#pragma once

#include <cmath>
#include <random>

#include <Eigen/Dense>

namespace kelvin::runtime::testing {

// Standard normal entries, drawn column by column.
inline Eigen::MatrixXd random_gaussian(Eigen::Index rows, Eigen::Index cols, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  Eigen::MatrixXd g(rows, cols);
  for (Eigen::Index j = 0; j < cols; ++j)
    for (Eigen::Index i = 0; i < rows; ++i)
      g(i, j) = normal(rng);
  return g;
}

// A = Q diag(lambda) Q^T with lambda log-spaced in [1, condition] and Q a random orthogonal
// matrix, so the off-diagonals have both signs.
inline Eigen::MatrixXd random_spd(Eigen::Index n, double condition, std::uint64_t seed) {
  const Eigen::MatrixXd g = random_gaussian(n, n, seed);
  const Eigen::MatrixXd q = Eigen::HouseholderQR<Eigen::MatrixXd>(g).householderQ();
  Eigen::VectorXd lambda(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    lambda(i) = std::pow(condition, static_cast<double>(i) / static_cast<double>(n - 1));
  }
  Eigen::MatrixXd a = q * lambda.asDiagonal() * q.transpose();
  return 0.5 * (a + a.transpose());  // exactly symmetric
}

inline Eigen::VectorXd random_vector(Eigen::Index n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  Eigen::VectorXd v(n);
  for (Eigen::Index i = 0; i < n; ++i)
    v(i) = normal(rng);
  return v;
}

}  // namespace kelvin::runtime::testing
