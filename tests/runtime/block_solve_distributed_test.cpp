// The block solve spread over ranks (block_solve.hpp, block_solve(group, ...)): each rank a
// thread of one process (thread_group.hpp) with its own emulated board. The same engine runs
// under mpirun in tests/mpi/mpi_block_solve_test.cpp.
#include <chrono>
#include <cmath>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <Eigen/Dense>
#include <Eigen/Eigenvalues>
#include <Eigen/SparseCore>

#include "kelvin/common/error.hpp"
#include "kelvin/runtime/block_solve.hpp"
#include "kelvin/runtime/thread_group.hpp"
#include "kelvin/testing/boards.hpp"

namespace kelvin::runtime {
namespace {

using common::Error;
using common::ErrorKind;

constexpr Eigen::Index kN = 100;  // 13 blocks of 8 (the last of 4): uneven shares of ranks
constexpr std::uint32_t kCells = 8;

// SPD: I + 2 K with K_ij = exp(-|i - j| / 4) (an exponential kernel, positive definite), the
// rows of every other block of 8 scaled by 10. The kernel couples neighbouring blocks, so block
// Jacobi needs a dozen or so iterations.
Eigen::MatrixXd test_matrix() {
  Eigen::MatrixXd a(kN, kN);
  for (Eigen::Index i = 0; i < kN; ++i)
    for (Eigen::Index j = 0; j < kN; ++j)
      a(i, j) = (i == j ? 1.0 : 0.0) + 2.0 * std::exp(-std::abs(static_cast<double>(i - j)) / 4.0);
  Eigen::VectorXd s(kN);
  for (Eigen::Index i = 0; i < kN; ++i)
    s(i) = (i / 8) % 2 == 0 ? 1.0 : 10.0;
  return s.asDiagonal() * a * s.asDiagonal();
}

Eigen::VectorXd test_rhs() {
  return Eigen::VectorXd::NullaryExpr(
      kN, [](Eigen::Index i) { return std::cos(0.7 * static_cast<double>(i)); });
}

BlockSolveOptions options(BlockBackend backend) {
  BlockSolveOptions o;
  o.backend = backend;
  o.tolerance = 1e-6;
  o.timeout = std::chrono::seconds(60);
  return o;
}

// Runs body(rank's collective, rank's board) on one thread per rank, each rank with its own
// emulated board sim:resonator?cells=8&seed=<rank + 1>, `extra` appended to rank extra_rank's URI.
void on_every_rank(int size, const std::function<void(Collective&, driver::ResonatorBoard&)>& body,
                   int extra_rank = -1, const std::string& extra = "") {
  auto group = make_thread_group(size);
  std::vector<std::thread> threads;
  for (int r = 0; r < size; ++r) {
    threads.emplace_back([&, r] {
      driver::ResonatorBoard board = testing::open_resonator_board(
          kCells, static_cast<std::uint64_t>(r + 1), r == extra_rank ? extra : "");
      body(*group[static_cast<std::size_t>(r)], board);
    });
  }
  for (auto& t : threads)
    t.join();
}

// The block-Jacobi preconditioner M (the diagonal blocks of 8), formed.
Eigen::MatrixXd block_diagonal(const Eigen::MatrixXd& a) {
  Eigen::MatrixXd m = Eigen::MatrixXd::Zero(kN, kN);
  for (Eigen::Index s = 0; s < kN; s += kCells) {
    const Eigen::Index n = std::min<Eigen::Index>(kCells, kN - s);
    m.block(s, s, n, n) = a.block(s, s, n, n);
  }
  return m;
}

double m_norm(const Eigen::MatrixXd& m, const Eigen::VectorXd& v) {
  return std::sqrt(v.dot(m * v));
}

TEST(BlockSolveDistributed, DigitalBackendOnTwoAndThreeRanksEqualsTheOneRankSolve) {
  const Eigen::MatrixXd a = test_matrix();
  const Eigen::VectorXd b = test_rhs();
  const BlockSolveResult alone = block_solve(nullptr, a, b, options(BlockBackend::kDigital));
  ASSERT_TRUE(alone.summary.converged);
  for (int size : {2, 3}) {
    std::vector<BlockSolveResult> results(static_cast<std::size_t>(size));
    on_every_rank(size, [&](Collective& c, driver::ResonatorBoard& board) {
      results[static_cast<std::size_t>(c.rank())] =
          block_solve(c, &board, a, b, options(BlockBackend::kDigital));
    });
    for (const BlockSolveResult& r : results) {
      // The ranks add the dot products' partial sums in another order than one rank does: a
      // relative rounding of about n eps = 2e-14 in each CG coefficient, which a dozen
      // iterations of a system with condition number ~1e2 leave far below 1e-12 in x.
      EXPECT_EQ(r.summary.iterations, alone.summary.iterations);
      EXPECT_LE((r.x - alone.x).norm(), 1e-12 * alone.x.norm()) << "ranks " << size;
      // The error estimate estimates an error in x: compared on x's scale (it may be at the
      // rounding level itself).
      EXPECT_LE((r.error_estimate - alone.error_estimate).norm(), 1e-12 * alone.x.norm());
      ASSERT_TRUE(r.summary.scale_out.has_value());
      EXPECT_EQ(r.summary.scale_out->ranks, size);
    }
    // The blocks' solves were shared out: together the ranks did the one rank's.
    std::uint64_t solves = 0;
    for (const BlockSolveResult& r : results)
      solves += r.summary.block_solves;
    EXPECT_EQ(solves, alone.summary.block_solves);
  }
}

// The board backend: every rank's board solves its blocks with its own noise, so x differs from
// the single-board run's by the two runs' errors. Both errors are bounded by what the final
// residuals say: for e = A^-1 r and z = M^-1 r (M the block diagonal, what error_estimate holds
// as |z|), ||e||_M <= ||z||_M / lambda_min(M^-1 A) (block_solve.hpp). So the two x differ by at
// most (||z_1||_M + ||z_2||_M) / lambda_min in the M norm, with lambda_min computed here exactly
// and z recomputed from each x; and that bound is small because both runs converged to 1e-6.
TEST(BlockSolveDistributed, BoardBackendOnTwoRanksAgreesWithTheSingleBoardRunWithinItsErrorBound) {
  const Eigen::MatrixXd a = test_matrix();
  const Eigen::VectorXd b = test_rhs();
  const Eigen::MatrixXd m = block_diagonal(a);
  const double lambda_min =
      Eigen::GeneralizedSelfAdjointEigenSolver<Eigen::MatrixXd>(a, m, Eigen::EigenvaluesOnly)
          .eigenvalues()
          .minCoeff();
  driver::ResonatorBoard single = testing::open_resonator_board(kCells, 1);
  const BlockSolveResult alone = block_solve(&single, a, b, options(BlockBackend::kBoard));
  std::vector<BlockSolveResult> results(2);
  on_every_rank(2, [&](Collective& c, driver::ResonatorBoard& board) {
    results[static_cast<std::size_t>(c.rank())] =
        block_solve(c, &board, a, b, options(BlockBackend::kBoard));
  });
  const BlockSolveResult& spread = results[0];
  ASSERT_TRUE(alone.summary.converged);
  ASSERT_TRUE(spread.summary.converged) << spread.summary.full_report();
  const Eigen::VectorXd z_alone = m.ldlt().solve(b - a * alone.x);
  const Eigen::VectorXd z_spread = m.ldlt().solve(b - a * spread.x);
  EXPECT_LE((spread.error_estimate - z_spread.cwiseAbs()).norm(), 1e-9 * z_spread.norm());
  const double bound = (m_norm(m, z_alone) + m_norm(m, z_spread)) / lambda_min;
  EXPECT_LE(m_norm(m, spread.x - alone.x), bound);
  EXPECT_LE(bound, 1e-4 * m_norm(m, alone.x));  // converged to 1e-6: the bound is tight
  EXPECT_EQ(spread.summary.scale_out->boards.size(), 2u);
  EXPECT_GT(spread.summary.scale_out->device_time_s, 0.0);
}

TEST(BlockSolveDistributed, EveryRankReturnsTheSameSolutionBitForBit) {
  const Eigen::SparseMatrix<double> a = test_matrix().sparseView();
  const Eigen::VectorXd b = test_rhs();
  std::vector<BlockSolveResult> results(3);
  BlockSolveOptions o = options(BlockBackend::kBoard);
  o.tolerance = 1e-3;
  on_every_rank(3, [&](Collective& c, driver::ResonatorBoard& board) {
    results[static_cast<std::size_t>(c.rank())] = block_solve(c, &board, a, b, o);
  });
  for (const BlockSolveResult& r : results) {
    EXPECT_TRUE(r.summary.converged);
    EXPECT_TRUE(r.x == results[0].x);
    EXPECT_TRUE(r.error_estimate == results[0].error_estimate);
    EXPECT_EQ(r.summary.residual_history, results[0].summary.residual_history);
    EXPECT_GT(r.summary.block_solves, 0u);  // every rank's board did its share
  }
}

TEST(BlockSolveDistributed, AMismatchedRightHandSideOnOneRankIsRefusedOnEveryRankNamingIt) {
  const Eigen::MatrixXd a = test_matrix();
  std::vector<std::string> messages(3);
  std::vector<ErrorKind> kinds(3, ErrorKind::kDevice);
  on_every_rank(3, [&](Collective& c, driver::ResonatorBoard& board) {
    Eigen::VectorXd b = test_rhs();
    if (c.rank() == 2)
      b(17) += 1e-9;
    try {
      block_solve(c, &board, a, b, options(BlockBackend::kDigital));
    } catch (const Error& e) {
      messages[static_cast<std::size_t>(c.rank())] = e.what();
      kinds[static_cast<std::size_t>(c.rank())] = e.kind();
    }
  });
  for (int r = 0; r < 3; ++r) {
    EXPECT_EQ(kinds[static_cast<std::size_t>(r)], ErrorKind::kInvalidArgument);
    EXPECT_EQ(messages[static_cast<std::size_t>(r)], messages[0]);
  }
  EXPECT_NE(messages[0].find("rank 2 of 3"), std::string::npos) << messages[0];
  EXPECT_NE(messages[0].find("different b"), std::string::npos) << messages[0];
}

// Rank 1's board disconnects 50 ms after it was opened, early in the solve (which takes ~0.3 s):
// every rank throws the same error, of the board's kind (not a timeout: the job ends well within
// its 60 s deadline because the failure is agreed on, not waited out), naming rank 1 and its board.
TEST(BlockSolveDistributed, ABoardThatDisconnectsFailsEveryRankNamingTheRankAndItsBoard) {
  const Eigen::MatrixXd a = test_matrix();
  const Eigen::VectorXd b = test_rhs();
  std::vector<std::string> messages(2);
  std::vector<ErrorKind> kinds(2, ErrorKind::kInvalidArgument);
  std::string serial;
  on_every_rank(
      2,
      [&](Collective& c, driver::ResonatorBoard& board) {
        if (c.rank() == 1)
          serial = board.description().serial;
        BlockSolveOptions o = options(BlockBackend::kBoard);
        o.tolerance = 1e-12;  // never reached: the loop runs until the board goes
        o.max_iterations = 10000;
        try {
          block_solve(c, &board, a, b, o);
        } catch (const Error& e) {
          messages[static_cast<std::size_t>(c.rank())] = e.what();
          kinds[static_cast<std::size_t>(c.rank())] = e.kind();
        }
      },
      1, "&fault=disconnect:50ms");
  EXPECT_EQ(kinds[0], ErrorKind::kDisconnected);
  EXPECT_EQ(kinds[1], ErrorKind::kDisconnected);
  EXPECT_EQ(messages[0], messages[1]);
  EXPECT_NE(messages[0].find("rank 1 of 2 (board " + serial + ")"), std::string::npos)
      << messages[0];
}

}  // namespace
}  // namespace kelvin::runtime
