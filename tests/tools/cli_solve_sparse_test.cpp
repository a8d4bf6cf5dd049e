// `kelvin solve` with A as a Matrix Market file: a system far larger than the board, read sparse
// and solved by the block solve, end to end as a child process on the emulated board.
#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <Eigen/Core>
#include <Eigen/SparseCore>
#include <nlohmann/json.hpp>

#include "cli_runner.hpp"
#include "kelvin/tools/matrix_io/matrix_io.hpp"
#include "test_files.hpp"

namespace kelvin::tools::matrix_io {
namespace {

using nlohmann::json;
using testing::Outcome;
using testing::run_kelvin;
using testing::TempDir;

// A rows x cols grid Laplacian-like SPD matrix: horizontal couplings -1, vertical +0.6 (both
// signs), diagonal 1 + 1.1 x the row's absolute off-diagonal sum (strictly diagonally dominant).
Eigen::SparseMatrix<double> grid_matrix(int rows, int cols) {
  const int n = rows * cols;
  std::vector<Eigen::Triplet<double>> t;
  Eigen::VectorXd row_sum = Eigen::VectorXd::Zero(n);
  const auto couple = [&](int i, int j, double w) {
    t.emplace_back(i, j, w);
    t.emplace_back(j, i, w);
    row_sum(i) += std::abs(w);
    row_sum(j) += std::abs(w);
  };
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) {
      const int i = r * cols + c;
      if (c + 1 < cols)
        couple(i, i + 1, -1.0);
      if (r + 1 < rows)
        couple(i, i + cols, 0.6);
    }
  }
  for (int i = 0; i < n; ++i)
    t.emplace_back(i, i, 1.0 + 1.1 * row_sum(i));
  Eigen::SparseMatrix<double> a(n, n);
  a.setFromTriplets(t.begin(), t.end());
  return a;
}

// The lower triangle as a "coordinate real symmetric" file, values to every digit.
std::string symmetric_market_text(const Eigen::SparseMatrix<double>& a) {
  std::vector<std::string> lines;
  for (Eigen::Index k = 0; k < a.outerSize(); ++k) {
    for (Eigen::SparseMatrix<double>::InnerIterator it(a, k); it; ++it) {
      if (it.row() < it.col())
        continue;
      char line[64];
      std::snprintf(line, sizeof line, "%lld %lld %.17g\n", static_cast<long long>(it.row() + 1),
                    static_cast<long long>(it.col() + 1), it.value());
      lines.emplace_back(line);
    }
  }
  std::string out = "%%MatrixMarket matrix coordinate real symmetric\n% grid test matrix\n";
  out += std::to_string(a.rows()) + " " + std::to_string(a.cols()) + " " +
         std::to_string(lines.size()) + "\n";
  for (const auto& line : lines)
    out += line;
  return out;
}

TEST(KelvinCli, SolveReadsAMatrixMarketSystemFarLargerThanTheBoardAndSolvesIt) {
  TempDir dir;
  const Eigen::SparseMatrix<double> a = grid_matrix(40, 50);  // 2,000 unknowns, 8 cells
  Eigen::VectorXd b(a.rows());
  for (Eigen::Index i = 0; i < b.size(); ++i)
    b(i) = 1.0 + 0.5 * static_cast<double>((i * 37) % 11) - 2.0 * static_cast<double>(i % 3);
  dir.write("A.mtx", symmetric_market_text(a));
  write_vector_text(dir / "b.txt", b);
  const Outcome outcome =
      run_kelvin(dir, {"solve", "--uri", "sim:resonator?cells=8", "--matrix",
                       (dir / "A.mtx").string(), "--rhs", (dir / "b.txt").string(), "--json"});
  ASSERT_EQ(outcome.exit_code, 0) << outcome.err;
  json result;
  ASSERT_NO_THROW(result = json::parse(outcome.out)) << outcome.out.substr(0, 500);
  ASSERT_TRUE(result.contains("energy"));
  ASSERT_TRUE(result.contains("summary"));
  EXPECT_EQ(result["summary"].value("unknowns", 0), 2000);
  EXPECT_TRUE(result["summary"].value("converged", false)) << result["summary"].dump();
  const double reported = result["residual"].get<double>();
  EXPECT_LE(reported, 1e-3);
  const std::vector<double> xs = result["x"].get<std::vector<double>>();
  ASSERT_EQ(xs.size(), 2000u);
  const Eigen::VectorXd x = Eigen::Map<const Eigen::VectorXd>(xs.data(), 2000);
  const double residual = (b - a * x).norm() / b.norm();
  EXPECT_LE(residual, 1e-3);
  EXPECT_NEAR(residual, reported, 1e-6);
}

// The runtime, not the CLI, chooses the block path, and --batches and --batch-relaxation-times
// reach it: each block solve runs the batches given (4 of 25 relaxation times without them), so
// the device time per block solve grows with them, and the summary says what was used.
TEST(KelvinCli, SolveHonoursBatchesOnTheBlockPath) {
  TempDir dir;
  const Eigen::SparseMatrix<double> a = grid_matrix(4, 5);  // 20 unknowns, 8 cells
  write_matrix_text(dir / "A.txt", Eigen::MatrixXd(a));
  write_vector_text(dir / "b.txt", Eigen::VectorXd::LinSpaced(20, -1.0, 1.0));
  const auto solve = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {"solve",
                                     "--uri",
                                     "sim:resonator?cells=8",
                                     "--matrix",
                                     (dir / "A.txt").string(),
                                     "--rhs",
                                     (dir / "b.txt").string(),
                                     "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    const Outcome outcome = run_kelvin(dir, args);
    EXPECT_EQ(outcome.exit_code, 0) << outcome.err;
    return json::parse(outcome.out)["summary"];
  };
  const json plain = solve({});
  const json given = solve({"--batches", "9", "--batch-relaxation-times", "40"});
  EXPECT_EQ(plain.value("method", ""), "block");
  EXPECT_EQ(plain.value("block_batches", 0), 4);
  EXPECT_EQ(plain.value("block_batch_relaxation_times", 0.0), 25.0);
  EXPECT_EQ(given.value("method", ""), "block");
  EXPECT_EQ(given.value("block_batches", 0), 9);
  EXPECT_EQ(given.value("block_batch_relaxation_times", 0.0), 40.0);
  const auto per_block = [](const json& s) {
    return s.value("device_time_s", 0.0) / s.value("block_solves", 1.0);
  };
  EXPECT_GT(per_block(given), 3.0 * per_block(plain));
}

}  // namespace
}  // namespace kelvin::tools::matrix_io
