// Input validation for linear systems: every defect gets an error that names it (sizes, the
// first non-finite entry, the worst asymmetric pair, loss of positive definiteness).
//
// Symmetry. Every resonator job (solve, inverse, log-det, natural gradient, the damped GGN of a
// block solve) has the same option, symmetry_tolerance (default kDefaultSymmetryTolerance =
// 1e-10, allowed [0, kMaxSymmetryTolerance]; kelvin's --symmetry-tolerance): a matrix passes
// when its relative asymmetry max|A_ij - A_ji| / max|A| is at most the tolerance. A refusal
// names the worst pair, the asymmetry found, the tolerance and the option that raises it.
//
// Thread contract: pure functions, safe from any thread.
#pragma once

#include <string_view>

#include <Eigen/Core>
#include <Eigen/SparseCore>

namespace kelvin::runtime {

// The largest symmetry_tolerance a job accepts. Rounding leaves far less (float64 data about
// 1e-16, float32 data about 1e-7 relative); an asymmetry above 1e-4 of the largest entry is
// several steps of a 16-bit coupling DAC (2^-15 of the largest entry) and so no longer rounding
// noise: the caller should decide how to symmetrize such a matrix.
inline constexpr double kMaxSymmetryTolerance = 1e-4;

// max |M_ij - M_ji| / max |M| of a square M (0 for an all-zero M; NaN entries give NaN).
double relative_asymmetry(const Eigen::MatrixXd& M);

// Checks that the square, finite M is symmetric within symmetry_tolerance; throws
// common::Error(kInvalidArgument) naming the worst pair as `symbol`(i,j), the relative asymmetry,
// the tolerance and how to raise it. `subject` starts the message ("the matrix", "H").
void check_symmetric(const Eigen::MatrixXd& M, double symmetry_tolerance,
                     std::string_view symbol = "A", std::string_view subject = "the matrix");

// Checks that A is square, non-empty, finite and symmetric (as check_symmetric) and that b is
// finite with A's size. Throws common::Error(kInvalidArgument).
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
