#include "kelvin/runtime/problem_compiler.hpp"

#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "kelvin/common/error.hpp"
#include "kelvin/runtime/sign_doubling.hpp"
#include "kelvin/runtime/system_checks.hpp"
#include "programming_candidate.hpp"

namespace kelvin::runtime {

using common::Error;
using common::ErrorKind;

namespace {

bool capacitive(const driver::DeviceDescription& board) {
  return board.resonator && board.resonator->coupling_kind == driver::CouplingKind::kCapacitive;
}

// The largest positive off-diagonal entry (i < j), if any.
struct Positive {
  Eigen::Index i = -1;
  Eigen::Index j = -1;
  double value = 0.0;
};
Positive largest_positive_off_diagonal(const Eigen::MatrixXd& A) {
  Positive p;
  for (Eigen::Index i = 0; i < A.rows(); ++i) {
    for (Eigen::Index j = i + 1; j < A.cols(); ++j) {
      if (A(i, j) > p.value)
        p = {i, j, A(i, j)};
    }
  }
  return p;
}

std::string choice_reason(Preconditioning mode, bool jacobi, double plain, double with_jacobi) {
  switch (mode) {
    case Preconditioning::kNone:
      return "none (requested)";
    case Preconditioning::kJacobi:
      return "Jacobi (requested)";
    case Preconditioning::kAuto:
      break;
  }
  return jacobi
             ? fmt::format("Jacobi (auto: predicted quantization error {:.3g} instead of {:.3g})",
                           with_jacobi, plain)
             : fmt::format("none (auto: predicted quantization error {:.3g}; Jacobi {:.3g})", plain,
                           with_jacobi);
}

}  // namespace

Eigen::VectorXd CompiledProblem::to_user(const Eigen::VectorXd& y) const {
  return preconditioning.scale.cwiseProduct(y).head(unknowns);
}

CompiledProblem compile_problem(const Eigen::MatrixXd& A, const Eigen::VectorXd& b,
                                const driver::DeviceDescription& board,
                                const ProblemOptions& options) {
  if (!(options.symmetry_tolerance >= 0.0) || !std::isfinite(options.symmetry_tolerance)) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("symmetry_tolerance = {} (finite, >= 0)", options.symmetry_tolerance));
  }
  check_symmetric_system(A, b, options.symmetry_tolerance);
  // Within the tolerance the board gets the symmetric part (bit for bit A when A is symmetric),
  // as the natural gradient does, rather than whichever triangle the coupling layout reads.
  const Eigen::MatrixXd S = 0.5 * (A + A.transpose());
  try {
    check_positive_definite(S);
  } catch (const Error& e) {
    Eigen::Index i = 0;
    const double smallest = S.diagonal().minCoeff(&i);
    if (options.preconditioning == Preconditioning::kNone || smallest > 0.0)
      throw;
    throw Error(e.kind(), fmt::format("{}; A({}, {}) = {:g}, and Jacobi preconditioning needs a "
                                      "positive diagonal",
                                      e.what(), i, i, smallest));
  }
  const Eigen::Index n = S.rows();
  const auto cells = static_cast<Eigen::Index>(board.cells);

  CompiledProblem p;
  p.unknowns = n;
  p.preconditioning_given = options.preconditioning;
  const Positive positive = largest_positive_off_diagonal(S);
  if (capacitive(board) && positive.i >= 0) {
    if (options.capacitive == CapacitivePolicy::kRefuse) {
      throw Error(
          ErrorKind::kNotSupported,
          fmt::format("this board's couplings are capacitive (off-diagonals <= 0 only), but "
                      "A({}, {}) = {:g} is positive; solve() would sign-double A into a "
                      "2n = {}-unknown system{}; {}",
                      positive.i, positive.j, positive.value, 2 * n,
                      options.capacitive_reason.empty() ? std::string()
                                                        : ", but " + options.capacitive_reason,
                      kSignDoublingRemedy));
    }
    check_sign_doubling_fits(S, cells);
    // The board solves the 2n doubled system; the first half of its solution is x.
    DoubledSystem doubled = sign_double(S, b);
    p.sign_doubled = true;
    p.system_matrix = std::move(doubled.matrix);
    p.system_rhs = std::move(doubled.rhs);
  } else {
    if (n > cells) {
      throw Error(ErrorKind::kNotSupported,
                  fmt::format("the system has {} unknowns but the board has {} cells", n, cells));
    }
    p.system_matrix = S;
    p.system_rhs = b;
  }

  const Eigen::MatrixXd& m = p.system_matrix;
  const Eigen::Index board_n = m.rows();
  const Preconditioning mode = options.preconditioning;
  constexpr double kNotComputed = std::numeric_limits<double>::quiet_NaN();
  std::optional<detail::ProgrammingCandidate> plain;
  std::optional<detail::ProgrammingCandidate> jacobi;
  if (mode != Preconditioning::kJacobi) {
    plain = detail::program_scaled(m, p.system_rhs, Eigen::VectorXd::Ones(board_n), board,
                                   options.targets);
  }
  if (mode != Preconditioning::kNone) {
    jacobi = detail::program_scaled(m, p.system_rhs, m.diagonal().cwiseSqrt().cwiseInverse(), board,
                                    options.targets);
  }
  PreconditioningChoice& choice = p.preconditioning;
  choice.predicted_error_plain = plain ? plain->predicted_error : kNotComputed;
  choice.predicted_error_jacobi = jacobi ? jacobi->predicted_error : kNotComputed;
  switch (mode) {
    case Preconditioning::kNone:
      choice.jacobi = false;
      break;
    case Preconditioning::kJacobi:
      choice.jacobi = true;
      break;
    case Preconditioning::kAuto:
      choice.jacobi = plain->predicted_error > kAutoJacobiFloor &&
                      (jacobi->predicted_error <= 0.5 * plain->predicted_error ||
                       (plain->predicted_error >= kQuantizationWarning &&
                        jacobi->predicted_error < plain->predicted_error));
      break;
  }
  choice.reason = choice_reason(mode, choice.jacobi, choice.predicted_error_plain,
                                choice.predicted_error_jacobi);
  detail::ProgrammingCandidate& chosen = choice.jacobi ? *jacobi : *plain;
  if ((!std::isfinite(chosen.predicted_error) || !chosen.system) && p.sign_doubled) {
    throw Error(ErrorKind::kNotSupported, sign_doubling_rounding_refusal(S, board.coupling.bits));
  }
  if (!std::isfinite(chosen.predicted_error) || !chosen.system) {
    throw Error(
        ErrorKind::kNotSupported,
        fmt::format("after rounding to {}-bit coupling codes the matrix is no longer "
                    "positive definite {}; it is too ill-conditioned for this board",
                    board.coupling.bits,
                    choice.jacobi ? "even with Jacobi scaling" : "without preconditioning"));
  }
  choice.scale = choice.jacobi ? Eigen::VectorXd(m.diagonal().cwiseSqrt().cwiseInverse())
                               : Eigen::VectorXd(Eigen::VectorXd::Ones(board_n));
  p.matrix = std::move(chosen.matrix);
  p.rhs = std::move(chosen.rhs);
  p.codes = std::move(*chosen.system);
  return p;
}

void recompile(CompiledProblem& problem, const driver::DeviceDescription& board,
               const ScalingTargets& targets) {
  problem.codes = compile_system(problem.matrix, problem.rhs, board, targets);
}

}  // namespace kelvin::runtime
