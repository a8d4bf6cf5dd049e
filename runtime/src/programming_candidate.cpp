#include "programming_candidate.hpp"

#include <limits>

#include <Eigen/Cholesky>

#include "kelvin/common/error.hpp"

namespace kelvin::runtime::detail {

ProgrammingCandidate program_scaled(const Eigen::MatrixXd& A, const Eigen::VectorXd& b,
                                    const Eigen::VectorXd& s,
                                    const driver::DeviceDescription& board,
                                    const ScalingTargets& targets) {
  constexpr double kInfinity = std::numeric_limits<double>::infinity();
  ProgrammingCandidate c;
  c.matrix = s.asDiagonal() * A * s.asDiagonal();
  c.rhs = s.cwiseProduct(b);
  try {
    c.system = compile_system(c.matrix, c.rhs, board, targets);
  } catch (const common::Error& e) {
    if (e.kind() != common::ErrorKind::kNotSupported)
      throw;
    c.predicted_error = kInfinity;
    return c;
  }
  // The realized system solved exactly, mapped back through S, against the exact answer.
  const CompiledSystem& sys = *c.system;
  const Eigen::LLT<Eigen::MatrixXd> exact(A);
  const Eigen::LLT<Eigen::MatrixXd> realized(sys.nearest.matrix);
  if (realized.info() != Eigen::Success) {
    c.system.reset();
    c.predicted_error = kInfinity;
    return c;
  }
  if (b.norm() > 0.0) {
    const Eigen::VectorXd x = exact.solve(b);
    c.predicted_error = (s.cwiseProduct(realized.solve(sys.nearest.rhs)) - x).norm() / x.norm();
    return c;
  }
  const auto n = A.rows();
  const Eigen::MatrixXd inv = exact.solve(Eigen::MatrixXd::Identity(n, n));
  const Eigen::MatrixXd realized_inv =
      s.asDiagonal() * realized.solve(Eigen::MatrixXd::Identity(n, n)) * s.asDiagonal();
  c.predicted_error = (realized_inv - inv).norm() / inv.norm();
  return c;
}

}  // namespace kelvin::runtime::detail
