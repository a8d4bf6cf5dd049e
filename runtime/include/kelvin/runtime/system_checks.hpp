// Input validation for linear systems: every defect gets an error that names it (sizes, the
// first non-finite entry, the worst asymmetric pair, loss of positive definiteness).
//
// Thread contract: pure functions, safe from any thread.
#pragma once

#include <Eigen/Core>
#include <Eigen/SparseCore>

namespace kelvin::runtime {

// Checks that A is square, non-empty, finite and symmetric (|A_ij - A_ji| <= tol * max|A|) and
// that b is finite with A's size. Throws common::Error(kInvalidArgument).
void check_symmetric_system(const Eigen::MatrixXd& A, const Eigen::VectorXd& b,
                            double symmetry_tolerance);
// The same checks for a sparse A (stored entries only; an entry missing on one side of the
// diagonal counts as 0 there).
void check_symmetric_system(const Eigen::SparseMatrix<double>& A, const Eigen::VectorXd& b,
                            double symmetry_tolerance);

// Checks positive definiteness through a Cholesky factorization; throws
// common::Error(kInvalidArgument) naming the smallest eigenvalue if A is not positive definite.
void check_positive_definite(const Eigen::MatrixXd& A);

// Checks that a board whose couplings are capacitive can realize A: every off-diagonal entry
// must be <= 0. Throws common::Error(kNotSupported) naming the largest positive entry otherwise.
// (solve() sign-doubles such matrices instead; see sign_doubling.hpp.)
void check_capacitive_realizable(const Eigen::MatrixXd& A);

}  // namespace kelvin::runtime
