#include "kelvin/runtime/logdet.hpp"

#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <Eigen/Dense>

#include "kelvin/common/error.hpp"
#include "kelvin/testing/boards.hpp"
#include "spd_fixtures.hpp"

namespace kelvin::runtime {
namespace {

using kelvin::testing::open_resonator_board;

// Two-sided normal quantile at probability 1e-3 Bonferroni-corrected over the 4 fixtures
// (2.5e-4 each): z = 3.66. The estimates are asymptotically normal (a smooth function of a mean
// of M = 1000 i.i.d. weights exp(-W) whose variance is finite: tail shape below 1/2, checked);
// 4 standard errors leaves room for the noise in the (jackknife) standard error itself
// (relative error about sqrt(kurtosis / 4M), a few percent here).
constexpr double kZ = 4.0;

double exact_logdet(const Eigen::MatrixXd& a) {
  const Eigen::LLT<Eigen::MatrixXd> llt(a);
  return 2.0 * llt.matrixL().toDenseMatrix().diagonal().array().log().sum();
}

common::Error error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const common::Error& e) {
    return e;
  }
  ADD_FAILURE() << "no common::Error thrown";
  return common::Error(common::ErrorKind::kDevice, "none");
}

// Mean work of the ramp from Gaussian theory, in units of D. The covariance over D, S, starts
// at A_0^-1; a switch to A_k costs tr((A_k - A_{k-1}) S) / 2 on average, and relaxing for tau
// under A_k maps S -> Phi S Phi + A_k^-1 - Phi A_k^-1 Phi with Phi = exp(-A_k tau) (exact for
// the board's OU dynamics). Device matrices [1/us], tau [us]. The intermediate matrices are the
// unrounded ramp: rounding moves them by at most half a code in 2^15, far below the noise.
double theoretical_mean_work(const Eigen::MatrixXd& a_end, int steps, double tau) {
  const Eigen::MatrixXd a_start = Eigen::MatrixXd(a_end.diagonal().asDiagonal());
  Eigen::MatrixXd s = a_start.inverse();
  Eigen::MatrixXd previous = a_start;
  double work = 0.0;
  for (int k = 1; k <= steps; ++k) {
    const double t = static_cast<double>(k) / steps;
    const Eigen::MatrixXd a = (1.0 - t) * a_start + t * a_end;
    work += 0.5 * ((a - previous) * s).trace();
    const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(a);
    const Eigen::MatrixXd phi = eig.eigenvectors() *
                                (-eig.eigenvalues() * tau).array().exp().matrix().asDiagonal() *
                                eig.eigenvectors().transpose();
    const Eigen::MatrixXd inv = a.inverse();
    s = phi * s * phi + inv - phi * inv * phi;
    previous = a;
  }
  return work;
}

struct Fixture {
  Eigen::Index n;
  double condition;
  std::uint64_t seed;
};

TEST(Logdet, JarzynskiLogdetOfSpdFixturesIsWithinErrorBarsOfTheQuantizedMatrix) {
  const Fixture fixtures[] = {{2, 5.0, 11}, {4, 10.0, 12}, {6, 15.0, 13}, {8, 20.0, 14}};
  for (const auto& f : fixtures) {
    const Eigen::MatrixXd a = testing::random_spd(f.n, f.condition, f.seed);
    auto board = open_resonator_board(8, 30 + f.seed);
    const LogdetResult r = logdet(board, a);
    const double exact = exact_logdet(r.quantized_matrix);
    ASSERT_GT(r.standard_error, 0.0);
    EXPECT_EQ(r.summary.estimator, "jarzynski-forward");
    EXPECT_EQ(r.summary.clipped_reads, 0u);
    // The finite-sample bias of -2 log(mean e^-W), about var / (M mean^2) = se^2 / 4, reported
    // as bias_estimate (jackknife): allowed on top of kZ se.
    EXPECT_LE(std::abs(r.logdet - exact), kZ * r.standard_error + r.summary.bias_estimate)
        << "n = " << f.n << ": " << r.logdet << " vs " << exact << "\n"
        << r.summary.full_report();
    // The diagnostics must call the default ramp good, or the bound above would not be honest:
    // little dissipation, and a light tail of the weights (no warning at all).
    EXPECT_LT(r.summary.dissipated_work, 1.0) << r.summary.full_report();
    ASSERT_TRUE(r.summary.tail_shape.has_value());
    EXPECT_LT(*r.summary.tail_shape, 0.5) << r.summary.full_report();
    EXPECT_TRUE(r.summary.warnings.empty()) << r.summary.full_report();
    std::printf(
        "[   INFO   ] n=%d cond %.0f: log det %.4f +- %.4f, exact (quantized) %.4f, %.2f se, "
        "dissipated work %.3f kT, tail shape %.2f, quantization %.2g, %.3g ms device, %.2f s "
        "wall\n",
        static_cast<int>(f.n), f.condition, r.logdet, r.standard_error, exact,
        (r.logdet - exact) / r.standard_error, r.summary.dissipated_work, *r.summary.tail_shape,
        r.summary.matrix_quantization_error, r.summary.device_time_s * 1e3, r.summary.wall_time_s);
  }
}

