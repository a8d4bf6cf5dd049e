// p-bit calibration: calibrate(PbitBoard&) recovers each p-bit's drawn sigmoid gain and offset
// (sim:pbit?imperfections=typical) within its stated standard errors; the file keeps the family
// and refuses the other family's board; and a sampling job on a flawed board is biased without
// the calibration and unbiased (to its error bars) with it.
//
// Tolerances. Measurement: |estimate - drawn| <= 5 standard errors per p-bit and quantity. The
// standard errors are the weighted least-squares ones from 16 batch means per code (15 dof);
// P(|t_15| > 5) = 1.6e-4, so the 128 checks of a board all pass with probability ~0.98 for a
// correct estimator, while ignoring the flaws misses by far more (gains spread +-5% against
// standard errors ~0.002, offsets +-0.1 J against ~0.002 J, both checked to be that small).
// Sampling: 64 uncoupled p-bits, all with bias 120 at beta = 2/256, whose exact mean is
// tanh(beta 120) on an ideal board (the LUT is exact within 2^-25). z_i = (m_i - exact) / SE_i
// with SE_i between 64 chains (2^16 samples per p-bit, SE ~ 0.0027). Without calibration, gain
// errors up to 5% move m_i by up to 0.022 (z up to ~8); with it, what is left is the half-code
// rounding of the corrected bias (|dm| <= 0.0019, z <= 0.7) and the calibration's own error
// (SE(g) ~ 0.001 at 2^20 samples per code: 0.12 code, z ~ 0.2). So the calibrated chi^2 =
// sum z_i^2 stays within 3 of its null standard deviation sqrt(2 N) above N (with the residual
// adding ~0.2 N at most: about 1 sigma), and the uncalibrated one is many sigmas above. (No
// per-p-bit bound with calibration: the half-code residual shifts single z_i by up to 0.7.)
#include <cmath>
#include <filesystem>
#include <iostream>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "kelvin/common/error.hpp"
#include "kelvin/runtime/calibration/calibrate.hpp"
#include "kelvin/runtime/calibration/calibration_file.hpp"
#include "kelvin/runtime/pbit/ising_sampling.hpp"
#include "kelvin/sim_backend/board_imperfections.hpp"
#include "kelvin/testing/boards.hpp"

