// Sign doubling (Melanson et al., arXiv 2312.04836, on capacitively coupled cells): a board with
// capacitive couplings realizes only off-diagonal entries <= 0. Split A = D + P + M into its
// diagonal, positive and negative off-diagonal parts; then
//     [ D + M   -P   ] [ u ]   [  b ]
//     [  -P    D + M ] [ v ] = [ -b ]
// has the solution v = -u with A u = b, and its off-diagonals are all <= 0. Its eigenvalues are
// those of A (on vectors [w; -w]) and of D + M - P (on [w; w]), so it is positive definite
// exactly when both A and D + M - P are: true for diagonally dominant A, not for every SPD A.
//
// Thread contract: pure functions; safe from any thread.
#pragma once

#include <Eigen/Core>

namespace kelvin::runtime {

struct DoubledSystem {
  Eigen::MatrixXd matrix;  // 2N x 2N
  Eigen::VectorXd rhs;     // 2N
};

// Throws common::Error(kNotSupported) if the doubled matrix is not positive definite, naming
// the smallest eigenvalue of D + M - P.
DoubledSystem sign_double(const Eigen::MatrixXd& A, const Eigen::VectorXd& b);

// Whether A has an off-diagonal entry > 0 (which a capacitive board cannot realize directly).
bool has_positive_off_diagonal(const Eigen::MatrixXd& A);

}  // namespace kelvin::runtime
