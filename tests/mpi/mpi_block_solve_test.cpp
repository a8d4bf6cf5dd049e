// The block solve spread over MPI ranks (block_solve(group, ...), block_solve.hpp) under mpirun:
// each rank opens its own emulated board sim:resonator?cells=8&seed=<rank + 1>, and the result is
// compared with a digital reference every rank computes alone.
#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <Eigen/SparseCholesky>

#include "kelvin/runtime/block_solve.hpp"
#include "kelvin/runtime/mpi/mpi_collective.hpp"
#include "kelvin/testing/boards.hpp"
#include "kelvin/tools/matrix_io/generated_problems.hpp"

namespace kelvin::runtime::mpi {
namespace {

constexpr Eigen::Index kN = 256;  // 32 blocks of 8: 16, 8 blocks per rank at -np 2, 4
constexpr double kShift = 0.5;

BlockSolveOptions options(BlockBackend backend, double tolerance) {
  BlockSolveOptions o;
  o.backend = backend;
  o.tolerance = tolerance;
  o.timeout = std::chrono::seconds(60);
  return o;
}

// Every rank's x, gathered, equals this rank's bit for bit.
void expect_same_on_every_rank(MpiCollective& comm, const Eigen::VectorXd& x) {
  const auto all = comm.gather_all(std::span<const double>(x.data(), x.size()),
                                   common::Deadline::after(std::chrono::seconds(30)), "test x");
  ASSERT_EQ(all.size(), static_cast<std::size_t>(x.size() * comm.size()));
  for (int r = 0; r < comm.size(); ++r)
    EXPECT_EQ(std::memcmp(all.data() + r * x.size(), x.data(), sizeof(double) * x.size()), 0)
        << "rank " << r << "'s x differs from rank " << comm.rank() << "'s";
}

TEST(MpiBlockSolve, DigitalBlocksOverRanksEqualTheOneRankSolve) {
  MpiCollective comm;
  const Eigen::SparseMatrix<double> a = tools::matrix_io::laplacian_2d(kN, kShift);
  const Eigen::VectorXd b = tools::matrix_io::laplacian_rhs(kN);
  driver::ResonatorBoard board =
      testing::open_resonator_board(8, static_cast<std::uint64_t>(comm.rank() + 1));
  const auto o = options(BlockBackend::kDigital, 1e-8);
  const BlockSolveResult spread = block_solve(comm, &board, a, b, o);
  const BlockSolveResult alone = block_solve(nullptr, a, b, o);
  // Only the order in which the ranks' partial dot products are added differs: rounding of
  // ~n eps = 6e-14 in each CG coefficient, over a few dozen iterations of a system with
  // condition number below (8 + 0.5) / 0.5 = 17.
  EXPECT_EQ(spread.summary.iterations, alone.summary.iterations);
  EXPECT_LE((spread.x - alone.x).norm(), 1e-12 * alone.x.norm());
  expect_same_on_every_rank(comm, spread.x);
  ASSERT_TRUE(spread.summary.scale_out.has_value());
  EXPECT_EQ(spread.summary.scale_out->ranks, comm.size());
}

// On the boards: x must be the exact solution to what its residual allows. For this A (the
// Laplacian plus 0.5: eigenvalues in [0.5, 8.5] by Gershgorin), ||x - x*|| <= ||b - A x|| / 0.5,
// and the solve stops at ||b - A x|| <= 1e-4 ||b||.
TEST(MpiBlockSolve, BoardBlocksOverRanksMatchTheDigitalReferenceWithinTheResidualBound) {
  MpiCollective comm;
  const Eigen::SparseMatrix<double> a = tools::matrix_io::laplacian_2d(kN, kShift);
  const Eigen::VectorXd b = tools::matrix_io::laplacian_rhs(kN);
  driver::ResonatorBoard board =
      testing::open_resonator_board(8, static_cast<std::uint64_t>(comm.rank() + 1));
  const BlockSolveResult r = block_solve(comm, &board, a, b, options(BlockBackend::kBoard, 1e-4));
  ASSERT_TRUE(r.summary.converged) << r.summary.full_report();
  const Eigen::VectorXd exact = Eigen::SimplicialLLT<Eigen::SparseMatrix<double>>(a).solve(b);
  const double residual = (b - a * r.x).norm();
  EXPECT_LE(residual, 1e-4 * b.norm() * (1 + 1e-12));
  EXPECT_LE((r.x - exact).norm(), residual / kShift);
  expect_same_on_every_rank(comm, r.x);
  EXPECT_EQ(r.summary.scale_out->boards.size(), static_cast<std::size_t>(comm.size()));
}

}  // namespace
}  // namespace kelvin::runtime::mpi
