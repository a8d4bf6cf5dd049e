#include "kelvin/runtime/preconditioning.hpp"

#include <cmath>
#include <limits>

#include <fmt/format.h>
#include <Eigen/Cholesky>

#include "kelvin/common/error.hpp"

namespace kelvin::runtime {

using common::Error;
using common::ErrorKind;

namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();

// Programs S A S and S b (round to nearest), solves the realized system exactly and maps the
// answer back through S; returns its relative error against A^-1 b (A^-1 when b = 0), or +inf
// if the rounded matrix cannot be programmed.
double nearest_error(const Eigen::MatrixXd& A, const Eigen::VectorXd& b, const Eigen::VectorXd& s,
                     const driver::DeviceDescription& board, const ScalingTargets& targets) {
  const Eigen::MatrixXd scaled = s.asDiagonal() * A * s.asDiagonal();
  CompiledSystem sys;
  try {
    sys = compile_system(scaled, s.cwiseProduct(b), board, targets);
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::kNotSupported)
      return kInfinity;
    throw;
  }
  const Eigen::LLT<Eigen::MatrixXd> exact(A);
  const Eigen::LLT<Eigen::MatrixXd> realized(sys.nearest.matrix);
  if (realized.info() != Eigen::Success)
    return kInfinity;
  if (b.norm() > 0.0) {
    const Eigen::VectorXd x = exact.solve(b);
    return (s.cwiseProduct(realized.solve(sys.nearest.rhs)) - x).norm() / x.norm();
  }
  const auto n = A.rows();
  const Eigen::MatrixXd inv = exact.solve(Eigen::MatrixXd::Identity(n, n));
  const Eigen::MatrixXd realized_inv =
      s.asDiagonal() * realized.solve(Eigen::MatrixXd::Identity(n, n)) * s.asDiagonal();
  return (realized_inv - inv).norm() / inv.norm();
}

}  // namespace

double predicted_quantization_error(const Eigen::MatrixXd& A, const Eigen::VectorXd& b,
                                    const driver::DeviceDescription& board,
                                    const ScalingTargets& targets) {
  return nearest_error(A, b, Eigen::VectorXd::Ones(A.rows()), board, targets);
}

PreconditioningChoice choose_preconditioning(const Eigen::MatrixXd& A, const Eigen::VectorXd& b,
                                             const driver::DeviceDescription& board,
                                             const ScalingTargets& targets, Preconditioning mode) {
  const auto n = A.rows();
  if (!(A.diagonal().minCoeff() > 0.0)) {
    throw Error(ErrorKind::kInvalidArgument,
                "Jacobi preconditioning needs a positive diagonal (is the matrix SPD?)");
  }
  PreconditioningChoice choice;
  const Eigen::VectorXd s = A.diagonal().cwiseSqrt().cwiseInverse();
  choice.predicted_error_plain = nearest_error(A, b, Eigen::VectorXd::Ones(n), board, targets);
  choice.predicted_error_jacobi = nearest_error(A, b, s, board, targets);

  const double plain = choice.predicted_error_plain;
  const double jacobi = choice.predicted_error_jacobi;
  switch (mode) {
    case Preconditioning::kNone:
      choice.jacobi = false;
      choice.reason = "none (requested)";
      break;
    case Preconditioning::kJacobi:
      choice.jacobi = true;
      choice.reason = "Jacobi (requested)";
      break;
    case Preconditioning::kAuto:
      choice.jacobi = plain > kAutoJacobiFloor && jacobi <= 0.5 * plain;
      choice.reason =
          choice.jacobi
              ? fmt::format("Jacobi (auto: predicted quantization error {:.3g} instead of {:.3g})",
                            jacobi, plain)
              : fmt::format("none (auto: predicted quantization error {:.3g}; Jacobi {:.3g})",
                            plain, jacobi);
      break;
  }
  const double chosen = choice.jacobi ? jacobi : plain;
  if (!std::isfinite(chosen)) {
    throw Error(
        ErrorKind::kNotSupported,
        fmt::format("after rounding to {}-bit coupling codes the matrix is no longer "
                    "positive definite {}; it is too ill-conditioned for this board",
                    board.coupling.bits,
                    choice.jacobi ? "even with Jacobi scaling" : "without preconditioning"));
  }
  choice.scale = choice.jacobi ? s : Eigen::VectorXd(Eigen::VectorXd::Ones(n));
  return choice;
}

const char* to_string(Preconditioning mode) noexcept {
  switch (mode) {
    case Preconditioning::kNone:
      return "none";
    case Preconditioning::kJacobi:
      return "jacobi";
    case Preconditioning::kAuto:
      return "auto";
  }
  return "?";
}

}  // namespace kelvin::runtime
