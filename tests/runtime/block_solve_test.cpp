#include "kelvin/runtime/block_solve.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <random>

#include <gtest/gtest.h>
#include <Eigen/Dense>

#include "kelvin/driver/backends.hpp"
#include "kelvin/driver/error.hpp"

namespace kelvin::runtime {
namespace {

// A dense SPD test system: S (I + 0.5 B^T B / m) S, B m x n Gaussian, and S scaling each block
// of 8 unknowns by 1, 10 or 100, so that the diagonal blocks differ in scale by 1e4 (what block
// Jacobi removes) while the coupling between blocks stays dense.
Eigen::MatrixXd test_matrix(Eigen::Index n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  const Eigen::Index m = n / 5;
  const Eigen::MatrixXd b = Eigen::MatrixXd::NullaryExpr(m, n, [&] { return normal(rng); });
  Eigen::MatrixXd a = 0.5 * b.transpose() * b / static_cast<double>(m);
  a.diagonal().array() += 1.0;
  Eigen::VectorXd s(n);
  for (Eigen::Index i = 0; i < n; ++i)
    s(i) = std::pow(10.0, static_cast<double>((i / 8) % 3));
  return s.asDiagonal() * a * s.asDiagonal();
}

Eigen::VectorXd test_rhs(Eigen::Index n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  return Eigen::VectorXd::NullaryExpr(n, [&] { return normal(rng); });
}

TEST(BlockSolve, ThousandUnknownsOnAnEightCellBoardReachTheTolerance) {
  const Eigen::MatrixXd a = test_matrix(1000, 1);
  const Eigen::VectorXd b = test_rhs(1000, 2);
  driver::ResonatorBoard board(
      std::shared_ptr<driver::Device>(driver::open("sim:resonator?cells=8&seed=1")));
  const auto r = block_solve(&board, a, b);
  EXPECT_TRUE(r.summary.converged) << r.summary.full_report();
  const double residual = (b - a * r.x).norm() / b.norm();
  EXPECT_LE(residual, 1e-3);
  EXPECT_NEAR(residual, r.summary.relative_residual, 1e-9);
  EXPECT_EQ(r.summary.blocks, 125u);
  const auto digital = block_solve(nullptr, a, b, [] {
    BlockSolveOptions o;
    o.backend = BlockBackend::kDigital;
    return o;
  }());
  EXPECT_TRUE(digital.summary.converged);
  const Eigen::VectorXd exact = a.llt().solve(b);
  std::printf(
      "[   INFO   ] board: %s\n[   INFO   ] digital: %s\n[   INFO   ] relative error "
      "against Cholesky: board %.3g, digital %.3g; board wall time %.2f s\n",
      r.summary.brief_report().c_str(), digital.summary.brief_report().c_str(),
      (r.x - exact).norm() / exact.norm(), (digital.x - exact).norm() / exact.norm(),
      r.summary.wall_time_s);
}

TEST(BlockSolve, RefusesAMatrixThatIsNotPositiveDefinite) {
  Eigen::MatrixXd a = test_matrix(40, 3);
  a(0, 0) = -1.0;
  BlockSolveOptions o;
  o.backend = BlockBackend::kDigital;
  EXPECT_THROW(block_solve(nullptr, a, test_rhs(40, 4), o), driver::Error);
  EXPECT_THROW(block_solve(nullptr, test_matrix(40, 3), test_rhs(40, 4)), driver::Error)
      << "the board backend needs a board";
}

}  // namespace
}  // namespace kelvin::runtime
