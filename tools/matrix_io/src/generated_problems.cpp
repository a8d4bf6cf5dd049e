#include "kelvin/tools/matrix_io/generated_problems.hpp"

#include <cmath>
#include <stdexcept>
#include <vector>

namespace kelvin::tools::matrix_io {

Eigen::SparseMatrix<double> laplacian_2d(Eigen::Index n, double shift) {
  if (n < 1)
    throw std::invalid_argument("laplacian_2d: n must be at least 1");
  if (!std::isfinite(shift) || !(shift > 0.0))
    throw std::invalid_argument("laplacian_2d: shift must be finite and > 0");
  const auto w = static_cast<Eigen::Index>(std::ceil(std::sqrt(static_cast<double>(n))));
  std::vector<Eigen::Triplet<double>> t;
  t.reserve(static_cast<std::size_t>(5 * n));
  for (Eigen::Index i = 0; i < n; ++i) {
    t.emplace_back(i, i, 4.0 + shift);
    if ((i + 1) % w != 0 && i + 1 < n) {
      t.emplace_back(i, i + 1, -1.0);
      t.emplace_back(i + 1, i, -1.0);
    }
    if (i + w < n) {
      t.emplace_back(i, i + w, -1.0);
      t.emplace_back(i + w, i, -1.0);
    }
  }
  Eigen::SparseMatrix<double> a(n, n);
  a.setFromTriplets(t.begin(), t.end());
  return a;
}

Eigen::VectorXd laplacian_rhs(Eigen::Index n) {
  return Eigen::VectorXd::NullaryExpr(
      n, [](Eigen::Index i) { return 1.0 + 0.5 * std::sin(static_cast<double>(i)); });
}

}  // namespace kelvin::tools::matrix_io