namespace kelvin::runtime::calibration {
namespace {

namespace fs = std::filesystem;

constexpr std::uint32_t kNodes = 64;  // 8 x 8

driver::PbitBoard pbit_board(std::uint64_t seed, bool typical) {
  return testing::open_pbit_board(
      fmt::format("sim:pbit?rows=8&cols=8&degree=8&seed={}&imperfections={}", seed,
                  typical ? "typical" : "ideal"));
}

sim_backend::PbitImperfections truth_of(const std::string& serial, bool typical) {
  return sim_backend::draw_pbit_imperfections(serial, kNodes,
                                              typical
                                                  ? sim_backend::PbitImperfectionModel::typical()
                                                  : sim_backend::PbitImperfectionModel::ideal());
}

void expect_recovers(const BoardCalibration& c, const sim_backend::PbitImperfections& t) {
  ASSERT_EQ(c.pbits.size(), kNodes);
  for (std::uint32_t i = 0; i < kNodes; ++i) {
    const PbitNodeCalibration& p = c.pbits[i];
    EXPECT_LE(std::abs(p.sigmoid_gain.value - t.sigmoid_gain[i]),
              5.0 * p.sigmoid_gain.standard_error)
        << "gain of p-bit " << i << ": " << p.sigmoid_gain.value << " +- "
        << p.sigmoid_gain.standard_error << ", drawn " << t.sigmoid_gain[i];
    EXPECT_LE(std::abs(p.sigmoid_offset.value - t.sigmoid_offset[i]),
              5.0 * p.sigmoid_offset.standard_error)
        << "offset of p-bit " << i << ": " << p.sigmoid_offset.value << " +- "
        << p.sigmoid_offset.standard_error << ", drawn " << t.sigmoid_offset[i];
    // Informative: far below the spreads (5%, 0.1 J), never zero.
    EXPECT_GT(p.sigmoid_gain.standard_error, 0.0);
    EXPECT_LT(p.sigmoid_gain.standard_error, 0.005) << "p-bit " << i;
    EXPECT_GT(p.sigmoid_offset.standard_error, 0.0);
    EXPECT_LT(p.sigmoid_offset.standard_error, 0.005) << "p-bit " << i;
  }
}

PbitCalibrationOptions quick_options(std::uint64_t samples) {
  PbitCalibrationOptions o;
  o.samples_per_code = samples;
  return o;
}

TEST(PbitCalibration, RecoversTheDrawnSigmoidFlawsOfATypicalBoard) {
  auto board = pbit_board(5, true);
  const CalibrationResult r = calibrate(board, quick_options(std::uint64_t{1} << 18));
  EXPECT_EQ(r.calibration.family, "pbit");
  EXPECT_EQ(r.calibration.serial, "SIM-PBIT-8x8-5");
  EXPECT_TRUE(r.calibration.cells.empty());
  expect_recovers(r.calibration, truth_of("SIM-PBIT-8x8-5", true));
  EXPECT_EQ(r.summary.sigmoid_gain.size(), kNodes);
  EXPECT_NE(r.summary.brief_report().find("p-bits"), std::string::npos);
}

TEST(PbitCalibration, FindsAnIdealBoardToBeTheIdentity) {
  auto board = pbit_board(6, false);
  const CalibrationResult r = calibrate(board, quick_options(std::uint64_t{1} << 18));
  expect_recovers(r.calibration, truth_of("SIM-PBIT-8x8-6", false));
}

TEST(PbitCalibration, OptionsNameTheBadField) {
  PbitCalibrationOptions o;
  o.bias_codes = {1, 1};
  EXPECT_THROW(o.validate(), common::Error);
  o = {};
  o.beta_code = 4;
  EXPECT_THROW(o.validate(), common::Error);
}

class PbitCalibrationFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("kelvin-pbit-calibration-test-" +
            std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(PbitCalibrationFile, RoundTripKeepsTheFamilyAndEveryValue) {
  auto board = pbit_board(5, true);
  const BoardCalibration c = calibrate(board, quick_options(std::uint64_t{1} << 12)).calibration;
  const fs::path file = dir_ / "p.json";
  write_calibration(c, file);
  const BoardCalibration back = read_calibration(file);
  EXPECT_EQ(to_json(back), to_json(c));
  EXPECT_EQ(back.family, "pbit");
  EXPECT_EQ(back.pbits.size(), kNodes);
  EXPECT_EQ(back.pbits[7].sigmoid_gain.value, c.pbits[7].sigmoid_gain.value);
  EXPECT_EQ(back.conditions.bias_codes, (std::vector<int>{-1, 0, 1}));
  const AppliedCalibration applied =
      resolve_calibration(CalibrationSelection::from_file(file), board.description());
  EXPECT_EQ(applied.id(), c.id);
}

TEST_F(PbitCalibrationFile, RefusesTheOtherFamilysBoard) {
  auto pbit = pbit_board(5, true);
  auto resonator = testing::open_resonator_board(4, 1);
  const fs::path pfile = dir_ / "p.json";
  write_calibration(calibrate(pbit, quick_options(std::uint64_t{1} << 12)).calibration, pfile);
  try {
    resolve_calibration(CalibrationSelection::from_file(pfile), resonator.description());
    ADD_FAILURE() << "a p-bit calibration was applied to a resonator board";
  } catch (const common::Error& e) {
    EXPECT_NE(std::string(e.what()).find("a pbit board's calibration, and board SIM-RES-4-1 is "
                                         "a resonator board"),
              std::string::npos)
        << e.what();
  }
  BoardCalibration r;
  r.serial = "SIM-PBIT-8x8-5";
  r.conditions.cells = kNodes;
  CellCalibration cell;
  cell.readout_gain = {1.0, 0.0};
  r.cells.assign(kNodes, cell);
  r.drift_programmed = r.drift = r.drift_standard_error = Eigen::MatrixXd::Zero(kNodes, kNodes);
  const fs::path rfile = dir_ / "r.json";
  write_calibration(r, rfile);
  try {
    resolve_calibration(CalibrationSelection::from_file(rfile), pbit.description());
    ADD_FAILURE() << "a resonator calibration was applied to a p-bit board";
  } catch (const common::Error& e) {
    EXPECT_NE(std::string(e.what()).find("a resonator board's calibration"), std::string::npos)
        << e.what();
  }
}

// chi^2 = sum_i ((m_i - tanh(beta b)) / SE_i)^2 and the largest |z_i| of a sampling job.
struct Deviation {
  double chi2 = 0.0;
  double max_z = 0.0;
};

Deviation sample_deviation(driver::PbitBoard& board, const CalibrationSelection& calibration,
                           std::string* applied) {
  constexpr int kBias = 120;
  constexpr double kBeta = 2.0 / 256.0;
  IsingModel model;
  model.nodes = kNodes;
  model.bias.assign(kNodes, kBias);
  IsingSamplingOptions o;
  o.beta = kBeta;
  o.chains = 64;
  o.sweeps = 1024;
  o.burn_in_sweeps = 4;
  o.calibration = calibration;
  const IsingSamplingResult r = sample_ising(board, model, o);
  *applied = r.summary.calibration;
  const double exact = std::tanh(kBeta * kBias);
  Deviation d;
  for (std::uint32_t i = 0; i < kNodes; ++i) {
    const double z = (r.mean[i] - exact) / r.mean_stderr[i];
    d.chi2 += z * z;
    d.max_z = std::max(d.max_z, std::abs(z));
  }
  return d;
}

TEST_F(PbitCalibrationFile, RemovesTheBiasOfASamplingJob) {
  auto board = pbit_board(5, true);
  const BoardCalibration c = calibrate(board, quick_options(std::uint64_t{1} << 20)).calibration;
  const fs::path file = dir_ / "p.json";
  write_calibration(c, file);
  const double n = kNodes;
  const double sd = std::sqrt(2.0 * n);  // of chi^2_N under no bias
  std::string applied;
  const Deviation raw = sample_deviation(board, CalibrationSelection::none(), &applied);
  EXPECT_EQ(applied, "none");
  EXPECT_GT(raw.max_z, 4.0);
  EXPECT_GT(raw.chi2, n + 4.0 * sd);
  const Deviation fixed = sample_deviation(board, CalibrationSelection::from_file(file), &applied);
  EXPECT_EQ(applied, c.id);
  EXPECT_LT(fixed.chi2, n + 3.0 * sd) << "max |z| " << fixed.max_z;
  std::cout << fmt::format("chi2/N without {:.2f} (max |z| {:.1f}), with {:.2f} (max |z| {:.1f})\n",
                           raw.chi2 / n, raw.max_z, fixed.chi2 / n, fixed.max_z);
}

}  // namespace
}  // namespace kelvin::runtime::calibration
