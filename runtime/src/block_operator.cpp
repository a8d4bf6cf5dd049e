#include "block_operator.hpp"

#include <cstring>
#include <memory>

#include <fmt/format.h>

#include "kelvin/common/error.hpp"
#include "kelvin/runtime/energy.hpp"
#include "kelvin/runtime/system_checks.hpp"

namespace kelvin::runtime::detail {

using common::Error;
using common::ErrorKind;

void check_system(const Eigen::MatrixXd& a, const Eigen::VectorXd& b, double tolerance) {
  check_symmetric_system(a, b, tolerance);
}
void check_system(const Eigen::SparseMatrix<double>& a, const Eigen::VectorXd& b,
                  double tolerance) {
  check_symmetric_system(a, b, tolerance);
}
void check_system(const DampedGgn& a, const Eigen::VectorXd& b, double) {
  if (b.size() != a.rows()) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("the gradient has {} entries but the curvature has {} parameters",
                            b.size(), a.rows()));
  }
  if (!b.allFinite())
    throw Error(ErrorKind::kInvalidArgument, "the gradient has a non-finite entry");
}

Eigen::MatrixXd diagonal_block(const Eigen::MatrixXd& a, Eigen::Index start, Eigen::Index size) {
  return a.block(start, start, size, size);
}
Eigen::MatrixXd diagonal_block(const Eigen::SparseMatrix<double>& a, Eigen::Index start,
                               Eigen::Index size) {
  return Eigen::MatrixXd(a.block(start, start, size, size));
}
Eigen::MatrixXd diagonal_block(const DampedGgn& a, Eigen::Index start, Eigen::Index size) {
  return a.diagonal_block(start, size);
}

RowProduct::RowProduct(const Eigen::MatrixXd& a, Eigen::Index start, Eigen::Index size)
    : product_([&a, start, size](const Eigen::VectorXd& p) -> Eigen::VectorXd {
        return a.middleRows(start, size) * p;
      }) {}
RowProduct::RowProduct(const Eigen::SparseMatrix<double>& a, Eigen::Index start,
                       Eigen::Index size) {
  auto rows = std::make_shared<const Eigen::SparseMatrix<double, Eigen::RowMajor>>(
      a.middleRows(start, size));
  product_ = [rows](const Eigen::VectorXd& p) -> Eigen::VectorXd { return *rows * p; };
}
RowProduct::RowProduct(const DampedGgn& a, Eigen::Index start, Eigen::Index size)
    : product_([&a, start, size](const Eigen::VectorXd& p) -> Eigen::VectorXd {
        return (a * p).segment(start, size);
      }) {}

namespace {

// FNV-1a over 64-bit words (a word at a time, with a shift to mix the high bits down).
class Hash {
 public:
  void add(std::uint64_t word) {
    h_ ^= word;
    h_ *= 0x100000001b3ULL;
    h_ ^= h_ >> 29;
  }
  void add(double value) {
    std::uint64_t bits = 0;
    std::memcpy(&bits, &value, sizeof bits);
    add(bits);
  }
  void add(const double* values, Eigen::Index n) {
    for (Eigen::Index i = 0; i < n; ++i)
      add(values[i]);
  }
  std::uint64_t value() const noexcept { return h_; }

 private:
  std::uint64_t h_ = 0xcbf29ce484222325ULL;
};

}  // namespace

std::uint64_t fingerprint(const Eigen::MatrixXd& a) {
  Hash h;
  h.add(static_cast<std::uint64_t>(a.rows()));
  h.add(static_cast<std::uint64_t>(a.cols()));
  h.add(a.data(), a.size());
  return h.value();
}
std::uint64_t fingerprint(const Eigen::SparseMatrix<double>& a) {
  Hash h;
  h.add(static_cast<std::uint64_t>(a.rows()));
  h.add(static_cast<std::uint64_t>(a.cols()));
  for (Eigen::Index j = 0; j < a.outerSize(); ++j) {
    for (Eigen::SparseMatrix<double>::InnerIterator it(a, j); it; ++it) {
      h.add(static_cast<std::uint64_t>(it.index()) << 32 | static_cast<std::uint64_t>(j));
      h.add(it.value());
    }
  }
  return h.value();
}
std::uint64_t fingerprint(const DampedGgn& a) {
  Hash h;
  h.add(static_cast<std::uint64_t>(a.rows()));
  h.add(static_cast<std::uint64_t>(a.outputs()));
  h.add(a.damping());
  const Eigen::VectorXd probe = Eigen::VectorXd::LinSpaced(a.cols(), 1.0, 2.0);
  const Eigen::VectorXd product = a * probe;
  h.add(product.data(), product.size());
  return h.value();
}
std::uint64_t fingerprint(const Eigen::VectorXd& v) {
  Hash h;
  h.add(static_cast<std::uint64_t>(v.size()));
  h.add(v.data(), v.size());
  return h.value();
}

double matvec_flops(const Eigen::MatrixXd& a) {
  return 2.0 * static_cast<double>(a.rows()) * static_cast<double>(a.cols());
}
double matvec_flops(const Eigen::SparseMatrix<double>& a) {
  return 2.0 * static_cast<double>(a.nonZeros());
}
double matvec_flops(const DampedGgn& a) {
  return a.product_flops();
}

double gpu_flops(const Eigen::MatrixXd& a, double, int) {
  return flops::cholesky_solve(static_cast<double>(a.rows()));
}
double gpu_flops(const Eigen::SparseMatrix<double>& a, double block, int iterations) {
  const double n = static_cast<double>(a.rows());
  return n * block * block / 3.0 +
         iterations * (2.0 * matvec_flops(a) + 2.0 * n * block + 10.0 * n);
}
double gpu_flops(const DampedGgn& a, double, int) {
  const double n = static_cast<double>(a.rows());
  const double m = static_cast<double>(a.outputs());
  return 2.0 * m * n * n + 2.0 * m * m * n + flops::cholesky_solve(n);
}

}  // namespace kelvin::runtime::detail