// The quasi-static limit: more, smaller switches dissipate less, so exp(-W) varies less and the
// error bar shrinks. The measured mean work must match the Gaussian theory of the realized ramp
// within kZ standard errors of a mean of M i.i.d. works (sd(W) / sqrt(M)).
TEST(Logdet, MoreStepsReduceTheDissipatedWorkAndTheErrorBar) {
  const Eigen::MatrixXd a = testing::random_spd(6, 15.0, 13);
  double previous_dissipated = INFINITY;
  double previous_stderr = INFINITY;
  for (const int steps : {2, 16}) {
    auto board = open_resonator_board(8, 50);
    LogdetOptions o;
    o.steps = steps;
    const LogdetResult r = logdet(board, a, o);
    const auto& s = r.summary;
    const Eigen::MatrixXd a_dev = s.coupling_scale * r.quantized_matrix;
    const double theory = theoretical_mean_work(a_dev, steps, static_cast<double>(s.step_samples));
    const double exact = exact_logdet(r.quantized_matrix);
    const double delta_f = 0.5 * (exact - (r.quantized_matrix.diagonal().array().log().sum()));
    const double mean_se = s.work_stddev / std::sqrt(static_cast<double>(s.trajectories));
    EXPECT_LE(std::abs(s.mean_work - theory), kZ * mean_se)
        << steps << " steps: mean work " << s.mean_work << " vs theory " << theory;
    EXPECT_LE(std::abs(r.logdet - exact), kZ * r.standard_error + s.bias_estimate);
    EXPECT_LT(s.dissipated_work, previous_dissipated);
    EXPECT_LT(r.standard_error, previous_stderr);
    std::printf(
        "[   INFO   ] K=%d (tau %llu us): log det %.4f +- %.4f (exact %.4f), mean work %.4f "
        "(theory %.4f +- %.4f), dissipated %.4f (theory %.4f), %.2f s wall\n",
        steps, static_cast<unsigned long long>(s.step_samples), r.logdet, r.standard_error, exact,
        s.mean_work, theory, mean_se, s.dissipated_work, theory - delta_f, s.wall_time_s);
    previous_dissipated = s.dissipated_work;
    previous_stderr = r.standard_error;
  }
}

// Ramped from diag(A), a diagonal A never switches a coupling: every work is exactly 0, the
// answer is exactly the log det of the programmed diagonal, and the error bar is 0.
TEST(Logdet, DiagonalMatrixGivesExactlyZeroWork) {
  Eigen::MatrixXd a = Eigen::MatrixXd::Zero(4, 4);
  a.diagonal() << 1.0, 2.5, 0.3, 7.0;
  auto board = open_resonator_board(8, 60);
  LogdetOptions o;
  o.trajectories = 16;
  const LogdetResult r = logdet(board, a, o);
  for (Eigen::Index t = 0; t < r.forward_work.size(); ++t)
    EXPECT_EQ(r.forward_work(t), 0.0) << "trajectory " << t;
  EXPECT_EQ(r.standard_error, 0.0);
  EXPECT_NEAR(r.logdet, exact_logdet(r.quantized_matrix), 1e-12);
  // Against the unquantized diagonal: each entry is within half a code, so log a_ii moves by
  // at most lsb / (2 a_ii) in user units (lsb / coupling_scale per code).
  const double lsb = board.description().coupling.lsb / r.summary.coupling_scale;
  const double bound = (0.5 * lsb / a.diagonal().array()).sum();
  EXPECT_NEAR(r.logdet, std::log(1.0 * 2.5 * 0.3 * 7.0), bound);
}

// Bennett's acceptance ratio uses the reverse ramp too; on a short ramp (4 steps) it must stay
// within its error bar of the exact value and beat forward Jarzynski's error bar (it uses twice
// the trajectories and the optimal weighting, Shirts et al. 2003).
TEST(Logdet, BennettOverBothRampsIsWithinErrorBarsAndTighterThanJarzynski) {
  const Eigen::MatrixXd a = testing::random_spd(8, 20.0, 14);
  auto board = open_resonator_board(8, 70);
  LogdetOptions o;
  o.steps = 4;
  o.estimator = LogdetEstimator::kBennett;
  const LogdetResult r = logdet(board, a, o);
  const auto& s = r.summary;
  const double exact = exact_logdet(r.quantized_matrix);
  EXPECT_EQ(s.estimator, "bennett");
  EXPECT_TRUE(s.has_reverse);
  EXPECT_EQ(r.logdet, s.bennett_logdet);
  EXPECT_LE(std::abs(r.logdet - exact), kZ * r.standard_error);
  EXPECT_LT(s.bennett_stderr, s.jarzynski_stderr);
  std::printf(
      "[   INFO   ] n=8 K=4: bennett %.4f +- %.4f, jarzynski %.4f +- %.4f, exact %.4f, "
      "dissipated %.3f / %.3f kT (forward / reverse), %.2f s wall\n",
      s.bennett_logdet, s.bennett_stderr, s.jarzynski_logdet, s.jarzynski_stderr, exact,
      s.dissipated_work, s.reverse_dissipated_work, s.wall_time_s);
}

