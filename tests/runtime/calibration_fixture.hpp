// Shared by the calibration tests: an emulated resonator board with the serial's drawn flaws,
// and its truth (what the emulator drew; tests may read it, the library never does) expressed
// in the calibration's convention (mean ADC gain 1: a host sees gains only up to one common
// scale, calibration/board_calibration.hpp).
#pragma once

#include <cstdint>
#include <string>

#include <Eigen/Dense>

#include "kelvin/runtime/calibration/calibrate.hpp"
#include "kelvin/sim_backend/board_imperfections.hpp"
#include "kelvin/testing/boards.hpp"

namespace kelvin::runtime::calibration {

inline constexpr std::uint32_t kCells = 8;

// Shorter than the defaults (2^20, 2^19) so each test stays within seconds; the tolerances
// below come from the standard errors this measurement reports.
inline CalibrationOptions quick_options() {
  CalibrationOptions o;
  o.mean_samples = std::uint64_t{1} << 19;
  o.drift_samples = std::uint64_t{1} << 18;
  return o;
}

inline driver::ResonatorBoard flawed_board(std::uint64_t seed, bool typical = true) {
  return testing::open_resonator_board(kCells, seed,
                                       typical ? "&imperfections=typical" : "&imperfections=ideal");
}

// The drawn flaws in the calibration's convention: a / mean(a), g / mean(a), c / mean(a), and
// the temperature n^2 / c times mean(a) (what the measurement's formulas give for this board).
struct Truth {
  Eigen::VectorXd offset, readout_gain, adc_gain, capacitance, temperature;
  double coupling_dac_gain = 1.0;
};

inline Truth truth_of(const std::string& serial, bool typical = true) {
  const auto model =
      typical ? sim_backend::ImperfectionModel::typical() : sim_backend::ImperfectionModel::ideal();
  const sim_backend::BoardImperfections f = sim_backend::draw_imperfections(serial, kCells, model);
  const double mean_a = f.adc_gain.mean();
  Truth t;
  t.offset = f.adc_offset_codes;
  t.readout_gain = f.adc_gain / f.coupling_dac_gain;
  t.adc_gain = f.adc_gain / mean_a;
  t.coupling_dac_gain = f.coupling_dac_gain / mean_a;
  t.capacitance = f.capacitance_scale / mean_a;
  t.temperature = f.noise_scale.cwiseAbs2().cwiseQuotient(f.capacitance_scale) * mean_a;
  return t;
}

}  // namespace kelvin::runtime::calibration
