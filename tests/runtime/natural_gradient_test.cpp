#include "kelvin/runtime/natural_gradient.hpp"

#include <cmath>
#include <cstdio>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <Eigen/Dense>
#include <unsupported/Eigen/MatrixFunctions>

#include "kelvin/common/error.hpp"
#include "kelvin/testing/boards.hpp"
#include "kelvin/testing/errors.hpp"
#include "spd_fixtures.hpp"

namespace kelvin::runtime {
namespace {

using kelvin::testing::kind_of;
using kelvin::testing::open_resonator_board;

// Two-sided Student-t quantiles for 15 degrees of freedom (16 repeats) at probability 1e-3,
// Bonferroni-corrected over 6 and over 32 comparisons (numerical integration of the t density).
constexpr double kT15Over6 = 4.97;
constexpr double kT15Over32 = 5.86;
constexpr Eigen::Index kN = 6;

// A GGN-like curvature: PSD with a spread spectrum (condition 20 before damping).
Eigen::MatrixXd curvature() {
  return testing::random_spd(kN, 20.0, 7);
}

NaturalGradientOptions options_with(double time_us, int repeats) {
  NaturalGradientOptions o;
  o.damping = 0.01;
  o.time_us = time_us;
  o.repeats = repeats;
  return o;
}

// At t = 0 the board returns where it started: the gradient (the SGD direction), up to the
// resolution of loading it (one bias-DAC step / a_load, 2^-14 V) and reading it (half an ADC
// step), noise-free.
TEST(NaturalGradient, ZeroAnalogTimeReturnsTheGradient) {
  auto board = open_resonator_board(8, 1);
  NaturalGradientEstimator estimator(board, options_with(0.0, 2));
  const Eigen::VectorXd g = testing::random_vector(kN, 3);
  const auto r = estimator.estimate(g, curvature());
  const double resolution = 1.5 * std::ldexp(1.0, -14) * r.summary.state_scale;
  for (Eigen::Index i = 0; i < kN; ++i)
    EXPECT_NEAR(r.estimate(i), g(i), 2.0 * resolution) << "component " << i;
  EXPECT_EQ(r.summary.remaining_transient, 1.0);
  EXPECT_EQ(r.summary.time_us, 0.0);
}

// At t >> 1 / lambda_min the transient has decayed (exp(-lambda_min,dev t) < 1e-9) and the board
// returns the natural gradient (F + lambda I)^-1 g within its error bars.
TEST(NaturalGradient, LongAnalogTimeReturnsTheNaturalGradient) {
  auto board = open_resonator_board(8, 2);
  const Eigen::MatrixXd f = curvature();
  const Eigen::VectorXd g = testing::random_vector(kN, 4);
  const Eigen::VectorXd ngd = (f + 0.01 * Eigen::MatrixXd::Identity(kN, kN)).llt().solve(g);
  NaturalGradientEstimator probe(board, options_with(0.0, 2));
  const double rate = probe.estimate(g, f).summary.lambda_min *
                      probe.estimate(g, f).summary.coupling_scale;  // lambda_min,dev [1/us]
  const double t = std::ceil(21.0 / rate);
  NaturalGradientEstimator estimator(board, options_with(t, 16));
  const auto r = estimator.estimate(g, f);
  EXPECT_LT(r.summary.remaining_transient, 1e-9) << r.summary.full_report();
  for (Eigen::Index i = 0; i < kN; ++i) {
    EXPECT_GT(r.standard_error(i), 0.0);
    EXPECT_LE(std::abs(r.estimate(i) - ngd(i)), kT15Over6 * r.standard_error(i))
        << "component " << i << "\n"
        << r.summary.full_report();
  }
  EXPECT_EQ(r.summary.clipped_samples, 0u);
}

// Between the two, the estimate follows the relaxation of the mean,
//   m(t) = ngd + expm(-A_dev t) (g - ngd),   A_dev = coupling_scale (F + lambda I),
// and its distance to the natural gradient falls with t as that theory says.
TEST(NaturalGradient, ErrorFallsWithAnalogTimeAsTheRelaxationPredicts) {
  auto board = open_resonator_board(8, 3);
  const Eigen::MatrixXd f = curvature();
  const Eigen::MatrixXd a = f + 0.01 * Eigen::MatrixXd::Identity(kN, kN);
  const Eigen::VectorXd g = testing::random_vector(kN, 5);
  const Eigen::VectorXd ngd = a.llt().solve(g);
  double previous_error = (g - ngd).norm();
  for (const double t : {1.0, 3.0, 10.0, 30.0}) {
    NaturalGradientEstimator estimator(board, options_with(t, 16));
    const auto r = estimator.estimate(g, f);
    const Eigen::MatrixXd a_dev = r.summary.coupling_scale * a;
    const Eigen::VectorXd theory = ngd + (-a_dev * t).exp() * (g - ngd);
    double worst = 0.0;
    for (Eigen::Index i = 0; i < kN; ++i) {
      const double z = std::abs(r.estimate(i) - theory(i)) / r.standard_error(i);
      worst = std::max(worst, z);
      EXPECT_LE(z, kT15Over32) << "t = " << t << " us, component " << i << ": estimate "
                               << r.estimate(i) << ", theory " << theory(i);
    }
    const double error = (r.estimate - ngd).norm();
    const double theory_error = (theory - ngd).norm();
    std::printf("[   INFO   ] t = %4.0f us: |estimate - ngd| = %.4f (theory %.4f), worst %.2f se\n",
                t, error, theory_error, worst);
    // Where the theory's decrease is well above the noise floor, the measured error falls too.
    if (theory_error > 3.0 * r.standard_error.norm()) {
      EXPECT_LT(error, previous_error) << "t = " << t;
    }
    previous_error = error;
  }
}

// A curvature whose parameters live on scales three decades apart: with Jacobi preconditioning
// the board still returns g at t = 0 and the natural gradient at large t.
TEST(NaturalGradient, JacobiPreconditioningKeepsTheEndPointsOnABadlyScaledCurvature) {
  auto board = open_resonator_board(8, 7);
  const Eigen::VectorXd scales = Eigen::VectorXd::LinSpaced(kN, 0.0, 3.0).unaryExpr([](double e) {
    return std::pow(10.0, -e / 2.0);
  });
  const Eigen::MatrixXd f = scales.asDiagonal() * curvature() * scales.asDiagonal();
  const Eigen::VectorXd g = testing::random_vector(kN, 12);
  const Eigen::MatrixXd a = f + 1e-6 * Eigen::MatrixXd::Identity(kN, kN);
  const Eigen::VectorXd ngd = a.llt().solve(g);
  NaturalGradientOptions o = options_with(0.0, 2);
  o.damping = 1e-6;
  o.preconditioning = Preconditioning::kJacobi;
  const auto start = NaturalGradientEstimator(board, o).estimate(g, f);
  EXPECT_TRUE(start.summary.jacobi);
  // Load-and-read resolution (as in ZeroAnalogTimeReturnsTheGradient) in the board's
  // coordinates, mapped back through S = diag(a)^-1/2.
  for (Eigen::Index i = 0; i < kN; ++i) {
    const double resolution =
        1.5 * std::ldexp(1.0, -14) * start.summary.state_scale / std::sqrt(a(i, i));
    EXPECT_NEAR(start.estimate(i), g(i), 2.0 * resolution) << "component " << i;
  }
  o.time_us = 200.0;
  o.repeats = 16;
  const auto end = NaturalGradientEstimator(board, o).estimate(g, f);
  EXPECT_LT(end.summary.remaining_transient, 1e-9) << end.summary.full_report();
  for (Eigen::Index i = 0; i < kN; ++i) {
    EXPECT_LE(std::abs(end.estimate(i) - ngd(i)), kT15Over6 * end.standard_error(i))
        << "component " << i << ": " << end.estimate(i) << " vs " << ngd(i);
  }
}

TEST(NaturalGradient, FactorsGiveTheSameEstimateAsTheDenseCurvature) {
  const Eigen::MatrixXd j =
      Eigen::MatrixXd::NullaryExpr(10, kN, [](Eigen::Index r, Eigen::Index c) {
        return std::sin(1.0 + 3.0 * static_cast<double>(r) + 7.0 * static_cast<double>(c));
      });
  const Eigen::VectorXd h_diag = Eigen::VectorXd::LinSpaced(10, 0.1, 0.25);
  const Eigen::MatrixXd h = h_diag.asDiagonal();
  const Eigen::MatrixXd f0 = j.transpose() * h * j;
  const Eigen::MatrixXd f = 0.5 * (f0 + f0.transpose());
  const Eigen::VectorXd g = testing::random_vector(kN, 6);
  auto board_a = open_resonator_board(8, 4);
  auto board_b = open_resonator_board(8, 4);
  NaturalGradientEstimator dense(board_a, options_with(5.0, 3));
  NaturalGradientEstimator factored(board_b, options_with(5.0, 3));
  const auto ra = dense.estimate(g, f);
  const auto rb = factored.estimate(g, j, h);
  EXPECT_EQ(ra.estimate, rb.estimate);
}

// Warm start: the next estimate starts from the previous one, not from the new gradient.
TEST(NaturalGradient, WarmStartBeginsAtThePreviousEstimate) {
  auto board = open_resonator_board(8, 5);
  const Eigen::MatrixXd f = curvature();
  NaturalGradientOptions zero = options_with(0.0, 2);
  zero.warm_start = true;
  NaturalGradientEstimator warm(board, zero);
  const auto seed = warm.estimate(testing::random_vector(kN, 8), f);  // no previous: from g
  EXPECT_FALSE(seed.summary.warm_start);
  const auto second = warm.estimate(testing::random_vector(kN, 9), f);
  EXPECT_TRUE(second.summary.warm_start);
  const double resolution = 1.5 * std::ldexp(1.0, -14) * second.summary.state_scale;
  for (Eigen::Index i = 0; i < kN; ++i)
    EXPECT_NEAR(second.estimate(i), seed.estimate(i), 2.0 * resolution) << "component " << i;
}

TEST(NaturalGradient, RefusesBadInputBeforeTouchingTheBoard) {
  auto board = open_resonator_board(8, 6);
  NaturalGradientEstimator estimator(board, options_with(5.0, 2));
  const auto requests = board.device().stats().requests;
  const Eigen::VectorXd g = testing::random_vector(kN, 1);
  EXPECT_EQ(kind_of([&] { estimator.estimate(g, Eigen::MatrixXd::Identity(kN + 1, kN + 1)); }),
            common::ErrorKind::kInvalidArgument);
  Eigen::VectorXd bad = g;
  bad(2) = std::nan("");
  EXPECT_EQ(kind_of([&] { estimator.estimate(bad, curvature()); }),
            common::ErrorKind::kInvalidArgument);
  try {
    estimator.estimate(g, -Eigen::MatrixXd::Identity(kN, kN));  // F + 0.01 I indefinite
    ADD_FAILURE() << "an indefinite curvature was accepted";
  } catch (const common::Error& e) {
    EXPECT_EQ(e.kind(), common::ErrorKind::kInvalidArgument);
    EXPECT_NE(std::string(e.what()).find("eigenvalue"), std::string::npos) << e.what();
  }
  EXPECT_EQ(kind_of([&] {
              estimator.estimate(g, Eigen::MatrixXd::Ones(3, kN), Eigen::MatrixXd::Identity(4, 4));
            }),
            common::ErrorKind::kInvalidArgument);
  EXPECT_EQ(kind_of([&] {
              estimator.estimate(Eigen::VectorXd::Ones(9), Eigen::MatrixXd::Identity(9, 9));
            }),
            common::ErrorKind::kNotSupported);
  EXPECT_EQ(board.device().stats().requests, requests);
  NaturalGradientOptions bad_options;
  bad_options.repeats = 1;
  EXPECT_EQ(kind_of([&] { NaturalGradientEstimator(board, bad_options); }),
            common::ErrorKind::kInvalidArgument);
}

TEST(NaturalGradient, TngdAdamUpdateIsTheSignOfTheEstimate) {
  const Eigen::Vector3d estimate(2.0, -0.5, 0.0);
  EXPECT_TRUE(tngd_update(estimate, TngdMode::kTngd, 0.1).isApprox(Eigen::Vector3d(-0.2, 0.05, 0)));
  const Eigen::VectorXd adam = tngd_update(estimate, TngdMode::kTngdAdam, 0.1);
  EXPECT_NEAR(adam(0), -0.1, 1e-8);
  EXPECT_NEAR(adam(1), 0.1, 1e-8);
  EXPECT_EQ(adam(2), 0.0);
}

}  // namespace
}  // namespace kelvin::runtime
