// Sign doubling (Melanson et al., arXiv 2312.04836, on capacitively coupled cells): a board with
// capacitive couplings realizes only off-diagonal entries <= 0. Split A = D + P + M into its
// diagonal, positive and negative off-diagonal parts; then
//     [ D + M   -P   ] [ u ]   [  b ]
//     [  -P    D + M ] [ v ] = [ -b ]
// has the solution v = -u with A u = b, and its off-diagonals are all <= 0. Its eigenvalues are
// those of A (on vectors [w; -w]) and of D + M - P (on [w; w]), so it is positive definite
// exactly when both A and D + M - P are: true for diagonally dominant A, not for every SPD A.
// The doubled system needs 2n cells, and its conditioning is the worse of A's and D + M - P's.
//
// Every refusal on that path (too few cells for 2n, D + M - P not positive definite, the doubled
// matrix indefinite after rounding to codes, a block of a block solve) says that A was
// sign-doubled, why, and what to do instead: a board with enough cells or with signed couplings,
// or an A whose off-diagonals are <= 0.
//
// Thread contract: pure functions; safe from any thread.
#pragma once

#include <string>

#include <Eigen/Core>

namespace kelvin::runtime {

struct DoubledSystem {
  Eigen::MatrixXd matrix;  // 2N x 2N
  Eigen::VectorXd rhs;     // 2N
};

// Throws common::Error(kNotSupported) if the doubled matrix is not positive definite, naming
// the smallest eigenvalue of D + M - P and the remedies.
DoubledSystem sign_double(const Eigen::MatrixXd& A, const Eigen::VectorXd& b);

// Whether A has an off-diagonal entry > 0 (which a capacitive board cannot realize directly).
bool has_positive_off_diagonal(const Eigen::MatrixXd& A);

// The start of every refusal after sign doubling, for an A with a positive off-diagonal:
// "this board's couplings are capacitive (off-diagonals <= 0 only); A has positive
// off-diagonals (the largest, A(0, 2) = 0.25), so it is solved by sign doubling as a
// 2n = 12-unknown system".
std::string sign_doubling_context(const Eigen::MatrixXd& A);

// The remedies every such refusal ends with: "use a board with signed couplings, or make A's
// off-diagonals <= 0".
inline constexpr const char* kSignDoublingRemedy =
    "use a board with signed couplings, or make A's off-diagonals <= 0";

// Throws common::Error(kNotSupported) unless the 2n-unknown doubled system fits `cells`.
void check_sign_doubling_fits(const Eigen::MatrixXd& A, Eigen::Index cells);

// The refusal when rounding to `coupling_bits`-bit codes leaves the doubled matrix indefinite:
// names the smallest eigenvalues of A and of D + M - P relative to the largest |entry|, so the
// caller sees which half of the doubled system is ill-conditioned.
std::string sign_doubling_rounding_refusal(const Eigen::MatrixXd& A, int coupling_bits);

}  // namespace kelvin::runtime