// With randomized rounding each trajectory ramps to its own unbiased rounding A_m, and the
// estimator targets -2 log E[det(A_m)^-1/2] = log det A + O(eps^2) (eps ~ 3e-5 per entry
// here, so the second-order term, ~ n^2 eps^2, is far below the error bar): the answer is
// compared with the unquantized A.
TEST(Logdet, RandomizedRoundingTargetsTheUnquantizedMatrix) {
  const Eigen::MatrixXd a = testing::random_spd(4, 10.0, 12);
  auto board = open_resonator_board(8, 80);
  LogdetOptions o;
  o.randomized_rounding = true;
  o.trajectories = 500;
  const LogdetResult r = logdet(board, a, o);
  EXPECT_TRUE(r.summary.randomized_rounding);
  EXPECT_LE(std::abs(r.logdet - exact_logdet(a)), kZ * r.standard_error + r.summary.bias_estimate)
      << r.summary.full_report();
  std::printf("[   INFO   ] randomized rounding, n=4: log det %.4f +- %.4f, exact %.4f\n", r.logdet,
              r.standard_error, exact_logdet(a));
}

TEST(Logdet, RefusesBadInputNamingTheDefectBeforeTouchingTheBoard) {
  auto board = open_resonator_board(8, 3);
  const auto requests = board.device().stats().requests;
  const auto kind_and_message = [&](const Eigen::MatrixXd& a, const LogdetOptions& o,
                                    common::ErrorKind kind, const std::string& needle) {
    const common::Error e = error_of([&] { logdet(board, a, o); });
    EXPECT_EQ(e.kind(), kind) << e.what();
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  };
  Eigen::Matrix2d nan_matrix;
  nan_matrix << 1.0, NAN, NAN, 1.0;
  kind_and_message(nan_matrix, {}, common::ErrorKind::kInvalidArgument, "nan");
  Eigen::Matrix2d asymmetric;
  asymmetric << 2.0, 0.5, 0.25, 2.0;
  kind_and_message(asymmetric, {}, common::ErrorKind::kInvalidArgument, "not symmetric");
  Eigen::Matrix2d indefinite;
  indefinite << 1.0, 2.0, 2.0, 1.0;
  kind_and_message(indefinite, {}, common::ErrorKind::kInvalidArgument, "not positive definite");
  kind_and_message(Eigen::MatrixXd::Identity(9, 9), {}, common::ErrorKind::kNotSupported,
                   "9 unknowns");
  LogdetOptions o;
  o.steps = 0;
  kind_and_message(Eigen::Matrix2d::Identity(), o, common::ErrorKind::kInvalidArgument, "steps");
  o = {};
  o.trajectories = 4;
  kind_and_message(Eigen::Matrix2d::Identity(), o, common::ErrorKind::kInvalidArgument,
                   "trajectories");
  o = {};
  o.step_relaxation_times = 0.0;
  kind_and_message(Eigen::Matrix2d::Identity(), o, common::ErrorKind::kInvalidArgument,
                   "step_relaxation_times");
  o = {};
  o.estimator = LogdetEstimator::kBennett;
  o.randomized_rounding = true;
  kind_and_message(Eigen::Matrix2d::Identity(), o, common::ErrorKind::kInvalidArgument,
                   "randomized_rounding");
  EXPECT_EQ(board.device().stats().requests, requests);

  // A capacitive board: sign doubling would change the determinant, so a positive coupling is
  // refused, naming the entry; a matrix with couplings <= 0 is accepted.
  auto capacitive = open_resonator_board(8, 4, "&couplings=capacitive");
  Eigen::Matrix2d positive;
  positive << 2.0, 0.5, 0.5, 2.0;
  const common::Error e = error_of([&] { logdet(capacitive, positive); });
  EXPECT_EQ(e.kind(), common::ErrorKind::kNotSupported);
  EXPECT_NE(std::string(e.what()).find("A(0, 1) = 0.5"), std::string::npos) << e.what();
  EXPECT_NE(std::string(e.what()).find("det(A) det(A')"), std::string::npos) << e.what();
  LogdetOptions quick;
  quick.trajectories = 8;
  EXPECT_NO_THROW(logdet(capacitive, -positive + 4.0 * Eigen::Matrix2d::Identity(), quick));
}

}  // namespace
}  // namespace kelvin::runtime
