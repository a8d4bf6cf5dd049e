#include "kelvin/runtime/sign_doubling.hpp"

#include <fmt/format.h>
#include <Eigen/Cholesky>
#include <Eigen/Eigenvalues>

#include "kelvin/common/error.hpp"

namespace kelvin::runtime {
namespace {

// D + M (diagonal and non-positive off-diagonals) and P (positive off-diagonals).
struct SignSplit {
  Eigen::MatrixXd dm;
  Eigen::MatrixXd p;
};
SignSplit split_signs(const Eigen::MatrixXd& A) {
  const Eigen::Index n = A.rows();
  SignSplit s{A, Eigen::MatrixXd::Zero(n, n)};
  for (Eigen::Index i = 0; i < n; ++i) {
    for (Eigen::Index j = 0; j < n; ++j) {
      if (i != j && A(i, j) > 0.0) {
        s.p(i, j) = A(i, j);
        s.dm(i, j) = 0.0;
      }
    }
  }
  return s;
}

double smallest_eigenvalue(const Eigen::MatrixXd& m) {
  return Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(m, Eigen::EigenvaluesOnly)
      .eigenvalues()
      .minCoeff();
}

}  // namespace

bool has_positive_off_diagonal(const Eigen::MatrixXd& A) {
  for (Eigen::Index i = 0; i < A.rows(); ++i) {
    for (Eigen::Index j = 0; j < A.cols(); ++j) {
      if (i != j && A(i, j) > 0.0)
        return true;
    }
  }
  return false;
}

std::string sign_doubling_context(const Eigen::MatrixXd& A) {
  Eigen::Index bi = 0;
  Eigen::Index bj = 0;
  double largest = 0.0;
  for (Eigen::Index i = 0; i < A.rows(); ++i) {
    for (Eigen::Index j = i + 1; j < A.cols(); ++j) {
      if (A(i, j) > largest) {
        largest = A(i, j);
        bi = i;
        bj = j;
      }
    }
  }
  return fmt::format(
      "this board's couplings are capacitive (off-diagonals <= 0 only); A has positive "
      "off-diagonals (the largest, A({}, {}) = {:g}), so it is solved by sign doubling as a "
      "2n = {}-unknown system",
      bi, bj, largest, 2 * A.rows());
}

void check_sign_doubling_fits(const Eigen::MatrixXd& A, Eigen::Index cells) {
  const Eigen::Index needed = 2 * A.rows();
  if (needed <= cells)
    return;
  throw common::Error(common::ErrorKind::kNotSupported,
                      fmt::format("{}, which needs {} cells but the board has {}: use a board "
                                  "with >= {} cells or with signed couplings, or make A's "
                                  "off-diagonals <= 0",
                                  sign_doubling_context(A), needed, cells, needed));
}

std::string sign_doubling_rounding_refusal(const Eigen::MatrixXd& A, int coupling_bits) {
  const SignSplit s = split_signs(A);
  const double largest = A.cwiseAbs().maxCoeff();
  return fmt::format(
      "{}, and after rounding to {}-bit coupling codes its 2n x 2n matrix is no longer positive "
      "definite: its eigenvalues are A's (smallest {:.3g} of the largest |entry|) and those of A "
      "with its positive off-diagonals negated (smallest {:.3g}), too close to 0 for this "
      "board's resolution; {}",
      sign_doubling_context(A), coupling_bits, smallest_eigenvalue(A) / largest,
      smallest_eigenvalue(s.dm - s.p) / largest, kSignDoublingRemedy);
}

DoubledSystem sign_double(const Eigen::MatrixXd& A, const Eigen::VectorXd& b) {
  const Eigen::Index n = A.rows();
  const SignSplit s = split_signs(A);
  const Eigen::MatrixXd even = s.dm - s.p;  // acts on [w; w]
  if (Eigen::LLT<Eigen::MatrixXd>(even).info() != Eigen::Success) {
    throw common::Error(
        common::ErrorKind::kNotSupported,
        fmt::format(
            "{}, which is not positive definite: its eigenvalues are A's and those of A "
            "with its positive off-diagonals negated, whose smallest is {:.6g} <= 0 "
            "(sign doubling works for diagonally dominant A: sum over j != i of |A_ij| < A_ii); "
            "use a board with signed couplings, or make A diagonally dominant or its "
            "off-diagonals <= 0",
            sign_doubling_context(A), smallest_eigenvalue(even)));
  }
  DoubledSystem out;
  out.matrix.resize(2 * n, 2 * n);
  out.matrix << s.dm, -s.p, -s.p, s.dm;
  out.rhs.resize(2 * n);
  out.rhs << b, -b;
  return out;
}

}  // namespace kelvin::runtime
