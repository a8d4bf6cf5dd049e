// The vectorized linear step (linear_kernel.hpp) against the row-by-row scalar loop it replaced:
// the same bits for every row, with dense, lower-triangular and diagonal noise factors, padded
// last groups, rails on some rows only and a NaN passing through.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include <Eigen/Core>

#include "kelvin/sim_backend/linear_kernel.hpp"

namespace kelvin::sim_backend {
namespace {

enum class Shape { kDense, kLower, kDiagonal };

Eigen::MatrixXd random_matrix(Eigen::Index n, Shape shape, std::mt19937_64& rng) {
  std::normal_distribution<double> normal;
  Eigen::MatrixXd m(n, n);
  for (Eigen::Index i = 0; i < n; ++i) {
    for (Eigen::Index j = 0; j < n; ++j) {
      const bool zero = (shape == Shape::kLower && j > i) || (shape == Shape::kDiagonal && j != i);
      m(i, j) = zero ? 0.0 : normal(rng);
    }
  }
  return m;
}

// The scalar loop of the board spec: each sum from column 0, from 0.0; Phi z + c, then L xi;
// std::clamp on the first `clamped` rows.
std::vector<double> reference(const Eigen::MatrixXd& phi, const Eigen::MatrixXd* factor,
                              const std::vector<double>& offset, std::size_t clamped, double rail,
                              const std::vector<double>& z, const std::vector<double>& xi) {
  const auto n = static_cast<std::size_t>(phi.rows());
  std::vector<double> next(n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto r = static_cast<Eigen::Index>(i);
    double drift = 0.0;
    for (std::size_t j = 0; j < n; ++j)
      drift += phi(r, static_cast<Eigen::Index>(j)) * z[j];
    double value = drift + offset[i];
    if (factor != nullptr) {
      double kick = 0.0;
      for (std::size_t j = 0; j < n; ++j)
        kick += (*factor)(r, static_cast<Eigen::Index>(j)) * xi[j];
      value += kick;
    }
    next[i] = i < clamped ? std::clamp(value, -rail, rail) : value;
  }
  return next;
}

TEST(LinearKernel, GivesTheRowByRowScalarSumsBitForBit) {
  std::mt19937_64 rng(5);
  std::normal_distribution<double> normal;
  constexpr double kRail = 1.5;
  constexpr double kInf = std::numeric_limits<double>::infinity();
  for (const std::size_t n : {1u, 8u, 31u, 32u, 33u, 70u}) {
    for (const Shape shape : {Shape::kDense, Shape::kLower, Shape::kDiagonal}) {
      for (const bool noisy : {true, false}) {
        const auto e = static_cast<Eigen::Index>(n);
        const Eigen::MatrixXd phi = random_matrix(e, Shape::kDense, rng);
        const Eigen::MatrixXd factor = random_matrix(e, shape, rng);
        const PanelMatrix phi_panels = to_panels(phi, false);
        const PanelMatrix factor_panels = to_panels(factor, true);
        const std::size_t rows = phi_panels.padded_rows();
        const std::size_t clamped = n / 2;  // rails on the first half only
        std::vector<double> offset(rows, 0.0), lo(rows, -kInf), hi(rows, kInf);
        std::vector<double> z(n), xi(n), next(rows, 0.0);
        for (std::size_t i = 0; i < n; ++i) {
          offset[i] = normal(rng);
          z[i] = i % 5 == 0 ? 0.0 : normal(rng);  // zeros: products of +-0
          xi[i] = normal(rng);
        }
        std::fill(lo.begin(), lo.begin() + static_cast<std::ptrdiff_t>(clamped), -kRail);
        std::fill(hi.begin(), hi.begin() + static_cast<std::ptrdiff_t>(clamped), kRail);
        if (n > 2)
          offset[0] = std::numeric_limits<double>::quiet_NaN();  // passes the rails through
        const LinearKernelArgs args{&phi_panels,   noisy ? &factor_panels : nullptr,
                                    offset.data(), lo.data(),
                                    hi.data(),     z.data(),
                                    xi.data(),     next.data()};
        apply_linear(args);
        const std::vector<double> want =
            reference(phi, noisy ? &factor : nullptr, offset, clamped, kRail, z, xi);
        for (std::size_t i = 0; i < n; ++i) {
          EXPECT_EQ(std::bit_cast<std::uint64_t>(next[i]), std::bit_cast<std::uint64_t>(want[i]))
              << n << " rows, shape " << static_cast<int>(shape) << ", noisy " << noisy << ", row "
              << i << ": " << next[i] << " != " << want[i] << " (" << linear_kernel_isa() << ")";
        }
      }
    }
  }
}

TEST(LinearKernel, SkipsOnlyColumnsThatAreZeroInTheWholeGroup) {
  Eigen::MatrixXd lower = Eigen::MatrixXd::Zero(40, 40);
  for (Eigen::Index i = 0; i < 40; ++i)
    lower(i, std::max<Eigen::Index>(0, i - 2)) = 1.0;  // a band: row i uses column i - 2
  const PanelMatrix p = to_panels(lower, true);
  ASSERT_EQ(p.groups(), 2u);
  EXPECT_EQ(p.col_begin[0], 0u);
  EXPECT_EQ(p.col_end[0], 30u);  // rows 0..31 use columns 0..29
  EXPECT_EQ(p.col_begin[1], 30u);
  EXPECT_EQ(p.col_end[1], 38u);
  const PanelMatrix full = to_panels(lower, false);
  EXPECT_EQ(full.col_begin[1], 0u);
  EXPECT_EQ(full.col_end[1], 40u);
}

}  // namespace
}  // namespace kelvin::sim_backend
