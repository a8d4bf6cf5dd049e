// The natural gradient's error bars and what lies outside them: the transient left at the analog
// time run (warning, transient_tolerance), the degrees of freedom of the standard error (and
// the Student-t statistics it must follow), analog times that round to whole sample periods,
// and the symmetry tolerance every resonator job shares.
#include <cmath>
#include <cstdio>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <Eigen/Dense>
#include <unsupported/Eigen/MatrixFunctions>

#include "kelvin/common/error.hpp"
#include "kelvin/runtime/damped_ggn.hpp"
#include "kelvin/runtime/inverse.hpp"
#include "kelvin/runtime/logdet.hpp"
#include "kelvin/runtime/natural_gradient.hpp"
#include "kelvin/runtime/solve.hpp"
#include "kelvin/runtime/system_checks.hpp"
#include "kelvin/testing/boards.hpp"
#include "kelvin/testing/errors.hpp"
#include "spd_fixtures.hpp"

namespace kelvin::runtime {
namespace {

using kelvin::testing::kind_of;
using kelvin::testing::open_resonator_board;

constexpr Eigen::Index kN = 6;
// Student-t two-sided quantiles (numerical inversion of the t CDF): 97.5% and 99.5% for 3
// degrees of freedom, 97.5% for 1, and 1 - 1e-3 / 6 for 3 and 15 (Bonferroni over 6 components).
constexpr double kT3At95 = 3.182446;
constexpr double kT3Over6 = 23.60;
constexpr double kT3At99 = 5.840909;
constexpr double kT1At95 = 12.706205;
constexpr double kT15Over6 = 4.97;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::string all_warnings(const NaturalGradientSummary& s) {
  std::string out;
  for (const auto& w : s.warnings)
    out += w + "\n";
  return out;
}

std::string message_of(const auto& call) {
  try {
    call();
  } catch (const common::Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no common::Error";
  return {};
}

// A curvature whose slowest mode is 1000 times slower than its fastest: the paper's t = 50 us
// leaves most of the start in that mode (the user's case: 0.83 of the transient left).
Eigen::MatrixXd slow_curvature() {
  return testing::random_spd(kN, 1000.0, 21);
}

Eigen::VectorXd natural_gradient(const Eigen::MatrixXd& f, const Eigen::VectorXd& g, double l) {
  return (f + l * Eigen::MatrixXd::Identity(f.rows(), f.cols())).llt().solve(g);
}

// Defect 1: the default time returned an interpolation many standard errors from the natural
// gradient without a word. The relaxation theory gives the transient left in the mean,
//   m(t) - ngd = expm(-A_dev t) (g - ngd),   A_dev = coupling_scale (F + lambda I);
// the summary's bound must cover it, the estimate must sit at m(t) within its error bars, and
// the summary must warn, naming transient_tolerance.
TEST(NaturalGradientErrorBars, DefaultTimeWarnsWhenTheTransientExceedsTheStandardError) {
  auto board = open_resonator_board(8, 31);
  const Eigen::MatrixXd f = slow_curvature();
  const Eigen::VectorXd g = testing::random_vector(kN, 32);
  NaturalGradientOptions o;
  o.damping = 0.01;
  const auto r = NaturalGradientEstimator(board, o).estimate(g, f);
  const NaturalGradientSummary& s = r.summary;
  ASSERT_FALSE(s.jacobi) << s.full_report();  // the theory below is plain TNGD's path
  ASSERT_GT(s.remaining_transient, 0.3) << s.full_report();
  const Eigen::VectorXd ngd = natural_gradient(f, g, o.damping);
  const Eigen::MatrixXd a_dev =
      s.coupling_scale * (f + o.damping * Eigen::MatrixXd::Identity(kN, kN));
  const Eigen::VectorXd transient = (-a_dev * s.time_us).exp() * (g - ngd);
  // The defect: the transient is many standard errors (and not in them).
  EXPECT_GT((transient.cwiseAbs().array() / r.standard_error.array()).maxCoeff(), 5.0)
      << s.full_report();
  EXPECT_GE(s.transient_bound, transient.cwiseAbs().maxCoeff());
  std::printf(
      "[   INFO   ] t = %g us: transient left %.3f, largest transient %.3g = %.1f stderr, "
      "bound %.3g\n",
      s.time_us, s.remaining_transient, transient.cwiseAbs().maxCoeff(),
      (transient.cwiseAbs().array() / r.standard_error.array()).maxCoeff(), s.transient_bound);
  for (Eigen::Index i = 0; i < kN; ++i) {
    EXPECT_LE(std::abs(r.estimate(i) - ngd(i) - transient(i)), kT3Over6 * r.standard_error(i))
        << "component " << i << "\n"
        << s.full_report();
  }
  const std::string w = all_warnings(s);
  EXPECT_TRUE(contains(w, "not the natural gradient")) << w;
  EXPECT_TRUE(contains(w, "transient_tolerance")) << w;
  EXPECT_TRUE(contains(w, "--transient-tolerance")) << w;
  EXPECT_TRUE(contains(s.brief_report(), "not the natural gradient"));
}

// Item 1, the documented way to ask for the natural gradient: transient_tolerance chooses the
// shortest whole number of sample periods that leaves at most that much transient, reports the
// time as given "none" and run, and the estimate is then the natural gradient within its error
// bars, with no transient warning.
TEST(NaturalGradientErrorBars, TransientToleranceRunsLongEnoughForTheNaturalGradient) {
  auto board = open_resonator_board(8, 33);
  const Eigen::MatrixXd f = slow_curvature();
  const Eigen::VectorXd g = testing::random_vector(kN, 32);
  NaturalGradientOptions o;
  o.damping = 0.01;
  o.repeats = 16;
  o.transient_tolerance = 1e-6;
  const auto r = NaturalGradientEstimator(board, o).estimate(g, f);
  const NaturalGradientSummary& s = r.summary;
  EXPECT_FALSE(s.time_us_given.has_value());
  ASSERT_TRUE(s.transient_tolerance_given.has_value());
  EXPECT_EQ(*s.transient_tolerance_given, 1e-6);
  const double needed = std::log(1e6) / (s.lambda_min * s.coupling_scale);
  EXPECT_GE(s.time_us, needed * (1.0 - 1e-12));
  EXPECT_LT(s.time_us, needed + s.sample_period_us);
  EXPECT_LE(s.remaining_transient, 1e-6 * (1.0 + 1e-9));
  EXPECT_GT(s.time_us, 50.0);  // the default would not have been enough
  const Eigen::VectorXd ngd = natural_gradient(f, g, o.damping);
  for (Eigen::Index i = 0; i < kN; ++i) {
    EXPECT_LE(std::abs(r.estimate(i) - ngd(i)), kT15Over6 * r.standard_error(i) + s.transient_bound)
        << "component " << i << "\n"
        << s.full_report();
  }
  EXPECT_FALSE(contains(all_warnings(s), "transient")) << all_warnings(s);
  std::printf(
      "[   INFO   ] transient_tolerance 1e-6: t = %g us (needed %.2f), worst |estimate - "
      "ngd| %.2f stderr, bound %.2g\n",
      s.time_us, needed,
      ((r.estimate - ngd).cwiseAbs().array() / r.standard_error.array()).maxCoeff(),
      s.transient_bound);
  NaturalGradientOptions bad;
  bad.transient_tolerance = 1.0;
  EXPECT_TRUE(contains(message_of([&] { bad.validate(); }), "transient_tolerance"));
}

// Defect 3: 0.3 us ran 0 periods and returned g with a zero standard error. A nonzero time
// below half a sample period is refused, naming the period and the smallest time, before the
// board runs; a time rounded by more than 1% is a warning.
TEST(NaturalGradientErrorBars, RefusesATimeThatRoundsToNoSamplePeriodAndWarnsWhenRounded) {
  auto board = open_resonator_board(8, 34);
  const double period = board.description().sample_period_s() * 1e6;
  const Eigen::MatrixXd f = testing::random_spd(kN, 20.0, 7);
  const Eigen::VectorXd g = testing::random_vector(kN, 35);
  const auto requests = board.device().stats().requests;
  NaturalGradientOptions o;
  o.time_us = 0.3 * period;
  NaturalGradientEstimator short_time(board, o);
  const std::string msg = message_of([&] { short_time.estimate(g, f); });
  EXPECT_TRUE(contains(msg, "time_us")) << msg;
  EXPECT_TRUE(contains(msg, fmt::format("sample periods of {:g} us", period))) << msg;
  EXPECT_TRUE(contains(msg, fmt::format("{:g} us", 0.5 * period))) << msg;
  o.time_us = 50.0;
  o.upload_delay_us = 0.3 * period;
  NaturalGradientEstimator short_delay(board, o);
  EXPECT_TRUE(contains(message_of([&] { short_delay.estimate(g, f); }), "upload_delay_us"));
  EXPECT_EQ(board.device().stats().requests, requests);

  o.upload_delay_us = 0.0;
  o.time_us = 1.4 * period;
  const auto rounded = NaturalGradientEstimator(board, o).estimate(g, f);
  EXPECT_EQ(rounded.summary.time_us, period);
  EXPECT_TRUE(contains(all_warnings(rounded.summary), "differs from"))
      << all_warnings(rounded.summary);
  o.time_us = 3.0 * period;
  const auto exact = NaturalGradientEstimator(board, o).estimate(g, f);
  EXPECT_FALSE(contains(all_warnings(exact.summary), "differs from"));
}

// Defect 2, reporting: the degrees of freedom and the Student-t factor of a 95% interval.
TEST(NaturalGradientErrorBars, ReportsTheDegreesOfFreedomAndTheStudentTFactor) {
  auto board = open_resonator_board(8, 36);
  const Eigen::MatrixXd f = testing::random_spd(kN, 20.0, 7);
  const Eigen::VectorXd g = testing::random_vector(kN, 37);
  NaturalGradientOptions o;
  const auto four = NaturalGradientEstimator(board, o).estimate(g, f);
  EXPECT_EQ(four.summary.degrees_of_freedom, 3);
  EXPECT_NEAR(four.summary.t95, kT3At95, 1e-5);
  o.repeats = 2;
  const auto two = NaturalGradientEstimator(board, o).estimate(g, f);
  EXPECT_EQ(two.summary.degrees_of_freedom, 1);
  EXPECT_NEAR(two.summary.t95, kT1At95, 1e-5);
  EXPECT_TRUE(contains(four.summary.full_report(), "degrees of freedom"));
  o.repeats = 1;
  EXPECT_TRUE(contains(message_of([&] { o.validate(); }), "repeats = 1"));
}

// Defect 2, statistics: with the default 4 repeats the standardized error z = (estimate -
// natural gradient) / stderr is Student-t with 3 dof, not normal. Over K independent cases (a
// fresh curvature, gradient and board per case, one component each, so the trials are
// independent) the count beyond q * stderr is binomial(K, p), p = P(|t3| > q); it must lie
// within 3.3 binomial standard deviations (two-sided about 1e-3) of K p, at q = t95 (p = 0.05)
// and q = t99 (p = 0.01). A normal reading of the same stderr would expect K * 0.0015 beyond
// t95 (3.18 sd) and would fail the lower band. The transient is made negligible
// (transient_tolerance 1e-9, and the test checks the bound is below the stderr).
TEST(NaturalGradientErrorBars, StandardErrorsFollowStudentTWithRepeatsMinusOneDegrees) {
  constexpr int kCases = 1000;
  int beyond95 = 0;
  int beyond99 = 0;
  int beyond3 = 0;
  for (int c = 0; c < kCases; ++c) {
    const auto seed = static_cast<std::uint64_t>(1000 + c);
    auto board = open_resonator_board(8, seed);
    const Eigen::MatrixXd f = testing::random_spd(kN, 20.0, seed);
    const Eigen::VectorXd g = testing::random_vector(kN, seed + 7777);
    NaturalGradientOptions o;
    o.damping = 0.01;
    o.transient_tolerance = 1e-9;
    o.rounding_seed = seed;
    const auto r = NaturalGradientEstimator(board, o).estimate(g, f);
    const Eigen::Index i = c % kN;
    ASSERT_LT(r.summary.transient_bound, r.standard_error(i)) << r.summary.full_report();
    ASSERT_EQ(r.summary.clipped_samples, 0u);
    const double z = (r.estimate(i) - natural_gradient(f, g, o.damping)(i)) / r.standard_error(i);
    beyond95 += std::abs(z) > r.summary.t95 ? 1 : 0;
    beyond99 += std::abs(z) > kT3At99 ? 1 : 0;
    beyond3 += std::abs(z) > 3.0 ? 1 : 0;
  }
  const auto band = [](double p) { return 3.3 * std::sqrt(kCases * p * (1.0 - p)); };
  std::printf(
      "[   INFO   ] %d cases: %d beyond t95 (expected %.1f), %d beyond t99 (expected %.1f), "
      "%d beyond 3 stderr (t3: %.1f, normal: %.1f)\n",
      kCases, beyond95, kCases * 0.05, beyond99, kCases * 0.01, beyond3, kCases * 0.0577,
      kCases * 0.0027);
  EXPECT_NEAR(beyond95, kCases * 0.05, band(0.05));
  EXPECT_NEAR(beyond99, kCases * 0.01, band(0.01));
}

// Defect 4: float32-like data (1.5e-7 relative asymmetry) is refused by default with a message that
// names the asymmetry, the tolerance and the option; within a raised tolerance the symmetric
// part is used (the same estimate, bit for bit, as for (F + F^T) / 2).
TEST(NaturalGradientErrorBars, NearSymmetricCurvatureIsRefusedWithAHintOrUsedAsItsSymmetricPart) {
  const Eigen::MatrixXd f = testing::random_spd(kN, 20.0, 7);
  Eigen::MatrixXd f32 = f;
  f32(0, 1) += 1.5e-7 * f.cwiseAbs().maxCoeff();
  const Eigen::VectorXd g = testing::random_vector(kN, 38);
  auto board = open_resonator_board(8, 39);
  const std::string msg = message_of(
      [&] { NaturalGradientEstimator(board, NaturalGradientOptions{}).estimate(g, f32); });
  for (const char* part : {"F(0,1)", "1.5e-07", "symmetry_tolerance = 1e-10", "symmetry_tolerance",
                           "--symmetry-tolerance", "2e-07"})
    EXPECT_TRUE(contains(msg, part)) << part << " not in: " << msg;

  NaturalGradientOptions o;
  o.symmetry_tolerance = 1e-6;
  auto board_a = open_resonator_board(8, 40);
  auto board_b = open_resonator_board(8, 40);
  const auto loose = NaturalGradientEstimator(board_a, o).estimate(g, f32);
  const auto symmetric = NaturalGradientEstimator(board_b, o)
                             .estimate(g, Eigen::MatrixXd(0.5 * (f32 + f32.transpose())));
  EXPECT_EQ(loose.estimate, symmetric.estimate);

  // H of the GGN factors, in the estimator and in DampedGgn.
  const Eigen::MatrixXd j = Eigen::MatrixXd::Identity(kN, kN);
  EXPECT_TRUE(
      contains(message_of([&] {
                 NaturalGradientEstimator(board, NaturalGradientOptions{}).estimate(g, j, f32);
               }),
               "H(0,1)"));
  const std::string ggn = message_of([&] { DampedGgn(j, f32, 0.01); });
  EXPECT_TRUE(contains(ggn, "H(0,1)") && contains(ggn, "--symmetry-tolerance")) << ggn;
  const DampedGgn loose_ggn(j, f32, 0.01, 1e-6);
  const DampedGgn exact_ggn(j, 0.5 * (f32 + f32.transpose()), 0.01);
  EXPECT_EQ(loose_ggn.diagonal_block(0, kN), exact_ggn.diagonal_block(0, kN));

  // Beyond what rounding explains, the message says to symmetrize instead.
  Eigen::MatrixXd asym = f;
  asym(0, 1) += 0.01 * f.cwiseAbs().maxCoeff();
  const std::string big = message_of(
      [&] { NaturalGradientEstimator(board, NaturalGradientOptions{}).estimate(g, asym); });
  EXPECT_TRUE(contains(big, "symmetrize F")) << big;
}

// Item 4: one option, the same name, default and range for every resonator job, and solve uses
// it (a near-symmetric A is refused by default and solved within the raised tolerance).
TEST(NaturalGradientErrorBars, EveryJobHasTheSameSymmetryToleranceOption) {
  const auto check = [](auto options, const char* owner) {
    EXPECT_EQ(options.symmetry_tolerance, kDefaultSymmetryTolerance) << owner;
    options.symmetry_tolerance = kMaxSymmetryTolerance;
    EXPECT_NO_THROW(options.validate()) << owner;
    for (const double bad : {2.0 * kMaxSymmetryTolerance, -1e-12, std::nan("")}) {
      options.symmetry_tolerance = bad;
      const std::string msg = message_of([&] { options.validate(); });
      EXPECT_TRUE(contains(msg, std::string(owner) + ": symmetry_tolerance =")) << msg;
      EXPECT_TRUE(contains(msg, "0.0001")) << msg;
    }
  };
  check(SolveOptions{}, "SolveOptions");
  check(InverseOptions{}, "InverseOptions");
  check(LogdetOptions{}, "LogdetOptions");
  check(NaturalGradientOptions{}, "NaturalGradientOptions");
  EXPECT_EQ(kind_of([] {
              DampedGgn(Eigen::MatrixXd::Ones(2, 2), Eigen::MatrixXd::Identity(2, 2), 0.0, 1.0);
            }),
            common::ErrorKind::kInvalidArgument);

  auto board = open_resonator_board(8, 41);
  Eigen::MatrixXd a = testing::random_spd(4, 10.0, 3);
  a(2, 1) += 3e-7 * a.cwiseAbs().maxCoeff();
  const Eigen::VectorXd b = testing::random_vector(4, 4);
  EXPECT_TRUE(contains(message_of([&] { solve(board, a, b); }), "--symmetry-tolerance"));
  SolveOptions o;
  o.symmetry_tolerance = 1e-6;
  const SolveResult r = solve(board, a, b, o);
  EXPECT_LT(r.summary.relative_residual, 0.05) << r.summary.full_report();
}

}  // namespace
}  // namespace kelvin::runtime
