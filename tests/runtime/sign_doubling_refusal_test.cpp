// Refusals on a capacitive board (off-diagonal couplings <= 0 only) for an A with positive
// off-diagonals. solve() sign-doubles such an A into a 2n-unknown system (sign_doubling.hpp);
// every way that can fail must say that A was sign-doubled, why, and what to do instead (a board
// with enough cells or with signed couplings, or off-diagonals <= 0), and refuse before anything
// is sent to the board. inverse() and the natural gradient refuse the doubling itself, saying
// why. (The log-determinant's refusal is in logdet_test.cpp.)
#include <cstdio>
#include <functional>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <Eigen/Dense>

#include "kelvin/common/error.hpp"
#include "kelvin/runtime/inverse.hpp"
#include "kelvin/runtime/natural_gradient.hpp"
#include "kelvin/runtime/problem_compiler.hpp"
#include "kelvin/runtime/sign_doubling.hpp"
#include "kelvin/runtime/solve.hpp"
#include "kelvin/testing/boards.hpp"
#include "spd_fixtures.hpp"

namespace kelvin::runtime {
namespace {

using kelvin::testing::open_resonator_board;

driver::ResonatorBoard capacitive_board(std::uint32_t cells = 8) {
  return open_resonator_board(cells, 21, "&couplings=capacitive");
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

// Expects kNotSupported with every needle in the message.
void expect_refusal(const common::Error& e, std::initializer_list<const char*> needles) {
  EXPECT_EQ(e.kind(), common::ErrorKind::kNotSupported) << e.what();
  const std::string message = e.what();
  for (const char* needle : needles)
    EXPECT_NE(message.find(needle), std::string::npos) << "no '" << needle << "' in: " << message;
}

// A diagonally dominant n x n matrix with off-diagonals of both signs, the largest positive
// 0.2 at (0, 1).
Eigen::MatrixXd dominant_mixed(Eigen::Index n) {
  Eigen::MatrixXd a = Eigen::MatrixXd::Identity(n, n);
  for (Eigen::Index i = 0; i + 1 < n; ++i)
    a(i, i + 1) = a(i + 1, i) = i % 2 == 0 ? 0.2 : -0.15;
  return a;
}

TEST(SignDoublingRefusal, TooFewCellsForTheDoubledSystemSaysSoAndWhatToDo) {
  auto board = capacitive_board();
  const auto requests = board.device().stats().requests;
  const Eigen::MatrixXd a = dominant_mixed(6);
  expect_refusal(
      error_of([&] { solve(board, a, Eigen::VectorXd::Ones(6)); }),
      {"capacitive (off-diagonals <= 0 only)", "A(0, 1) = 0.2",
       "solved by sign doubling as a 2n = 12-unknown system", "needs 12 cells but the board has 8",
       "a board with >= 12 cells", "signed couplings", "make A's off-diagonals <= 0"});
  EXPECT_EQ(board.device().stats().requests, requests);
}

TEST(SignDoublingRefusal, IndefiniteDoubledSystemNamesTheNegatedMatrixAndDiagonalDominance) {
  auto board = capacitive_board();
  const auto requests = board.device().stats().requests;
  Eigen::Matrix3d strong;  // SPD (eigenvalues 0.1, 0.1, 2.8), not diagonally dominant
  strong << 1.0, 0.9, 0.9, 0.9, 1.0, 0.9, 0.9, 0.9, 1.0;
  expect_refusal(
      error_of([&] { solve(board, strong, Eigen::Vector3d(1, 2, 3)); }),
      {"capacitive", "2n = 6-unknown", "not positive definite", "positive off-diagonals negated",
       "-0.8", "diagonally dominant", "signed couplings"});
  EXPECT_EQ(board.device().stats().requests, requests);
}

// A with every off-diagonal near +1/3 (eigenvalues about 2/3 and 2) has D + M - P = A with its
// off-diagonals negated nearly singular (about 2 - 3 * 2/3); shifting the diagonal leaves it
// positive definite by 1e-7 of the largest entry. Rounding to 16-bit codes moves that
// eigenvalue by about 0.3 of a code (1e-5 of the largest entry) to either side, so of a few
// random perturbations some must fall below 0, and that refusal must say that the doubled
// matrix lost positive definiteness through D + M - P, not through A.
TEST(SignDoublingRefusal, DoubledMatrixIndefiniteAfterRoundingNamesWhichHalfIsIllConditioned) {
  auto board = capacitive_board();
  int seen = 0;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    const Eigen::VectorXd r = testing::random_vector(16, seed);
    Eigen::MatrixXd a = Eigen::MatrixXd::Identity(4, 4);
    for (Eigen::Index i = 0; i < 4; ++i)
      for (Eigen::Index j = i + 1; j < 4; ++j)
        a(i, j) = a(j, i) = 1.0 / 3.0 + 0.02 * r(4 * i + j);
    Eigen::MatrixXd negated = -a;
    negated.diagonal() = a.diagonal();
    const double smallest =
        Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(negated).eigenvalues()(0);
    a.diagonal().array() += 1e-7 - smallest;
    try {
      // The compile step of solve(), without the solve: a doubled system that stays positive
      // definite is solvable but relaxes for 1e7 of its fastest time scales.
      compile_problem(a, Eigen::VectorXd::Ones(4), board.description());
    } catch (const common::Error& e) {
      ++seen;
      expect_refusal(e, {"capacitive", "sign doubling as a 2n = 8-unknown system",
                         "16-bit coupling codes its 2n x 2n matrix is no longer positive definite",
                         "positive off-diagonals negated (smallest", "signed couplings",
                         "make A's off-diagonals <= 0"});
    }
  }
  EXPECT_GT(seen, 0) << "no perturbation lost positive definiteness by rounding";
  std::printf("[   INFO   ] %d of 20 perturbations refused after rounding\n", seen);
}

// Above the board's cells solve() works in blocks of (by default) the board's cells, which a
// capacitive board cannot double: the refusal names the block and the block size that fits,
// and that block size then solves the system.
TEST(SignDoublingRefusal, BlockSolveNamesTheBlockAndTheBlockSizeThatFits) {
  auto board = capacitive_board();
  const Eigen::MatrixXd a = dominant_mixed(12);
  const Eigen::VectorXd b = testing::random_vector(12, 5);
  expect_refusal(error_of([&] { solve(board, a, b); }),
                 {"block solve, the diagonal block of A at rows [0, 8)", "capacitive",
                  "2n = 16-unknown system", "needs 16 cells but the board has 8",
                  "blocks of at most 4 unknowns (block_size)"});
  SolveOptions o;
  o.block_size = 4;
  const SolveResult r = solve(board, a, b, o);
  EXPECT_EQ(r.summary.method, "block");
  EXPECT_LE(r.summary.relative_residual, o.tolerance) << r.summary.full_report();
  std::printf("[   INFO   ] block_size 4: residual %.2g after %d block solves, %.3g ms device\n",
              r.summary.relative_residual, static_cast<int>(r.summary.block->block_solves),
              r.summary.device_time_s * 1e3);
}

TEST(SignDoublingRefusal, InverseAndNaturalGradientSayWhyTheyDoNotDouble) {
  auto board = capacitive_board();
  Eigen::Matrix2d positive;
  positive << 2.0, 0.5, 0.5, 2.0;
  expect_refusal(error_of([&] { inverse(board, positive); }),
                 {"capacitive (off-diagonals <= 0 only)", "A(0, 1) = 0.5 is positive",
                  "solve() would sign-double A into a 2n = 4-unknown system",
                  "the inverse of the sign-doubled system is not A^-1", "signed couplings",
                  "make A's off-diagonals <= 0"});
  NaturalGradientEstimator natgrad(board);
  expect_refusal(error_of([&] { natgrad.estimate(Eigen::Vector2d(1.0, -1.0), positive); }),
                 {"capacitive", "is positive", "solve() would sign-double",
                  "the natural gradient does not use it", "signed couplings"});
}

}  // namespace
}  // namespace kelvin::runtime
