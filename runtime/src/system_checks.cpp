#include "kelvin/runtime/system_checks.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <string_view>
#include <utility>

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

// The smallest of 1, 2 and 5 x 10^k at or above x > 0.
double nice_ceiling(double x) {
  // The decade from log10, which may be one off either way for x near a power of ten.
  double decade = std::pow(10.0, std::floor(std::log10(x)) - 1.0);
  for (;; decade *= 10.0) {
    for (const double m : {1.0, 2.0, 5.0}) {
      if (m * decade >= x)
        return m * decade;
    }
  }
}

// The refusal of an asymmetric matrix: the worst pair (i, j), the relative asymmetry found, the
// tolerance, and what to do (raise the option when the asymmetry can be rounding, else
// symmetrize).
[[noreturn]] void refuse_asymmetry(std::string_view symbol, std::string_view subject,
                                   Eigen::Index i, Eigen::Index j, double mij, double mji,
                                   double relative, double tolerance) {
  if (i > j) {  // name the pair upper triangle first
    std::swap(i, j);
    std::swap(mij, mji);
  }
  const std::string what =
      relative <= kMaxSymmetryTolerance
          ? fmt::format(
                "if that is rounding (float32 data leaves about 1e-7), raise "
                "symmetry_tolerance to {0:g} or more (the job's Options field; kelvin: "
                "--symmetry-tolerance {0:g})",
                std::min(nice_ceiling(relative), kMaxSymmetryTolerance))
          : fmt::format(
                "that is more than rounding (symmetry_tolerance is at most {:g}), so "
                "symmetrize {} before passing it, for example as ({} + {}^T) / 2",
                kMaxSymmetryTolerance, symbol, symbol, symbol);
  throw Error(ErrorKind::kInvalidArgument,
              fmt::format("{0} is not symmetric: {1}({2},{3}) = {4:.17g} but {1}({3},{2}) = "
                          "{5:.17g}, a relative asymmetry |{1}({2},{3}) - {1}({3},{2})| / max|{1}| "
                          "= {6:.3g} above symmetry_tolerance = {7:g}; {8}",
                          subject, symbol, i, j, mij, mji, relative, tolerance, what));
}

}  // namespace

double relative_asymmetry(const Eigen::MatrixXd& M) {
  if (M.size() == 0)
    return 0.0;
  const double scale = M.cwiseAbs().maxCoeff();
  if (scale == 0.0)
    return 0.0;
  return (M - M.transpose()).cwiseAbs().maxCoeff() / scale;
}

void check_symmetric(const Eigen::MatrixXd& M, double symmetry_tolerance, std::string_view symbol,
                     std::string_view subject) {
  if (M.rows() != M.cols()) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("{} is {}x{}, not square", subject, M.rows(), M.cols()));
  }
  if (M.size() == 0)
    return;
  const double scale = M.cwiseAbs().maxCoeff();
  Eigen::Index wi = 0;
  Eigen::Index wj = 0;
  const double worst = (M - M.transpose()).cwiseAbs().maxCoeff(&wi, &wj);
  if (worst > symmetry_tolerance * scale) {
    refuse_asymmetry(symbol, subject, wi, wj, M(wi, wj), M(wj, wi), worst / scale,
                     symmetry_tolerance);
  }
}

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
  if (A.cwiseAbs().maxCoeff() == 0.0)
    throw Error(ErrorKind::kInvalidArgument, "the matrix is all zeros");
  check_symmetric(A, symmetry_tolerance);
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
  // The worst pair, as for a dense A.
  const Eigen::SparseMatrix<double> asym = A - Eigen::SparseMatrix<double>(A.transpose());
  double worst = 0.0;
  Eigen::Index wi = 0;
  Eigen::Index wj = 0;
  for (Eigen::Index j = 0; j < asym.outerSize(); ++j) {
    for (Eigen::SparseMatrix<double>::InnerIterator it(asym, j); it; ++it) {
      if (std::abs(it.value()) > worst) {
        worst = std::abs(it.value());
        wi = it.row();
        wj = it.col();
      }
    }
  }
  if (worst > symmetry_tolerance * scale) {
    refuse_asymmetry("A", "the matrix", wi, wj, A.coeff(wi, wj), A.coeff(wj, wi), worst / scale,
                     symmetry_tolerance);
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
