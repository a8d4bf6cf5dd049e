// Long-run statistics of the emulated Ornstein-Uhlenbeck board against theory, with tolerances
// derived from the estimators' variances (not tuned to the seed).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include <Eigen/Dense>
#include <unsupported/Eigen/MatrixFunctions>

#include "board_client.hpp"

namespace kelvin::sim_backend::testing {
namespace {

using Eigen::Matrix4d;
using Eigen::Vector4d;

constexpr double kCouplingLsb = 1.0 / 16384.0;  // 1/us
constexpr double kBiasLsb = 1.0 / 8192.0;       // V/us
constexpr double kNoiseLsb = 1.0 / 65536.0;     // V^2/us
constexpr double kAdcLsb = 1.0 / 16384.0;       // V

TEST(OuStatistics, SampleMeanAndCovarianceMatchTheStationaryDistribution) {
  // A 4-cell SPD system with eigenvalues in [0.3, 1.1] per microsecond (correlation times of a
  // few samples), a mean of up to 0.6 V, and D = 0.02 V^2/us so that mean + 4 sigma < 2 V
  // (the ADC full scale): the ADC never clips and sees the Gaussian undistorted.
  Matrix4d a;
  a << 0.8, -0.2, 0.1, 0.0,    //
      -0.2, 0.7, -0.15, 0.05,  //
      0.1, -0.15, 0.6, -0.1,   //
      0.0, 0.05, -0.1, 0.5;
  const Vector4d target_mean(0.5, -0.4, 0.3, -0.6);
  const Vector4d b = a * target_mean;
  const double d = 0.02;

  // Program the DAC codes, and derive the expectations from the dequantized (programmed) values.
  std::vector<std::int16_t> upper;
  Matrix4d a_q;
  for (int i = 0; i < 4; ++i) {
    for (int j = i; j < 4; ++j) {
      const auto code = static_cast<std::int16_t>(std::lround(a(i, j) / kCouplingLsb));
      upper.push_back(code);
      a_q(i, j) = a_q(j, i) = code * kCouplingLsb;
    }
  }
  std::vector<std::int16_t> bias_codes(4);
  Vector4d b_q;
  for (int i = 0; i < 4; ++i) {
    bias_codes[i] = static_cast<std::int16_t>(std::lround(b(i) / kBiasLsb));
    b_q(i) = bias_codes[i] * kBiasLsb;
  }
  const auto noise_code = static_cast<std::uint32_t>(std::lround(d / kNoiseLsb));
  const double d_q = noise_code * kNoiseLsb;

  // Theory in ADC code units. The exactly sampled OU chain x_{k+1} = Phi x_k + c + w_k has the
  // continuous process's stationary law N(A^-1 b, D A^-1) and lag-m autocovariance
  // C(m) = Phi^m Sigma (m >= 0), C(-m) = C(m)^T.
  const Vector4d mean = a_q.llt().solve(b_q) / kAdcLsb;
  const Matrix4d sigma = d_q * a_q.inverse() / (kAdcLsb * kAdcLsb);
  const Matrix4d phi = Matrix4d(-a_q).exp();  // h = 1 us
  for (int i = 0; i < 4; ++i) {
    ASSERT_LT(std::abs(mean(i)) + 4.0 * std::sqrt(sigma(i, i)), 32767.0) << "cell " << i;
  }

  ResonatorConfig config;
  config.cells = 4;
  config.seed = 12345;
  BoardClient board(config);
  ASSERT_TRUE(board.program_couplings(upper).has_ack());
  ASSERT_TRUE(board.program_biases(bias_codes).has_ack());
  ASSERT_TRUE(board.set_noise(noise_code).has_ack());
  board.run(2000, true, false, false);  // burn-in: ~600 relaxation times of the slowest mode
  constexpr std::uint64_t kSamples = std::uint64_t{1} << 21;
  const auto r = board.run(kSamples, false, true, false);
  ASSERT_EQ(r.sample_count(), kSamples);
  ASSERT_EQ(r.clipped_samples(), 0u);
  ASSERT_EQ(r.sums_size(), 4);
  ASSERT_EQ(r.product_sums_size(), 10);

  const auto n = static_cast<long double>(kSamples);
  Vector4d sample_mean;
  for (int i = 0; i < 4; ++i)
    sample_mean(i) = static_cast<double>(r.sums(i) / n);
  Matrix4d sample_cov;
  for (int i = 0; i < 4; ++i) {
    for (int j = i; j < 4; ++j) {
      const long double mi = r.sums(i) / n;
      const long double mj = r.sums(j) / n;
      const auto p = static_cast<int>(firmware_protocol::upper_triangle_index(
          4, static_cast<std::size_t>(i), static_cast<std::size_t>(j)));
      sample_cov(i, j) = sample_cov(j, i) = static_cast<double>(r.product_sums(p) / n - mi * mj);
    }
  }

  // Var(mean_i) ~ (1/n) [(I + Phi)(I - Phi)^-1 Sigma]_ii (sum of all lagged covariances).
  const Matrix4d identity = Matrix4d::Identity();
  const Matrix4d long_run = (identity + phi) * (identity - phi).inverse() * sigma;
  // Var(S_ij) ~ (1/n) sum_m [C_ii(m) C_jj(m) + C_ij(m) C_ji(m)] (Isserlis), summed until the
  // lagged covariances have decayed below 1e-12 of Sigma.
  Matrix4d var_cov = Matrix4d::Zero();
  Matrix4d phi_m = identity;
  for (int m = 0; m < 100000; ++m) {
    const Matrix4d c = phi_m * sigma;  // C(m); C(-m) = C(m)^T gives the same products
    for (int i = 0; i < 4; ++i) {
      for (int j = 0; j < 4; ++j) {
        const double term = c(i, i) * c(j, j) + c(i, j) * c(j, i);
        var_cov(i, j) += m == 0 ? term : 2.0 * term;
      }
    }
    phi_m = phi_m * phi;
    if (phi_m.cwiseAbs().maxCoeff() < 1e-12)
      break;
  }
  ASSERT_LT(phi_m.cwiseAbs().maxCoeff(), 1e-12);

  // 5-sigma bound per entry; 4 means + 10 covariance entries = 14 comparisons. ADC rounding adds
  // lsb^2 / 12 (1/12 code^2) to each variance; it is independent across cells.
  for (int i = 0; i < 4; ++i) {
    const double sd = std::sqrt(long_run(i, i) / static_cast<double>(kSamples));
    EXPECT_NEAR(sample_mean(i), mean(i), 5.0 * sd) << "mean of cell " << i;
  }
  for (int i = 0; i < 4; ++i) {
    for (int j = i; j < 4; ++j) {
      const double want = sigma(i, j) + (i == j ? 1.0 / 12.0 : 0.0);
      const double sd = std::sqrt(var_cov(i, j) / static_cast<double>(kSamples));
      EXPECT_NEAR(sample_cov(i, j), want, 5.0 * sd) << "covariance (" << i << ", " << j << ")";
    }
  }
}

}  // namespace
}  // namespace kelvin::sim_backend::testing
