// The row-space path of NaturalGradientEstimator: more parameters than cells, a curvature of low
// rank (natural_gradient.hpp). Fixed seeds; tolerances from the estimator's own error bars.
#include <cmath>

#include <gtest/gtest.h>
#include <Eigen/Dense>

#include "kelvin/common/error.hpp"
#include "kelvin/runtime/natural_gradient.hpp"
#include "kelvin/testing/boards.hpp"
#include "kelvin/testing/errors.hpp"
#include "spd_fixtures.hpp"

namespace kelvin::runtime {
namespace {

using kelvin::testing::kind_of;
using kelvin::testing::open_resonator_board;

// Two-sided Student-t quantile for 7 degrees of freedom (8 repeats) at probability 1e-3,
// Bonferroni-corrected over 120 components: P(|t_7| > 11.5) = 1e-3 / 120 (scipy.stats.t.isf).
constexpr double kT7Over120 = 11.5;

Eigen::MatrixXd gaussian(Eigen::Index rows, Eigen::Index cols, unsigned seed) {
  return testing::random_gaussian(rows, cols, seed);
}

// A softmax-like loss Hessian per sample, diag(p) - p p^T (rank classes - 1), block-diagonal.
Eigen::MatrixXd softmax_hessian(int samples, int classes, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> uniform(0.1, 1.0);
  Eigen::MatrixXd h = Eigen::MatrixXd::Zero(samples * classes, samples * classes);
  for (int s = 0; s < samples; ++s) {
    Eigen::VectorXd p(classes);
    for (int c = 0; c < classes; ++c)
      p(c) = uniform(rng);
    p /= p.sum();
    h.block(s * classes, s * classes, classes, classes) =
        Eigen::MatrixXd(p.asDiagonal()) - p * p.transpose();
  }
  return h;
}

constexpr Eigen::Index kN = 120;  // parameters, above the 16 cells
constexpr int kSamples = 4;
constexpr int kClasses = 4;  // J has 16 rows, H rank 4 x 3 = 12

NaturalGradientOptions long_time_options() {
  NaturalGradientOptions o;
  o.damping = 0.05;
  o.transient_tolerance = 1e-6;
  o.repeats = 8;
  return o;
}

// At large t the estimate is (F + lambda I)^-1 g with F = J^T H J, within its error bars, though
// the board (16 cells) holds only F's 12-dimensional row space.
TEST(NaturalGradientRowSpace, LongTimeReturnsTheNaturalGradientOfManyParameters) {
  auto board = open_resonator_board(16, 3);
  const Eigen::MatrixXd J = gaussian(kSamples * kClasses, kN, 5) / std::sqrt(double(kN));
  const Eigen::MatrixXd H = softmax_hessian(kSamples, kClasses, 6);
  const Eigen::VectorXd g = gaussian(kN, 1, 7).col(0);
  NaturalGradientEstimator estimator(board, long_time_options());
  const auto r = estimator.estimate(g, J, H);
  const Eigen::MatrixXd F = J.transpose() * H * J;
  const Eigen::VectorXd exact = (F + 0.05 * Eigen::MatrixXd::Identity(kN, kN)).ldlt().solve(g);
  EXPECT_EQ(r.summary.method, "row space");
  EXPECT_EQ(r.summary.curvature_rank, std::size_t{12});
  EXPECT_EQ(r.summary.board_unknowns, std::size_t{12});
  EXPECT_EQ(r.summary.unknowns, std::size_t(kN));
  ASSERT_EQ(r.repeat_estimates.size(), 8u);
  int beyond = 0;
  for (Eigen::Index i = 0; i < kN; ++i) {
    ASSERT_GT(r.standard_error(i), 0.0) << "component " << i;
    if (std::abs(r.estimate(i) - exact(i)) > kT7Over120 * r.standard_error(i))
      ++beyond;
  }
  EXPECT_EQ(beyond, 0) << r.summary.full_report();
  // Not decorative: the answer is far from the gradient it started at.
  EXPECT_GT((exact - g).norm(), 10.0 * (r.estimate - exact).norm());
}

// Dependent rows of U (a repeated sample) make K = U U^T singular: the QR basis takes over and
// the answer is the same natural gradient.
TEST(NaturalGradientRowSpace, DependentRowsGiveTheSameNaturalGradient) {
  auto board = open_resonator_board(16, 7);
  Eigen::MatrixXd J = gaussian(8, kN, 16) / std::sqrt(double(kN));
  J.row(7) = J.row(0);
  const Eigen::MatrixXd H = Eigen::MatrixXd::Identity(8, 8);
  const Eigen::VectorXd g = gaussian(kN, 1, 17).col(0);
  NaturalGradientEstimator estimator(board, long_time_options());
  const auto r = estimator.estimate(g, J, H);
  const Eigen::MatrixXd F = J.transpose() * J;
  const Eigen::VectorXd exact = (F + 0.05 * Eigen::MatrixXd::Identity(kN, kN)).ldlt().solve(g);
  for (Eigen::Index i = 0; i < kN; ++i)
    EXPECT_LE(std::abs(r.estimate(i) - exact(i)), kT7Over120 * r.standard_error(i)) << i;
  EXPECT_GT((exact - g).norm(), 10.0 * (r.estimate - exact).norm());
}

// At t = 0 nothing has relaxed: the estimate is the start, g, up to loading and reading it.
TEST(NaturalGradientRowSpace, ZeroTimeReturnsTheGradient) {
  auto board = open_resonator_board(16, 4);
  const Eigen::MatrixXd J = gaussian(kSamples * kClasses, kN, 8);
  const Eigen::MatrixXd H = softmax_hessian(kSamples, kClasses, 9);
  const Eigen::VectorXd g = gaussian(kN, 1, 10).col(0);
  NaturalGradientOptions o;
  o.time_us = 0.0;
  o.repeats = 2;
  NaturalGradientEstimator estimator(board, o);
  const auto r = estimator.estimate(g, J, H);
  EXPECT_EQ(r.summary.complement_remaining_transient, 1.0);
  EXPECT_LT((r.estimate - g).cwiseAbs().maxCoeff(), 1e-3 * g.cwiseAbs().maxCoeff());
}

// set_start() makes the next estimate start there: at t = 0 it comes back.
TEST(NaturalGradientRowSpace, SetStartStartsTheNextEstimateThere) {
  auto board = open_resonator_board(16, 5);
  const Eigen::MatrixXd J = gaussian(kSamples * kClasses, kN, 11);
  const Eigen::MatrixXd H = Eigen::MatrixXd::Identity(kSamples * kClasses, kSamples * kClasses);
  const Eigen::VectorXd g = gaussian(kN, 1, 12).col(0);
  const Eigen::VectorXd start = gaussian(kN, 1, 13).col(0);
  NaturalGradientOptions o;
  o.time_us = 0.0;
  o.repeats = 2;
  NaturalGradientEstimator estimator(board, o);
  estimator.set_start(start);
  const auto r = estimator.estimate(g, J, H);
  EXPECT_TRUE(r.summary.warm_start);
  EXPECT_LT((r.estimate - start).cwiseAbs().maxCoeff(), 1e-3 * start.cwiseAbs().maxCoeff());
  ASSERT_TRUE(estimator.previous_estimate().has_value());
  estimator.set_start(Eigen::VectorXd::Zero(3));
  EXPECT_EQ(kind_of([&] { estimator.estimate(g, J, H); }), common::ErrorKind::kInvalidArgument);
}

TEST(NaturalGradientRowSpace, RefusesRankAboveTheCellsAndZeroDamping) {
  auto board = open_resonator_board(8, 6);
  const Eigen::MatrixXd J = gaussian(10, 40, 14);
  const Eigen::VectorXd g = gaussian(40, 1, 15).col(0);
  NaturalGradientEstimator estimator(board);
  EXPECT_EQ(kind_of([&] { estimator.estimate(g, J, Eigen::MatrixXd::Identity(10, 10)); }),
            common::ErrorKind::kNotSupported);
  NaturalGradientOptions o;
  o.damping = 0.0;
  NaturalGradientEstimator undamped(board, o);
  const Eigen::MatrixXd J4 = J.topRows(4);
  EXPECT_EQ(kind_of([&] { undamped.estimate(g, J4, Eigen::MatrixXd::Identity(4, 4)); }),
            common::ErrorKind::kInvalidArgument);
  Eigen::MatrixXd indefinite = Eigen::MatrixXd::Identity(4, 4);
  indefinite(0, 0) = -1.0;
  EXPECT_EQ(kind_of([&] { estimator.estimate(g, J4, indefinite); }),
            common::ErrorKind::kInvalidArgument);
}

}  // namespace
}  // namespace kelvin::runtime
