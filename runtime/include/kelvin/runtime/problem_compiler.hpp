// The one place where a linear problem (A, b) becomes a board's codes. Every resonator job (solve,
// the blocks of a block solve, inverse, log-det, natural gradient) calls compile_problem() once,
// which in order:
//   1. checks the input: A square, non-empty, finite, symmetric within symmetry_tolerance,
//      positive definite; b finite and of A's size (kInvalidArgument naming the defect);
//   2. checks the size against the board's cells (kNotSupported naming both) before anything
//      else can fail for a reason that is not the real one;
//   3. on a board with capacitive couplings and an A with positive off-diagonals, sign-doubles
//      the system into 2n cells (sign_doubling.hpp) or refuses (kNotSupported, naming the entry
//      and why this job cannot use the doubling);
//   4. decides plain or Jacobi programming (preconditioning.hpp): kNone and kJacobi compile one
//      way, kAuto compiles both ways to predict their quantization errors and keeps the better;
//   5. keeps that compiled system (scales, round-to-nearest codes, spectrum; problem_scaling.hpp)
//      for the job to program, so no job compiles the same problem twice.
// Randomized rounding draws fresh codes from CompiledProblem::codes (round_randomly), and a job
// that must change its targets (a range retry after clipping) calls recompile().
//
// Thread contract: pure functions, safe from any thread.
#pragma once

#include <string>

#include <Eigen/Core>

#include "kelvin/driver/device_description.hpp"
#include "kelvin/runtime/preconditioning.hpp"
#include "kelvin/runtime/problem_scaling.hpp"

namespace kelvin::runtime {

// Relative tolerance of the symmetry check, |A_ij - A_ji| <= tol * max|A|, for every job's
// options. 1e-10 accepts matrices symmetrized in floating point and refuses real asymmetry.
inline constexpr double kDefaultSymmetryTolerance = 1e-10;

// What to do with positive off-diagonal entries on a board with capacitive couplings.
enum class CapacitivePolicy {
  kSignDouble,  // compile the 2n sign-doubled system, whose first half solves A x = b
  kRefuse,      // refuse with kNotSupported (jobs whose answer the doubling would change)
};

struct ProblemOptions {
  ScalingTargets targets;  // mean_fraction and noise_sigmas (problem_scaling.hpp)
  Preconditioning preconditioning = Preconditioning::kAuto;
  double symmetry_tolerance = kDefaultSymmetryTolerance;
  CapacitivePolicy capacitive = CapacitivePolicy::kSignDouble;
  // With kRefuse: why this job cannot sign-double, for the error message.
  std::string capacitive_reason;
};

struct CompiledProblem {
  Eigen::Index unknowns = 0;  // n, the caller's unknowns
  bool sign_doubled = false;  // the board works on the 2n sign-doubled system
  // M: the system before preconditioning, A or its sign-doubled version (user units).
  Eigen::MatrixXd system_matrix;
  Eigen::VectorXd system_rhs;
  // What the board is programmed with, in user units: S M S and S c (S = I without Jacobi).
  Eigen::MatrixXd matrix;
  Eigen::VectorXd rhs;
  // The choice (jacobi, S, predicted quantization errors, reason) and the mode asked for.
  PreconditioningChoice preconditioning;
  Preconditioning preconditioning_given = Preconditioning::kAuto;
  // The compiled system of (matrix, rhs): scales, round-to-nearest codes, spectrum.
  CompiledSystem codes;

  Eigen::Index board_unknowns() const noexcept { return matrix.rows(); }
  // A board-space vector y (board_unknowns() entries) in the caller's units: (S y), first n.
  Eigen::VectorXd to_user(const Eigen::VectorXd& y) const;
};

// Throws common::Error: kInvalidArgument for bad input or options, kNotSupported when the problem
// does not fit the board (too many unknowns, positive off-diagonals on a capacitive board under
// kRefuse or too large to double, a matrix that rounding to codes makes indefinite).
CompiledProblem compile_problem(const Eigen::MatrixXd& A, const Eigen::VectorXd& b,
                                const driver::DeviceDescription& board,
                                const ProblemOptions& options = {});

// Compiles the same (matrix, rhs) again with new scaling targets (the transform and the
// preconditioning choice stay).
void recompile(CompiledProblem& problem, const driver::DeviceDescription& board,
               const ScalingTargets& targets);

}  // namespace kelvin::runtime
