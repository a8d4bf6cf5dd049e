#include "kelvin/runtime/problem_scaling.hpp"

#include <cmath>

#include <gtest/gtest.h>
#include <Eigen/Dense>

#include "kelvin/common/error.hpp"
#include "kelvin/driver/backends/backends.hpp"
#include "spd_fixtures.hpp"

namespace kelvin::runtime {
namespace {

driver::DeviceDescription board(std::uint32_t cells = 8) {
  return driver::backends::open("sim:resonator?cells=" + std::to_string(cells))->description();
}

double half_range(const driver::DeviceDescription& d) {
  return std::min(-d.adc.min_value(), d.adc.max_value());
}

TEST(ProblemScaling, LargestCouplingLandsOnTheEndCode) {
  const auto d = board();
  const Eigen::MatrixXd a = testing::random_spd(8, 50, 1);
  const auto sys = compile_system(a, testing::random_vector(8, 2), d, {});
  std::int64_t largest = 0;
  for (auto c : sys.nearest.couplings.upper())
    largest = std::max<std::int64_t>(largest, std::abs(c));
  EXPECT_EQ(largest, d.coupling.max_code);
}

TEST(ProblemScaling, QuantizationErrorIsAtMostHalfAnLsbPerEntry) {
  const auto d = board();
  const Eigen::MatrixXd a = testing::random_spd(8, 50, 3);
  const Eigen::VectorXd b = testing::random_vector(8, 4);
  const auto sys = compile_system(a, b, d, {});
  const double entry_lsb = d.coupling.lsb / sys.coupling_scale;  // one code in user units
  EXPECT_LE((a - sys.nearest.matrix).cwiseAbs().maxCoeff(), 0.5 * entry_lsb * (1 + 1e-12));
  const double bias_lsb = d.bias.lsb * sys.state_scale / sys.coupling_scale;
  EXPECT_LE((b - sys.nearest.rhs).cwiseAbs().maxCoeff(), 0.5 * bias_lsb * (1 + 1e-12));
  EXPECT_GT(sys.matrix_quantization_error, 0.0);
  EXPECT_LT(sys.matrix_quantization_error, 1e-4);
}

TEST(ProblemScaling, SolutionBoundPlusNoiseFitsTheAdcRange) {
  const auto d = board();
  const Eigen::MatrixXd a = testing::random_spd(8, 80, 5);
  const Eigen::VectorXd b = testing::random_vector(8, 6);
  ScalingTargets targets{0.5, 4.0};
  const auto sys = compile_system(a, b, d, targets);
  // The true solution, in device volts, stays within mean_fraction of the half-range ...
  const Eigen::VectorXd x_dev = a.llt().solve(b) / sys.state_scale;
  EXPECT_LE(x_dev.cwiseAbs().maxCoeff(), 0.5 * half_range(d));
  // ... and 4 sigma of the widest cell fits in the rest.
  const double sigma_max = std::sqrt(sys.diffusion / sys.device_lambda_min);
  EXPECT_LE(0.5 * half_range(d) + 4.0 * sigma_max, half_range(d));
  // Noise is not needlessly small: within one noise code of the bound.
  const double next_sigma = std::sqrt((sys.diffusion + d.noise.lsb) / sys.device_lambda_min);
  EXPECT_GT(0.5 * half_range(d) + 4.0 * next_sigma, half_range(d));
}

TEST(ProblemScaling, SpareCellsAreDecoupledAndUnbiased) {
  const auto d = board(8);
  Eigen::MatrixXd a(3, 3);
  a << 4, 1, 0, 1, 3, -1, 0, -1, 2;
  const auto sys = compile_system(a, Eigen::Vector3d(1, 2, 3), d, {});
  for (std::uint32_t i = 3; i < 8; ++i) {
    EXPECT_GT(sys.nearest.couplings.get(i, i), 0);
    EXPECT_EQ(sys.nearest.bias_codes[i], 0);
    for (std::uint32_t j = 0; j < 8; ++j) {
      if (j != i) {
        EXPECT_EQ(sys.nearest.couplings.get(i, j), 0);
      }
    }
  }
  EXPECT_EQ(sys.nearest.matrix.rows(), 3);
}

TEST(ProblemScaling, RefusesMoreUnknownsThanCells) {
  try {
    compile_system(Eigen::MatrixXd::Identity(9, 9), Eigen::VectorXd::Ones(9), board(8), {});
    FAIL();
  } catch (const common::Error& e) {
    EXPECT_EQ(e.kind(), common::ErrorKind::kNotSupported);
  }
}

TEST(ProblemScaling, RefusesAMatrixThatQuantizationMakesIndefinite) {
  // Eigenvalues 1 and 1e-7: the small one is far below one coupling LSB of the large one.
  Eigen::MatrixXd a(2, 2);
  const double e = 1e-7;
  a << 0.5 + e / 2, 0.5 - e / 2, 0.5 - e / 2, 0.5 + e / 2;
  try {
    compile_system(a, Eigen::Vector2d(1, 0), board(2), {});
    FAIL() << "an effectively singular matrix was compiled";
  } catch (const common::Error& e2) {
    EXPECT_EQ(e2.kind(), common::ErrorKind::kNotSupported);
    EXPECT_NE(std::string(e2.what()).find("ill-conditioned"), std::string::npos) << e2.what();
  }
}

TEST(ProblemScaling, RescaledRhsStaysInsideTheBiasDac) {
  const auto d = board(4);
  const Eigen::MatrixXd a = testing::random_spd(4, 10, 7);
  const Eigen::VectorXd b = testing::random_vector(4, 8);
  auto sys = compile_system(a, b, d, {});
  rescale_rhs(sys, b, d, sys.state_scale * 1e-9);  // ask for far more gain than the DAC has
  for (auto code : sys.nearest.bias_codes)
    EXPECT_TRUE(d.bias.contains(code));
  std::int64_t largest = 0;
  for (auto c : sys.nearest.bias_codes)
    largest = std::max<std::int64_t>(largest, std::abs(c));
  EXPECT_EQ(largest, d.bias.max_code);
}

TEST(ProblemScaling, ZeroRhsGivesZeroBiases) {
  const auto sys =
      compile_system(testing::random_spd(4, 10, 9), Eigen::VectorXd::Zero(4), board(4), {});
  for (auto code : sys.nearest.bias_codes)
    EXPECT_EQ(code, 0);
  EXPECT_EQ(sys.bias_quantization_error, 0.0);
}

}  // namespace
}  // namespace kelvin::runtime
