#include "kelvin/runtime/solve.hpp"

#include <chrono>

#include <gtest/gtest.h>
#include <Eigen/Dense>
#include <unsupported/Eigen/MatrixFunctions>

#include "kelvin/common/error.hpp"
#include "kelvin/driver/backends/backends.hpp"
#include "kelvin/runtime/block_solve.hpp"
#include "kelvin/runtime/problem_scaling.hpp"
#include "kelvin/testing/boards.hpp"
#include "kelvin/testing/errors.hpp"
#include "spd_fixtures.hpp"

namespace kelvin::runtime {
namespace {

using namespace std::chrono_literals;
using kelvin::testing::kind_of;
using kelvin::testing::open_resonator_board;

// Two-sided Student-t quantile for 19 degrees of freedom (20 batch means) at probability
// 1e-3 / 40: with 5 systems x 8 components compared, the chance that a correct solver fails
// this test anywhere is 1e-3 (Bonferroni). Computed by numerical integration of the t density.
constexpr double kT19Bonferroni40 = 5.52;

TEST(Solve, AgreesWithEigenWithinItsErrorBarsOnRandomSpdSystems) {
  int positive_off_diagonal_systems = 0;
  for (std::uint64_t s = 0; s < 5; ++s) {
    const double condition = 50.0 + 25.0 * static_cast<double>(s);  // 50 .. 150
    const Eigen::MatrixXd a = testing::random_spd(8, condition, 100 + s);
    const Eigen::VectorXd b = testing::random_vector(8, 200 + s);
    const Eigen::VectorXd exact = a.llt().solve(b);
    if ((a.array() > 0).count() > 8)
      ++positive_off_diagonal_systems;

    auto board = open_resonator_board(8, 1 + s);
    const auto result = solve(board, a, b);
    const auto& sum = result.summary;
    ASSERT_EQ(result.x.size(), 8);
    EXPECT_NEAR(sum.condition_number, condition, 0.01 * condition);
    // Randomized rounding (the default) puts the DAC quantization error inside the batch spread,
    // so the error bars alone must cover the difference.
    EXPECT_TRUE(sum.randomized_rounding);
    for (Eigen::Index i = 0; i < 8; ++i) {
      EXPECT_GT(result.standard_error(i), 0.0);
      EXPECT_LE(std::abs(result.x(i) - exact(i)), kT19Bonferroni40 * result.standard_error(i))
          << "system " << s << " component " << i << "\n"
          << sum.full_report();
    }
    EXPECT_EQ(sum.clipped_samples, 0u) << sum.full_report();
  }
  EXPECT_EQ(positive_off_diagonal_systems, 5);
}

TEST(Solve, ReportedErrorBarsMatchTheTheoryOfTheTimeAverage) {
  // For the exactly sampled OU process, the variance of a mean over n samples is
  // (1/n) [(I + Phi)(I - Phi)^-1 Sigma]_ii with Phi = exp(-A_dev h), Sigma = D A_dev^-1. The
  // batch-means error bar (20 batches) has a relative spread of about 1/sqrt(2 * 19) = 16%,
  // so it must land within +-50% (3 spreads) of the theory.
  const Eigen::MatrixXd a = testing::random_spd(8, 50, 42);
  const Eigen::VectorXd b = testing::random_vector(8, 43);
  auto board = open_resonator_board(8, 9);
  const auto result = solve(board, a, b);
  const auto& sum = result.summary;
  const Eigen::MatrixXd a_dev = sum.coupling_scale * a;
  const double h = board.description().sample_period_s() * 1e6;  // us
  const Eigen::MatrixXd phi = (-a_dev * h).exp();
  const Eigen::MatrixXd sigma = sum.diffusion * a_dev.inverse();
  const Eigen::MatrixXd id = Eigen::MatrixXd::Identity(8, 8);
  const Eigen::MatrixXd per_sample = (id + phi) * (id - phi).inverse() * sigma;
  for (Eigen::Index i = 0; i < 8; ++i) {
    const double theory =
        sum.state_scale * std::sqrt(per_sample(i, i) / static_cast<double>(sum.samples));
    const double ratio = result.standard_error(i) / theory;
    EXPECT_GT(ratio, 0.5) << "component " << i;
    EXPECT_LT(ratio, 1.5) << "component " << i;
  }
}

TEST(Solve, NearestRoundingReportsTheSystematicShiftItLeaves) {
  const Eigen::MatrixXd a = testing::random_spd(8, 150, 104);
  const Eigen::VectorXd b = testing::random_vector(8, 204);
  SolveOptions options;
  options.randomized_rounding = false;
  auto board = open_resonator_board(8, 5);
  const auto result = solve(board, a, b, options);
  EXPECT_FALSE(result.summary.randomized_rounding);
  // The first-order estimate must agree with the shift of the exact solution of the programmed
  // (nearest-rounded) system, which the test can compute from the same compile step.
  const auto sys = compile_system(a, b, board.description(), {});
  EXPECT_GT(result.summary.quantization_shift, 0.0);
  const Eigen::VectorXd exact = a.llt().solve(b);
  const double shift_of_matrix =
      (sys.nearest.matrix.llt().solve(a * exact) - exact).norm() / exact.norm();
  EXPECT_GT(result.summary.quantization_shift, 0.1 * shift_of_matrix);
}

TEST(Solve, SolvesASmallerSystemOnSpareCells) {
  Eigen::Matrix3d a;
  a << 4, 1, 0.5, 1, 3, -1, 0.5, -1, 2;
  const Eigen::Vector3d b(1, -2, 0.5);
  auto board = open_resonator_board(8, 3);
  const auto result = solve(board, a, b);
  const Eigen::Vector3d exact = a.llt().solve(b);
  ASSERT_EQ(result.x.size(), 3);
  for (int i = 0; i < 3; ++i) {
    EXPECT_LE(std::abs(result.x(i) - exact(i)), 5.0 * result.standard_error(i)) << i;
  }
}

TEST(Solve, ZeroRightHandSideGivesZeroWithinErrorBars) {
  auto board = open_resonator_board(4, 4);
  const auto result = solve(board, testing::random_spd(4, 20, 11), Eigen::VectorXd::Zero(4));
  for (Eigen::Index i = 0; i < 4; ++i) {
    EXPECT_LE(std::abs(result.x(i)), 5.0 * result.standard_error(i));
  }
}

TEST(Solve, AutoRangingUsesMoreOfTheRangeWhenTheBoundIsLoose) {
  // b along the largest eigenvector: x = b / lambda_max, far below the bound ||b|| / lambda_min.
  const Eigen::MatrixXd a = testing::random_spd(6, 100, 21);
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(a);
  const Eigen::VectorXd b = eig.eigenvectors().col(5);
  const Eigen::VectorXd exact = a.llt().solve(b);

  SolveOptions with;
  SolveOptions without;
  without.auto_range = false;
  auto board1 = open_resonator_board(6, 5);
  auto board2 = open_resonator_board(6, 5);
  const auto ranged = solve(board1, a, b, with);
  const auto plain = solve(board2, a, b, without);
  EXPECT_GT(ranged.summary.range_gain, 10.0);
  EXPECT_EQ(plain.summary.range_gain, 1.0);
  // Same device time for the average, so the error bars shrink by about the gain.
  EXPECT_LT(ranged.standard_error.norm(), 0.2 * plain.standard_error.norm());
  for (Eigen::Index i = 0; i < 6; ++i) {
    EXPECT_LE(std::abs(ranged.x(i) - exact(i)), 5.0 * ranged.standard_error(i)) << i;
  }
}

TEST(Solve, RefusesBadInputBeforeTouchingTheBoard) {
  auto board = open_resonator_board(4, 1);
  const auto requests = board.device().stats().requests;
  Eigen::Matrix2d indefinite;
  indefinite << 1, 2, 2, 1;
  EXPECT_EQ(kind_of([&] { solve(board, indefinite, Eigen::Vector2d(1, 1)); }),
            common::ErrorKind::kInvalidArgument);
  Eigen::Matrix2d asymmetric;
  asymmetric << 2, 1, 0, 2;
  EXPECT_EQ(kind_of([&] { solve(board, asymmetric, Eigen::Vector2d(1, 1)); }),
            common::ErrorKind::kInvalidArgument);
  EXPECT_EQ(kind_of([&] { solve(board, Eigen::Matrix2d::Identity(), Eigen::Vector3d(1, 1, 1)); }),
            common::ErrorKind::kInvalidArgument);
  SolveOptions bad;
  bad.batches = 1;
  EXPECT_EQ(kind_of([&] { solve(board, Eigen::Matrix2d::Identity(), Eigen::Vector2d(1, 1), bad); }),
            common::ErrorKind::kInvalidArgument);
  // More unknowns than cells is not bad input for solve() (it takes the block path, below); the
  // direct path's compile step refuses it with the real reason.
  EXPECT_EQ(kind_of([&] {
              compile_problem(Eigen::MatrixXd::Identity(5, 5), Eigen::VectorXd::Ones(5),
                              board.description());
            }),
            common::ErrorKind::kNotSupported);
  try {
    compile_problem(Eigen::MatrixXd::Identity(5, 5), Eigen::VectorXd::Ones(5), board.description());
  } catch (const common::Error& e) {
    EXPECT_NE(std::string(e.what()).find("5 unknowns but the board has 4 cells"), std::string::npos)
        << e.what();
  }
  EXPECT_EQ(board.device().stats().requests, requests);
}

// solve() chooses the method: n above the cells goes to the block path, where every acquisition
// option given is honoured per block and the ones not given take the block defaults.
TEST(Solve, MoreUnknownsThanCellsTakeTheBlockPathWithTheGivenBatches) {
  auto board = open_resonator_board(4, 1);
  const Eigen::MatrixXd a = testing::random_spd(10, 20.0, 31);
  const Eigen::VectorXd b = testing::random_vector(10, 32);
  const SolveResult defaults = solve(board, a, b);
  EXPECT_EQ(defaults.summary.method, "block");
  ASSERT_TRUE(defaults.summary.block.has_value());
  EXPECT_EQ(defaults.summary.block->block_batches, kBlockBatches);
  EXPECT_EQ(defaults.summary.block->block_batch_relaxation_times, kBlockBatchRelaxationTimes);
  EXPECT_TRUE(defaults.summary.block->converged);
  EXPECT_LE(defaults.summary.relative_residual, SolveOptions{}.tolerance);
  EXPECT_LE((a * defaults.x - b).norm() / b.norm(), SolveOptions{}.tolerance);

  SolveOptions given;
  given.batches = 7;
  given.batch_relaxation_times = 40.0;
  const SolveResult r = solve(board, a, b, given);
  EXPECT_EQ(r.summary.method, "block");
  EXPECT_EQ(r.summary.batches, 7);
  EXPECT_EQ(r.summary.block->block_batches, 7);
  EXPECT_EQ(r.summary.block->block_batch_relaxation_times, 40.0);
  // Longer, more numerous batches cost more device time per block solve.
  EXPECT_GT(
      r.summary.device_time_s / static_cast<double>(r.summary.block->block_solves),
      defaults.summary.device_time_s / static_cast<double>(defaults.summary.block->block_solves));
}

// A capacitive board realizes M-matrices (off-diagonals <= 0) directly; a matrix with positive
// off-diagonals goes through sign doubling on 2n cells; one whose doubled system is indefinite
// is refused before anything is sent, with the reason.
TEST(Solve, CapacitiveBoardSolvesMMatricesDirectlyAndOthersBySignDoubling) {
  driver::ResonatorBoard board(std::shared_ptr<driver::Device>(
      driver::backends::open("sim:resonator?cells=8&seed=3&couplings=capacitive")));
  Eigen::MatrixXd a = Eigen::MatrixXd::Identity(4, 4);
  for (int i = 0; i + 1 < 4; ++i)
    a(i, i + 1) = a(i + 1, i) = -0.3;
  const Eigen::VectorXd b = testing::random_vector(4, 31);
  for (int variant = 0; variant < 2; ++variant) {
    if (variant == 1) {
      a(0, 2) = a(2, 0) = 0.25;  // positive: needs sign doubling
      a(1, 3) = a(3, 1) = 0.2;
    }
    const Eigen::VectorXd exact = a.llt().solve(b);
    const auto result = solve(board, a, b);
    EXPECT_EQ(result.summary.sign_doubled, variant == 1);
    ASSERT_EQ(result.x.size(), 4);
    for (Eigen::Index i = 0; i < 4; ++i) {
      EXPECT_LE(std::abs(result.x(i) - exact(i)), kT19Bonferroni40 * result.standard_error(i))
          << "variant " << variant << " component " << i << "\n"
          << result.summary.full_report();
    }
  }
  // Not diagonally dominant: A is SPD, but A with its positive entries negated is not.
  Eigen::Matrix3d strong;
  strong << 1.0, 0.9, 0.9, 0.9, 1.0, 0.9, 0.9, 0.9, 1.0;
  const auto requests = board.device().stats().requests;
  try {
    solve(board, strong, Eigen::Vector3d(1, 2, 3));
    FAIL() << "an unrealizable doubled system was accepted";
  } catch (const common::Error& e) {
    EXPECT_EQ(e.kind(), common::ErrorKind::kNotSupported);
    EXPECT_NE(std::string(e.what()).find("sign doubling"), std::string::npos) << e.what();
  }
  EXPECT_EQ(board.device().stats().requests, requests);
  // Doubling needs 2n cells.
  EXPECT_EQ(kind_of([&] {
              Eigen::MatrixXd big = Eigen::MatrixXd::Identity(5, 5);
              big(0, 1) = big(1, 0) = 0.1;
              solve(board, big, Eigen::VectorXd::Ones(5));
            }),
            common::ErrorKind::kNotSupported);
}

TEST(Solve, HonoursItsTotalDeadline) {
  auto board = open_resonator_board(8, 2);
  SolveOptions options;
  options.batch_relaxation_times = 1e6;  // far more work than the deadline allows
  options.timeout = 200ms;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(kind_of([&] {
              solve(board, testing::random_spd(8, 50, 1), testing::random_vector(8, 2), options);
            }),
            common::ErrorKind::kTimeout);
  // The work asked for takes hours; 10 s leaves a loaded machine (or a sanitizer) room.
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
}

TEST(Solve, SummaryReportsNameTheBoardAndTheWork) {
  auto board = open_resonator_board(4, 1);
  const auto result = solve(board, testing::random_spd(4, 10, 3), testing::random_vector(4, 4));
  const auto& s = result.summary;
  EXPECT_EQ(s.serial, "SIM-RES-4-1");
  EXPECT_EQ(s.samples % 20, 0u);
  EXPECT_GT(s.device_time_s, 0.0);
  EXPECT_NEAR(s.device_time_s, static_cast<double>(s.samples + s.burn_in_samples) * 1e-6, 1e-9);
  EXPECT_NE(s.brief_report().find("SIM-RES-4-1"), std::string::npos);
  EXPECT_NE(s.full_report().find("quantization shift"), std::string::npos);
}

}  // namespace
}  // namespace kelvin::runtime
