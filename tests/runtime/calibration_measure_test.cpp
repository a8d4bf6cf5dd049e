// kelvin calibrate's measurement recovers what the emulator drew for the board's serial, within
// the standard errors it reports, and finds an ideal board to be the identity.
//
// Tolerance: every check is |estimate - truth| <= 5 standard errors. The offsets, gains and
// temperatures have standard errors from 16 batch means (15 degrees of freedom, Student t), the
// drift from the least-squares covariance (hundreds of thousands of pairs, normal). P(|t_15| > 5)
// = 1.6e-4, so the ~150 checks of a test all pass with probability ~0.98 for a correct
// estimator and standard error, while an estimator that ignores a flaw misses by far more (an
// offset of up to 8 codes against standard errors of ~0.5 code; gains of up to 0.4% against
// ~2e-5). Fixed seeds.
#include <cmath>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "calibration_fixture.hpp"
#include "kelvin/common/error.hpp"

namespace kelvin::runtime::calibration {
namespace {

constexpr double kSigmas = 5.0;

void expect_within(const Estimate& e, double truth, const std::string& what) {
  EXPECT_LE(std::abs(e.value - truth), kSigmas * e.standard_error)
      << what << ": measured " << e.value << " +- " << e.standard_error << ", drawn " << truth;
  EXPECT_GT(e.standard_error, 0.0) << what;
}

void expect_recovers(const BoardCalibration& c, const Truth& t) {
  ASSERT_EQ(c.cells.size(), kCells);
  for (std::uint32_t i = 0; i < kCells; ++i) {
    const CellCalibration& cell = c.cells[i];
    expect_within(cell.adc_offset_codes, t.offset(i), fmt::format("offset of cell {}", i));
    expect_within(cell.readout_gain, t.readout_gain(i), fmt::format("read-out gain of cell {}", i));
    expect_within(cell.adc_gain, t.adc_gain(i), fmt::format("ADC gain of cell {}", i));
    expect_within(cell.capacitance, t.capacitance(i), fmt::format("capacitance of cell {}", i));
    expect_within(cell.temperature, t.temperature(i), fmt::format("temperature of cell {}", i));
  }
  expect_within(c.coupling_dac_gain, t.coupling_dac_gain, "coupling-DAC gain");
}

// The realized drift -diag(g / c) A against the identified one, entry by entry.
void expect_drift(const BoardCalibration& c, const Truth& t) {
  for (std::uint32_t i = 0; i < kCells; ++i) {
    for (std::uint32_t j = 0; j < kCells; ++j) {
      const double truth = -t.coupling_dac_gain / t.capacitance(i) * c.drift_programmed(i, j);
      expect_within({c.drift(i, j), c.drift_standard_error(i, j)}, truth,
                    fmt::format("drift F({}, {})", i, j));
    }
  }
}

TEST(Calibration, RecoversTheDrawnFlawsOfATypicalBoard) {
  auto board = flawed_board(7);
  const CalibrationResult r = calibrate(board, quick_options());
  const BoardCalibration& c = r.calibration;
  EXPECT_EQ(c.serial, "SIM-RES-8-7");
  EXPECT_EQ(c.conditions.imperfections, "typical");
  const Truth t = truth_of(c.serial);
  expect_recovers(c, t);
  expect_drift(c, t);
  // The measurement is sharp enough to matter: each offset to well under a code, each gain to
  // well under the 0.2% spread it corrects.
  for (const CellCalibration& cell : c.cells) {
    EXPECT_LT(cell.adc_offset_codes.standard_error, 1.0);
    EXPECT_LT(cell.readout_gain.standard_error, 1e-4);
  }
  EXPECT_EQ(r.summary.calibration, "none");  // the measurement itself runs uncalibrated
  EXPECT_TRUE(r.summary.warnings.empty()) << r.summary.full_report();
}

TEST(Calibration, FindsAnIdealBoardToBeTheIdentity) {
  auto board = flawed_board(3, /*typical=*/false);
  const CalibrationResult r = calibrate(board, quick_options());
  const Truth t = truth_of(r.calibration.serial, /*typical=*/false);
  EXPECT_EQ(t.offset.cwiseAbs().maxCoeff(), 0.0);
  EXPECT_EQ(t.coupling_dac_gain, 1.0);
  expect_recovers(r.calibration, t);
  expect_drift(r.calibration, t);
}

TEST(Calibration, RefusesBadOptions) {
  CalibrationOptions o;
  o.mean_batches = 2;
  EXPECT_THROW(o.validate(), common::Error);
  o = {};
  o.noise_volts = 0.0;
  EXPECT_THROW(o.validate(), common::Error);
  o = {};
  o.bias_volts = 2.0;
  EXPECT_THROW(o.validate(), common::Error);
}

}  // namespace
}  // namespace kelvin::runtime::calibration
