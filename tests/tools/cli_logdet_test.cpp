// `kelvin logdet` end to end: run as a child process on the emulated board, stdout parsed as
// JSON, stderr captured to a file.
#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <Eigen/Dense>
#include <nlohmann/json.hpp>

#include "cli_runner.hpp"
#include "kelvin/tools/matrix_io/matrix_io.hpp"
#include "test_files.hpp"

namespace kelvin::tools::matrix_io {
namespace {

using nlohmann::json;
using testing::Outcome;
using testing::run_kelvin;
using testing::small_spd_matrix;
using testing::TempDir;

// The board's answer against Eigen's log det of A within 5 standard errors (normal, two-sided
// 6e-7), plus the quantization allowance: |log det A_q - log det A| <= n * eps * cond(A) with
// eps the reported relative quantization error (logdet.hpp), and the estimator's second-order
// bias (bias_estimate).
TEST(KelvinCli, LogdetJsonGivesTheLogDeterminantWithinItsErrorBar) {
  TempDir dir;
  const Eigen::MatrixXd a = small_spd_matrix();
  write_matrix_text(dir / "A.txt", a);
  const Outcome outcome = run_kelvin(
      dir, {"logdet", "--matrix", (dir / "A.txt").string(), "--trajectories", "400", "--json"});
  ASSERT_EQ(outcome.exit_code, 0) << outcome.err;
  json result;
  ASSERT_NO_THROW(result = json::parse(outcome.out)) << outcome.out;
  ASSERT_TRUE(result.contains("logdet"));
  ASSERT_TRUE(result.contains("stderr"));
  ASSERT_TRUE(result.contains("summary"));
  ASSERT_TRUE(result.contains("energy"));
  EXPECT_EQ(result["summary"].value("estimator", ""), "jarzynski-forward");
  EXPECT_GT(result["energy"].value("total_j", 0.0), 0.0);
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(a);
  const double exact = eig.eigenvalues().array().log().sum();
  const double cond = eig.eigenvalues().maxCoeff() / eig.eigenvalues().minCoeff();
  const double se = result["stderr"].get<double>();
  const auto& s = result["summary"];
  const double allowance =
      4.0 * s.value("matrix_quantization_error", 1.0) * cond + s.value("bias_estimate", 1.0);
  EXPECT_GT(se, 0.0);
  EXPECT_LE(std::abs(result["logdet"].get<double>() - exact), 5.0 * se + allowance) << outcome.out;
}

TEST(KelvinCli, LogdetRefusesAnIndefiniteMatrixWithOneErrorLine) {
  TempDir dir;
  write_matrix_text(dir / "A.txt", -small_spd_matrix());
  const Outcome outcome = run_kelvin(dir, {"logdet", "--matrix", (dir / "A.txt").string()});
  EXPECT_EQ(outcome.exit_code, 1);
  EXPECT_EQ(outcome.out, "");
  EXPECT_NE(outcome.err.find("kelvin: error: "), std::string::npos) << outcome.err;
  EXPECT_NE(outcome.err.find("positive definite"), std::string::npos) << outcome.err;
}

}  // namespace
}  // namespace kelvin::tools::matrix_io
