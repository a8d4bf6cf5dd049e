// The resonator board's v3 modes, driven through encoded frames: RLC dynamics, capacitive
// couplings, decimation and averaging, per-serial imperfections and the quartic register.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "board_client.hpp"
#include "kelvin/sim_backend/board_imperfections.hpp"
#include "kelvin/sim_backend/exact_discretization.hpp"
#include "kelvin/sim_backend/rlc_circuit.hpp"

namespace kelvin::sim_backend::testing {
namespace {

constexpr double kLsb = 1.0 / 16384.0;  // ADC and coupling lsb

firmware_protocol::wire::StartRun start(std::uint64_t samples,
                                        firmware_protocol::wire::Dynamics dynamics, bool products,
                                        bool record, std::uint32_t decimation = 1,
                                        bool average = false) {
  firmware_protocol::wire::StartRun s;
  s.set_duration_ticks(samples * 100 * decimation);
  s.set_dynamics(dynamics);
  s.set_accumulate_products(products);
  s.set_record_samples(record);
  s.set_decimation(decimation);
  s.set_average(average);
  return s;
}

// A 4-cell chain: A = 1/us on the diagonal, -0.25/us between neighbours (SPD, off-diagonals <= 0
// so a capacitive board realizes it too).
Eigen::MatrixXd chain_matrix() {
  Eigen::MatrixXd a = Eigen::MatrixXd::Identity(4, 4);
  for (int i = 0; i + 1 < 4; ++i)
    a(i, i + 1) = a(i + 1, i) = -0.25;
  return a;
}

std::vector<std::int16_t> codes_of(const Eigen::MatrixXd& a) {
  return upper_codes(static_cast<std::uint32_t>(a.rows()), [&](std::uint32_t i, std::uint32_t j) {
    return static_cast<std::int16_t>(std::lround(a(i, j) / kLsb));
  });
}

ResonatorConfig four_cells() {
  ResonatorConfig config;
  config.cells = 4;
  return config;
}

// ---- RLC dynamics ----

// The stationary voltage covariance of the RLC board is kappa0 r C^-1 = D A^-1 (the registers
// are scaled so), its mean is 0 whatever the bias (the inductors short DC), and its lag-one
// covariance is the RLC circuit's [Phi Sigma]_vv, not the overdamped one. Each quantity is
// averaged over 32 consecutive runs of 65536 samples; the runs are far longer than the
// correlation time (a few us), so their spread gives the standard error of the average. The
// bound is 5 standard errors (Student t with 31 dof: two-sided p < 2e-5 per entry, 30 entries).
TEST(BoardModes, RlcRunsSampleDTimesAInverseWithZeroMeanAndTheCircuitsLagOneCovariance) {
  BoardClient board(four_cells());
  const Eigen::MatrixXd a = chain_matrix();
  constexpr std::uint32_t kNoiseCode = 6554;  // D = 0.1 V^2/us
  const double d = kNoiseCode / 65536.0;
  ASSERT_TRUE(board.program_couplings(codes_of(a)).has_ack());
  ASSERT_TRUE(board.program_biases({4096, -4096, 2048, 0}).has_ack());  // 0.5 mA, -0.5 mA, ...
  ASSERT_TRUE(board.set_noise(kNoiseCode).has_ack());
  board.run(
      start(20000, firmware_protocol::wire::DYNAMICS_RLC, false, false));  // burn-in: 20 ms >> RC

  // The circuit, in SI units, as resonator_registers.hpp specifies it: [i; v] order here.
  RlcComponents rlc;
  rlc.resistance = Eigen::VectorXd::Constant(4, 1e3);
  rlc.inductance = Eigen::VectorXd::Constant(4, 1e-4);
  rlc.capacitance = a * 1e-9;
  rlc.noise_intensity = Eigen::VectorXd::Constant(4, d * 1e-12);
  const LinearSde sde = rlc_sde(rlc);
  const Discretization step = discretize_lti(sde.drift, sde.diffusion, 1e-6);
  const Eigen::MatrixXd sigma = stationary_covariance(step);
  const Eigen::MatrixXd cov_v = sigma.bottomRightCorner(4, 4) / (kLsb * kLsb);  // codes^2
  const Eigen::MatrixXd lag_v = (step.phi * sigma).bottomRightCorner(4, 4) / (kLsb * kLsb);
  // The registers make the stationary covariance the overdamped one, D A^-1.
  ASSERT_LT((cov_v * kLsb * kLsb - d * a.inverse()).cwiseAbs().maxCoeff(), 1e-9);

  constexpr int kRuns = 32;
  constexpr std::uint64_t kSamples = 65536;
  std::vector<Eigen::VectorXd> means;
  std::vector<Eigen::MatrixXd> covs, lags;
  for (int r = 0; r < kRuns; ++r) {
    const auto res = board.run(start(kSamples, firmware_protocol::wire::DYNAMICS_RLC, true, true));
    ASSERT_EQ(res.clipped_samples(), 0u);
    const auto x = from_le16(res.samples_le16());
    Eigen::MatrixXd v(4, kSamples);
    for (std::uint64_t k = 0; k < kSamples; ++k) {
      for (int i = 0; i < 4; ++i)
        v(i, static_cast<Eigen::Index>(k)) = x[k * 4 + static_cast<std::uint64_t>(i)];
    }
    const Eigen::VectorXd m = v.rowwise().mean();
    const Eigen::MatrixXd c = v.colwise() - m;
    means.push_back(m);
    covs.push_back(c * c.transpose() / static_cast<double>(kSamples));
    lags.push_back(c.rightCols(kSamples - 1) * c.leftCols(kSamples - 1).transpose() /
                   static_cast<double>(kSamples - 1));
    // The on-board product sums agree with the recorded samples.
    EXPECT_EQ(res.product_sums(0), static_cast<std::int64_t>(v.row(0).squaredNorm()));
  }
  const auto check = [&](const std::vector<Eigen::MatrixXd>& runs, const Eigen::MatrixXd& want,
                         const char* what) {
    Eigen::MatrixXd mean = Eigen::MatrixXd::Zero(want.rows(), want.cols());
    for (const auto& m : runs)
      mean += m / kRuns;
    Eigen::MatrixXd var = Eigen::MatrixXd::Zero(want.rows(), want.cols());
    for (const auto& m : runs)
      var += (m - mean).cwiseAbs2() / (kRuns - 1);
    const Eigen::MatrixXd se = (var / kRuns).cwiseSqrt();
    const double worst = ((mean - want).cwiseAbs().array() / se.array()).maxCoeff();
    std::printf("[   INFO   ] %s: largest deviation %.2f standard errors\n", what, worst);
    for (Eigen::Index i = 0; i < want.rows(); ++i) {
      for (Eigen::Index j = 0; j < want.cols(); ++j) {
        EXPECT_LE(std::abs(mean(i, j) - want(i, j)), 5.0 * se(i, j))
            << what << "(" << i << ", " << j << "): measured " << mean(i, j) << ", theory "
            << want(i, j) << ", standard error " << se(i, j);
      }
    }
  };
  std::vector<Eigen::MatrixXd> mean_columns(means.begin(), means.end());
  check(mean_columns, Eigen::VectorXd::Zero(4), "mean");
  // ADC rounding adds lsb^2 / 12 to each variance (in codes^2: 1/12).
  check(covs, cov_v + Eigen::MatrixXd::Identity(4, 4) / 12.0, "covariance");
  check(lags, lag_v, "lag-one covariance");
  // The overdamped board's lag-one covariance, expm(-A) D A^-1, is clearly different: the test
  // tells the two dynamics apart.
  const Discretization od = discretize_lti(-a, 2 * d * Eigen::MatrixXd::Identity(4, 4), 1.0);
  const Eigen::MatrixXd od_lag = od.phi * d * a.inverse() / (kLsb * kLsb);
  EXPECT_GT((od_lag - lag_v).cwiseAbs().maxCoeff(), 0.1 * lag_v.cwiseAbs().maxCoeff());
}

TEST(BoardModes, RlcRunIsRefusedForAMatrixThatIsNotACapacitanceMatrix) {
  BoardClient board(four_cells());
  Eigen::MatrixXd a = chain_matrix();
  a(0, 1) = a(1, 0) = -1.5;  // indefinite
  ASSERT_TRUE(board.program_couplings(codes_of(a)).has_ack());
  Envelope e = board.request();
  *e.mutable_start_run() = start(10, firmware_protocol::wire::DYNAMICS_RLC, false, false);
  const Envelope reply = board.exchange(e);
  ASSERT_TRUE(IsError(reply, ErrorCode::ERROR_CODE_INVALID_ARGUMENT));
  EXPECT_NE(reply.error().message().find("positive definite"), std::string::npos)
      << reply.error().message();
}

TEST(BoardModes, RlcRunIsRefusedWhileAQuarticTermIsSet) {
  BoardClient board(four_cells());
  ASSERT_TRUE(board.program_couplings(codes_of(chain_matrix())).has_ack());
  ASSERT_TRUE(board.set_quartic({0, 4096, 0, 0}).has_ack());
  Envelope e = board.request();
  *e.mutable_start_run() = start(10, firmware_protocol::wire::DYNAMICS_RLC, false, false);
  const Envelope reply = board.exchange(e);
  ASSERT_TRUE(IsError(reply, ErrorCode::ERROR_CODE_INVALID_ARGUMENT));
  EXPECT_NE(reply.error().message().find("quartic"), std::string::npos) << reply.error().message();
}

TEST(BoardModes, UnknownDynamicsIsRefused) {
  BoardClient board(four_cells());
  ASSERT_TRUE(board.program_couplings(codes_of(chain_matrix())).has_ack());
  Envelope e = board.request();
  *e.mutable_start_run() = start(10, firmware_protocol::wire::DYNAMICS_OVERDAMPED, false, false);
  e.mutable_start_run()->set_dynamics(static_cast<firmware_protocol::wire::Dynamics>(7));
  EXPECT_TRUE(IsError(board.exchange(e), ErrorCode::ERROR_CODE_INVALID_ARGUMENT));
}

// ---- Coupling realizability ----

TEST(BoardModes, CapacitiveBoardRefusesPositiveOffDiagonalCouplings) {
  ResonatorConfig config = four_cells();
  config.coupling_kind = CouplingKind::kCapacitive;
  BoardClient board(config);
  EXPECT_EQ(board.hello().device_info().resonator().coupling_kind(),
            firmware_protocol::wire::COUPLING_KIND_CAPACITIVE);
  ASSERT_TRUE(board.program_couplings(codes_of(chain_matrix())).has_ack());
  Eigen::MatrixXd a = chain_matrix();
  a(2, 3) = a(3, 2) = 0.125;
  const Envelope reply = board.program_couplings(codes_of(a));
  ASSERT_TRUE(IsError(reply, ErrorCode::ERROR_CODE_OUT_OF_RANGE));
  EXPECT_NE(reply.error().message().find("row 2, column 3"), std::string::npos)
      << reply.error().message();
  EXPECT_NE(reply.error().message().find("capacitive"), std::string::npos);
  // The same matrix is fine on a signed board.
  BoardClient signed_board(four_cells());
  EXPECT_TRUE(signed_board.program_couplings(codes_of(a)).has_ack());
}

// ---- Decimation and averaging ----

TEST(BoardModes, DecimationKeepsEveryKthAdcSampleAndAveragingTheirRoundedMean) {
  constexpr std::uint32_t kK = 5;
  constexpr std::uint64_t kOut = 2000;
  const auto program = [](BoardClient& b) {
    ASSERT_TRUE(b.program_couplings(codes_of(chain_matrix())).has_ack());
    ASSERT_TRUE(b.program_biases({1000, -2000, 3000, 0}).has_ack());
    ASSERT_TRUE(b.set_noise(3000).has_ack());
  };
  BoardClient raw_board(four_cells()), last_board(four_cells()), mean_board(four_cells());
  program(raw_board);
  program(last_board);
  program(mean_board);
  const auto raw = from_le16(
      raw_board.run(start(kOut * kK, firmware_protocol::wire::DYNAMICS_OVERDAMPED, false, true))
          .samples_le16());
  const auto last_run = last_board.run(
      start(kOut, firmware_protocol::wire::DYNAMICS_OVERDAMPED, true, true, kK, false));
  const auto mean_run = mean_board.run(
      start(kOut, firmware_protocol::wire::DYNAMICS_OVERDAMPED, true, true, kK, true));
  EXPECT_EQ(last_run.sample_count(), kOut);
  EXPECT_EQ(last_run.first_tick(), 100u * kK);
  const auto last = from_le16(last_run.samples_le16());
  const auto mean = from_le16(mean_run.samples_le16());
  ASSERT_EQ(last.size(), kOut * 4);
  ASSERT_EQ(mean.size(), kOut * 4);
  std::int64_t sum0 = 0;
  for (std::uint64_t k = 0; k < kOut; ++k) {
    for (std::uint64_t i = 0; i < 4; ++i) {
      EXPECT_EQ(last[k * 4 + i], raw[((k + 1) * kK - 1) * 4 + i]) << "output " << k;
      std::int64_t block = 0;
      for (std::uint64_t d = 0; d < kK; ++d)
        block += raw[(k * kK + d) * 4 + i];
      const double exact = static_cast<double>(block) / kK;
      const auto rounded = static_cast<std::int64_t>(std::lround(exact));  // half away from 0
      EXPECT_EQ(mean[k * 4 + i], rounded) << "output " << k << ", cell " << i;
    }
    sum0 += mean[k * 4];
  }
  EXPECT_EQ(mean_run.sums(0), sum0);
}

TEST(BoardModes, DecimationOutsideTheBoardsRangeOrAnUnalignedDurationIsRefused) {
  BoardClient board(four_cells());
  ASSERT_TRUE(board.program_couplings(codes_of(chain_matrix())).has_ack());
  Envelope e = board.request();
  *e.mutable_start_run() =
      start(10, firmware_protocol::wire::DYNAMICS_OVERDAMPED, false, false, 70000);
  EXPECT_TRUE(IsError(board.exchange(e), ErrorCode::ERROR_CODE_INVALID_ARGUMENT));
  e = board.request();
  *e.mutable_start_run() = start(10, firmware_protocol::wire::DYNAMICS_OVERDAMPED, false, false, 4);
  e.mutable_start_run()->set_duration_ticks(4 * 100 * 10 + 100);  // not a multiple of 400
  const Envelope reply = board.exchange(e);
  ASSERT_TRUE(IsError(reply, ErrorCode::ERROR_CODE_INVALID_ARGUMENT));
  EXPECT_NE(reply.error().message().find("(400)"), std::string::npos) << reply.error().message();
}

// ---- Imperfections ----

ResonatorConfig typical_board(const std::string& serial) {
  ResonatorConfig config = four_cells();
  config.serial = serial;
  config.imperfections = ImperfectionModel::typical();
  config.imperfections_name = "typical";
  return config;
}

// With no noise and no bias the cells sit at 0 V, so every ADC code is the rounded offset.
TEST(BoardModes, TypicalBoardReadsItsOwnAdcOffsetsAtZeroVolts) {
  BoardClient board(typical_board("BENCH-1"));
  ASSERT_TRUE(board.program_couplings(codes_of(chain_matrix())).has_ack());
  const auto res =
      board.run(start(100, firmware_protocol::wire::DYNAMICS_OVERDAMPED, false, false));
  const BoardImperfections flaws = draw_imperfections("BENCH-1", 4, ImperfectionModel::typical());
  int nonzero = 0;
  for (int i = 0; i < 4; ++i) {
    const auto offset = std::llround(flaws.adc_offset_codes(i));
    EXPECT_EQ(res.sums(i), 100 * offset) << "cell " << i;
    nonzero += offset != 0;
  }
  EXPECT_GT(nonzero, 0) << "the drawn offsets are all below half a code; pick another serial";
  const auto info = board.hello().device_info().resonator().imperfections();
  EXPECT_EQ(info.name(), "typical");
  EXPECT_EQ(info.adc_offset_codes(), 8.0);
}

// Noise-free, the overdamped state converges to (g A)^-1 b whatever the capacitances are; the
// ADC then reads a_i x_i / lsb + o_i. The coupling-DAC gain error is visible against an ideal
// board by tens of codes.
TEST(BoardModes, TypicalBoardShiftsTheSolutionByItsCouplingGainAndAdcErrors) {
  const std::vector<std::int16_t> b = {8192, -4096, 4096, 8192};  // 1, -0.5, 0.5, 1 V/us
  const auto settle = [&](const ResonatorConfig& config) {
    BoardClient board(config);
    EXPECT_TRUE(board.program_couplings(codes_of(chain_matrix())).has_ack());
    EXPECT_TRUE(board.program_biases(b).has_ack());
    board.run(start(200, firmware_protocol::wire::DYNAMICS_OVERDAMPED, false,
                    false));  // 200 us >> 1/lambda_min
    return from_le16(board.run(start(1, firmware_protocol::wire::DYNAMICS_OVERDAMPED, false, true))
                         .samples_le16());
  };
  const auto flawed = settle(typical_board("BENCH-2"));
  const auto ideal = settle(four_cells());
  const BoardImperfections flaws = draw_imperfections("BENCH-2", 4, ImperfectionModel::typical());
  const Eigen::Vector4d bv(1.0, -0.5, 0.5, 1.0);
  const Eigen::VectorXd x = (flaws.coupling_dac_gain * chain_matrix()).ldlt().solve(bv);
  const Eigen::VectorXd x_ideal = chain_matrix().ldlt().solve(bv);
  int visible = 0;
  for (int i = 0; i < 4; ++i) {
    const double want = x(i) * flaws.adc_gain(i) / kLsb + flaws.adc_offset_codes(i);
    EXPECT_LE(std::abs(flawed[static_cast<std::size_t>(i)] - want), 1.0) << "cell " << i;
    EXPECT_LE(std::abs(ideal[static_cast<std::size_t>(i)] - x_ideal(i) / kLsb), 1.0);
    visible +=
        std::abs(flawed[static_cast<std::size_t>(i)] - ideal[static_cast<std::size_t>(i)]) > 5;
  }
  EXPECT_GT(visible, 0);
}

TEST(BoardModes, FlawsFollowTheSerialNotTheSeed) {
  const auto record = [](const ResonatorConfig& config) {
    BoardClient board(config);
    EXPECT_TRUE(board.program_couplings(codes_of(chain_matrix())).has_ack());
    EXPECT_TRUE(board.program_biases({1000, 2000, -3000, 0}).has_ack());
    EXPECT_TRUE(board.set_noise(2000).has_ack());
    return board.run(start(500, firmware_protocol::wire::DYNAMICS_RLC, false, true)).samples_le16();
  };
  EXPECT_EQ(record(typical_board("A-1")), record(typical_board("A-1")));
  EXPECT_NE(record(typical_board("A-1")), record(typical_board("A-2")));
  ResonatorConfig ideal = four_cells();
  ideal.serial = "A-1";
  EXPECT_NE(record(typical_board("A-1")), record(ideal));
}

// ---- Quartic term ----

TEST(BoardModes, QuarticTermNarrowsTheCellsAndZeroJ4RestoresTheLinearStream) {
  const auto record = [](const std::vector<std::int16_t>& j4, bool set_back_to_zero) {
    BoardClient board(four_cells());
    EXPECT_TRUE(board.program_couplings(codes_of(chain_matrix())).has_ack());
    EXPECT_TRUE(board.set_noise(32768).has_ack());  // D = 0.5
    EXPECT_TRUE(board.set_quartic(j4).has_ack());
    if (set_back_to_zero) {
      EXPECT_TRUE(board.set_quartic({0, 0, 0, 0}).has_ack());
    }
    return board.run(start(20000, firmware_protocol::wire::DYNAMICS_OVERDAMPED, true, true));
  };
  const auto linear = record({0, 0, 0, 0}, false);
  const auto restored = record({8192, 8192, 8192, 8192}, true);
  EXPECT_EQ(linear.samples_le16(), restored.samples_le16());
  const auto quartic = record({8192, 8192, 8192, 8192}, false);  // J4 = 2 / (V^2 us)
  // With J4 = 2 the wells are several times narrower than D A^-1 (about 0.5 V^2): compare the
  // second moments of cell 0 (product index 0), far apart relative to their sampling error.
  EXPECT_LT(quartic.product_sums(0), linear.product_sums(0) / 2);
}

}  // namespace
}  // namespace kelvin::sim_backend::testing
