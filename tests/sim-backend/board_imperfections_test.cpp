#include "kelvin/sim_backend/board_imperfections.hpp"

#include <cmath>

#include <gtest/gtest.h>

namespace kelvin::sim_backend {
namespace {

TEST(BoardImperfections, SameSerialGivesTheSameFlaws) {
  const auto a = draw_imperfections("SIM-RES-8-1", 8, {});
  const auto b = draw_imperfections("SIM-RES-8-1", 8, {});
  EXPECT_EQ(a.resistance_scale, b.resistance_scale);
  EXPECT_EQ(a.adc_offset_codes, b.adc_offset_codes);
  EXPECT_EQ(a.coupling_dac_gain, b.coupling_dac_gain);
}

TEST(BoardImperfections, DifferentSerialsGiveDifferentFlaws) {
  const auto a = draw_imperfections("SIM-RES-8-1", 8, {});
  const auto b = draw_imperfections("SIM-RES-8-2", 8, {});
  EXPECT_NE(a.resistance_scale, b.resistance_scale);
  EXPECT_NE(a.noise_scale, b.noise_scale);
}

TEST(BoardImperfections, ACellKeepsItsFlawsWhateverTheCellCount) {
  const auto small = draw_imperfections("BOARD-7", 4, {});
  const auto large = draw_imperfections("BOARD-7", 64, {});
  EXPECT_EQ(small.capacitance_scale, large.capacitance_scale.head(4));
  EXPECT_EQ(small.adc_gain, large.adc_gain.head(4));
}

TEST(BoardImperfections, DrawsStayWithinTheirSpreadsAndHaveTheUniformVariance) {
  // Uniform on [-s, s]: variance s^2 / 3. The sample variance of n = 256 draws has relative
  // standard error sqrt((9/5 - 1) / n) = 5.6% (uniform kurtosis 9/5); 5 of them is 28%.
  const ImperfectionModel model;
  const auto flaws = draw_imperfections("BOARD-STATS", 256, model);
  const Eigen::VectorXd e = flaws.resistance_scale.array() - 1.0;
  EXPECT_LE(e.cwiseAbs().maxCoeff(), model.resistance);
  EXPECT_LE(flaws.adc_offset_codes.cwiseAbs().maxCoeff(), model.adc_offset_codes);
  const double variance = e.squaredNorm() / 256.0;
  const double expected = model.resistance * model.resistance / 3.0;
  EXPECT_NEAR(variance / expected, 1.0, 0.28);
  // Mean: standard error s / sqrt(3 n); 5 of them.
  EXPECT_LT(std::abs(e.mean()), 5.0 * model.resistance / std::sqrt(3.0 * 256.0));
}

TEST(BoardImperfections, AnIdealBoardHasNoFlaws) {
  const auto flaws = draw_imperfections("ANY", 5, ImperfectionModel::ideal());
  EXPECT_EQ(flaws.resistance_scale, Eigen::VectorXd::Ones(5));
  EXPECT_EQ(flaws.adc_offset_codes, Eigen::VectorXd::Zero(5));
  EXPECT_EQ(flaws.coupling_dac_gain, 1.0);
}

TEST(BoardImperfections, RefusesImpossibleSpreads) {
  ImperfectionModel bad;
  bad.capacitance = 0.7;
  EXPECT_THROW(draw_imperfections("X", 2, bad), std::invalid_argument);
  bad = {};
  bad.adc_offset_codes = -1;
  EXPECT_THROW(draw_imperfections("X", 2, bad), std::invalid_argument);
}

}  // namespace
}  // namespace kelvin::sim_backend
