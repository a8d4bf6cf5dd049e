// `kelvin` on a capacitive board (couplings=capacitive: off-diagonals <= 0 only) end to end: a
// matrix with positive off-diagonals is sign-doubled into 2n unknowns (sign_doubling.hpp), and
// when that does not fit, the one error line says so and what to do.
#include <string>
#include <tuple>

#include <gtest/gtest.h>
#include <Eigen/Dense>

#include "cli_runner.hpp"
#include "kelvin/tools/matrix_io/matrix_io.hpp"
#include "test_files.hpp"

namespace kelvin::tools::matrix_io {
namespace {

using testing::Outcome;
using testing::run_kelvin;
using testing::TempDir;

constexpr const char* kCapacitive = "sim:resonator?cells=8&seed=5&couplings=capacitive";

// 6 unknowns, diagonally dominant, off-diagonals of both signs (the largest positive, 0.2, at
// (0, 1)): sign doubling would need 12 cells.
Eigen::MatrixXd six_unknowns() {
  Eigen::MatrixXd a = Eigen::MatrixXd::Identity(6, 6);
  for (Eigen::Index i = 0; i + 1 < 6; ++i)
    a(i, i + 1) = a(i + 1, i) = i % 2 == 0 ? 0.2 : -0.15;
  return a;
}

void expect_one_error_line_with(const Outcome& outcome,
                                std::initializer_list<const char*> needles) {
  EXPECT_EQ(outcome.exit_code, 1);
  EXPECT_EQ(outcome.out, "");
  ASSERT_EQ(outcome.err_lines().size(), 1u) << outcome.err;
  EXPECT_EQ(outcome.err.rfind("kelvin: error: ", 0), 0u) << outcome.err;
  for (const char* needle : needles)
    EXPECT_NE(outcome.err.find(needle), std::string::npos)
        << "no '" << needle << "' in " << outcome.err;
}

TEST(KelvinCli, SolveOnACapacitiveBoardExplainsTheSignDoublingThatDoesNotFit) {
  TempDir dir;
  write_matrix_text(dir / "A.txt", six_unknowns());
  write_vector_text(dir / "b.txt", Eigen::VectorXd::Ones(6));
  const Outcome outcome =
      run_kelvin(dir, {"solve", "--uri", kCapacitive, "--matrix", (dir / "A.txt").string(), "--rhs",
                       (dir / "b.txt").string()});
  expect_one_error_line_with(
      outcome, {"this board's couplings are capacitive (off-diagonals <= 0 only)", "A(0, 1) = 0.2",
                "sign doubling as a 2n = 12-unknown system", "needs 12 cells but the board has 8",
                "use a board with >= 12 cells or with "
                "signed couplings, or make A's off-diagonals <= 0"});
}

// The same board solves the same matrix with its positive off-diagonals negated (<= 0: realized
// directly, no doubling), and a 4-unknown one with positive off-diagonals by doubling onto 8.
TEST(KelvinCli, SolveOnACapacitiveBoardSolvesWhatFits) {
  TempDir dir;
  Eigen::MatrixXd m = -six_unknowns().cwiseAbs();
  m.diagonal().setOnes();
  write_matrix_text(dir / "M.txt", m);
  write_vector_text(dir / "b6.txt", Eigen::VectorXd::Ones(6));
  write_matrix_text(dir / "A4.txt", six_unknowns().topLeftCorner(4, 4));
  write_vector_text(dir / "b4.txt", Eigen::VectorXd::Ones(4));
  for (const auto& [matrix, rhs, doubled] :
       {std::tuple{"M.txt", "b6.txt", false}, std::tuple{"A4.txt", "b4.txt", true}}) {
    const Outcome outcome =
        run_kelvin(dir, {"solve", "--uri", kCapacitive, "--matrix", (dir / matrix).string(),
                         "--rhs", (dir / rhs).string(), "--json"});
    ASSERT_EQ(outcome.exit_code, 0) << outcome.err;
    const auto result = testing::json::parse(outcome.out);
    EXPECT_EQ(result["summary"].value("sign_doubled", !doubled), doubled) << matrix;
  }
}

TEST(KelvinCli, LogdetOnACapacitiveBoardSaysWhyItDoesNotDouble) {
  TempDir dir;
  write_matrix_text(dir / "A.txt", six_unknowns().topLeftCorner(4, 4));
  const Outcome outcome =
      run_kelvin(dir, {"logdet", "--uri", kCapacitive, "--matrix", (dir / "A.txt").string()});
  expect_one_error_line_with(
      outcome, {"capacitive", "A(0, 1) = 0.2 is positive", "solve() would sign-double A",
                "det(A) det(A')", "signed couplings"});
}

}  // namespace
}  // namespace kelvin::tools::matrix_io
