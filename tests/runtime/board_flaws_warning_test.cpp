// Jobs on a board that states component spreads (imperfections=typical on the emulator) warn
// that no calibration is applied: the flaws bias the answer by about their own size, which the
// error bars do not include. Ideal boards give no such warning.
#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <Eigen/Dense>

#include "kelvin/runtime/inverse.hpp"
#include "kelvin/runtime/solve.hpp"
#include "kelvin/testing/boards.hpp"
#include "spd_fixtures.hpp"

namespace kelvin::runtime {
namespace {

using kelvin::testing::open_resonator_board;

bool warns_of_missing_calibration(const std::vector<std::string>& warnings) {
  return std::any_of(warnings.begin(), warnings.end(), [](const std::string& w) {
    return w.find("no calibration is applied") != std::string::npos &&
           w.find("typical") != std::string::npos;
  });
}

TEST(BoardFlaws, JobsOnAFlawedBoardWarnThatNoCalibrationIsApplied) {
  const Eigen::MatrixXd a = testing::random_spd(6, 10.0, 3);
  const Eigen::VectorXd b = Eigen::VectorXd::LinSpaced(6, -1.0, 1.0);
  auto flawed = open_resonator_board(8, 1, "&imperfections=typical");
  const auto solved = solve(flawed, a, b);
  EXPECT_TRUE(warns_of_missing_calibration(solved.summary.warnings))
      << solved.summary.full_report();
  const auto inverted = inverse(flawed, a);
  EXPECT_TRUE(warns_of_missing_calibration(inverted.summary.warnings))
      << inverted.summary.full_report();
}

TEST(BoardFlaws, JobsOnAnIdealBoardDoNotWarnOfCalibration) {
  const Eigen::MatrixXd a = testing::random_spd(6, 10.0, 3);
  const Eigen::VectorXd b = Eigen::VectorXd::LinSpaced(6, -1.0, 1.0);
  auto ideal = open_resonator_board(8, 1);
  const auto solved = solve(ideal, a, b);
  EXPECT_FALSE(warns_of_missing_calibration(solved.summary.warnings))
      << solved.summary.full_report();
}

}  // namespace
}  // namespace kelvin::runtime
