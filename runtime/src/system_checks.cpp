#include "kelvin/runtime/system_checks.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <Eigen/Cholesky>
#include <Eigen/Eigenvalues>

#include "kelvin/common/error.hpp"

namespace kelvin::runtime {

using common::Error;
using common::ErrorKind;

namespace {

// A square, non-empty matrix and a right-hand side of its size.
void check_shapes(Eigen::Index rows, Eigen::Index cols, const Eigen::VectorXd& b) {
  if (rows == 0 || cols == 0)
    throw Error(ErrorKind::kInvalidArgument, "the matrix is empty");
  if (rows != cols)
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("the matrix is {}x{}, not square", rows, cols));
  if (b.size() != rows) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("the right-hand side has {} entries but the matrix is {}x{}", b.size(),
                            rows, cols));
  }
}

}  // namespace

void check_symmetric_system(const Eigen::MatrixXd& A, const Eigen::VectorXd& b,
                            double symmetry_tolerance) {
  check_shapes(A.rows(), A.cols(), b);
  for (Eigen::Index j = 0; j < A.cols(); ++j) {
    for (Eigen::Index i = 0; i < A.rows(); ++i) {
      if (!std::isfinite(A(i, j))) {
        throw Error(ErrorKind::kInvalidArgument,
                    fmt::format("matrix entry ({}, {}) is {}", i, j, A(i, j)));
      }
    }
  }
  for (Eigen::Index i = 0; i < b.size(); ++i) {
    if (!std::isfinite(b(i))) {
      throw Error(ErrorKind::kInvalidArgument,
                  fmt::format("right-hand side entry {} is {}", i, b(i)));
    }
  }
  const double scale = A.cwiseAbs().maxCoeff();
  if (scale == 0.0)
    throw Error(ErrorKind::kInvalidArgument, "the matrix is all zeros");
  Eigen::Index wi = 0;
  Eigen::Index wj = 0;
  const double worst = (A - A.transpose()).cwiseAbs().maxCoeff(&wi, &wj);
  if (worst > symmetry_tolerance * scale) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("the matrix is not symmetric: A({0},{1}) = {2:.17g} but A({1},{0}) = "
                            "{3:.17g}",
                            wi, wj, A(wi, wj), A(wj, wi)));
  }
}

void check_symmetric_system(const Eigen::SparseMatrix<double>& A, const Eigen::VectorXd& b,
                            double symmetry_tolerance) {
  check_shapes(A.rows(), A.cols(), b);
  double scale = 0.0;
  for (Eigen::Index j = 0; j < A.outerSize(); ++j) {
    for (Eigen::SparseMatrix<double>::InnerIterator it(A, j); it; ++it) {
      if (!std::isfinite(it.value())) {
        throw Error(ErrorKind::kInvalidArgument,
                    fmt::format("matrix entry ({}, {}) is {}", it.row(), it.col(), it.value()));
      }
      scale = std::max(scale, std::abs(it.value()));
    }
  }
  for (Eigen::Index i = 0; i < b.size(); ++i) {
    if (!std::isfinite(b(i))) {
      throw Error(ErrorKind::kInvalidArgument,
                  fmt::format("right-hand side entry {} is {}", i, b(i)));
    }
  }
  if (scale == 0.0)
    throw Error(ErrorKind::kInvalidArgument, "the matrix is all zeros");
  const Eigen::SparseMatrix<double> asym = A - Eigen::SparseMatrix<double>(A.transpose());
  for (Eigen::Index j = 0; j < asym.outerSize(); ++j) {
    for (Eigen::SparseMatrix<double>::InnerIterator it(asym, j); it; ++it) {
      if (std::abs(it.value()) > symmetry_tolerance * scale) {
        throw Error(ErrorKind::kInvalidArgument,
                    fmt::format("the matrix is not symmetric: A({0},{1}) = {2:.17g} but A({1},{0}) "
                                "= {3:.17g}",
                                it.row(), it.col(), A.coeff(it.row(), it.col()),
                                A.coeff(it.col(), it.row())));
      }
    }
  }
}

void check_positive_definite(const Eigen::MatrixXd& A) {
  Eigen::LLT<Eigen::MatrixXd> llt(A);
  if (llt.info() == Eigen::Success)
    return;
  // Only on failure: the smallest eigenvalue tells the user how far from definite A is.
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(A, Eigen::EigenvaluesOnly);
  throw Error(ErrorKind::kInvalidArgument,
              fmt::format("the matrix is not positive definite (smallest eigenvalue {:.6g})",
                          eig.eigenvalues()(0)));
}

void check_capacitive_realizable(const Eigen::MatrixXd& A) {
  Eigen::Index worst_i = -1, worst_j = -1;
  double worst = 0.0;
  for (Eigen::Index i = 0; i < A.rows(); ++i) {
    for (Eigen::Index j = i + 1; j < A.cols(); ++j) {
      if (A(i, j) > worst) {
        worst = A(i, j);
        worst_i = i;
        worst_j = j;
      }
    }
  }
  if (worst_i >= 0) {
    throw common::Error(
        common::ErrorKind::kNotSupported,
        fmt::format("the board's couplings are capacitive (off-diagonal entries <= 0 only), but "
                    "A({}, {}) = {:g} is positive; solve() handles this by sign doubling, this "
                    "job does not yet, so use a board with signed couplings",
                    worst_i, worst_j, worst));
  }
}

}  // namespace kelvin::runtime
