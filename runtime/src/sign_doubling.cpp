#include "kelvin/runtime/sign_doubling.hpp"

#include <fmt/format.h>
#include <Eigen/Cholesky>
#include <Eigen/Eigenvalues>

#include "kelvin/common/error.hpp"

namespace kelvin::runtime {

bool has_positive_off_diagonal(const Eigen::MatrixXd& A) {
  for (Eigen::Index i = 0; i < A.rows(); ++i) {
    for (Eigen::Index j = 0; j < A.cols(); ++j) {
      if (i != j && A(i, j) > 0.0)
        return true;
    }
  }
  return false;
}

DoubledSystem sign_double(const Eigen::MatrixXd& A, const Eigen::VectorXd& b) {
  const Eigen::Index n = A.rows();
  // D + M (diagonal and non-positive off-diagonals) and P (positive off-diagonals).
  Eigen::MatrixXd dm = A;
  Eigen::MatrixXd p = Eigen::MatrixXd::Zero(n, n);
  for (Eigen::Index i = 0; i < n; ++i) {
    for (Eigen::Index j = 0; j < n; ++j) {
      if (i != j && A(i, j) > 0.0) {
        p(i, j) = A(i, j);
        dm(i, j) = 0.0;
      }
    }
  }
  const Eigen::MatrixXd even = dm - p;  // acts on [w; w]
  if (Eigen::LLT<Eigen::MatrixXd>(even).info() != Eigen::Success) {
    const double smallest =
        Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(even, Eigen::EigenvaluesOnly)
            .eigenvalues()
            .minCoeff();
    throw common::Error(
        common::ErrorKind::kNotSupported,
        fmt::format("sign doubling cannot realize this matrix on a capacitive board: A with its "
                    "positive off-diagonals negated has eigenvalue {:.6g} <= 0, so the doubled "
                    "system is not positive definite (it works for diagonally dominant A)",
                    smallest));
  }
  DoubledSystem out;
  out.matrix.resize(2 * n, 2 * n);
  out.matrix << dm, -p, -p, dm;
  out.rhs.resize(2 * n);
  out.rhs << b, -b;
  return out;
}

}  // namespace kelvin::runtime
