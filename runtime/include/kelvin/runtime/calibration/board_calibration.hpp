// A resonator board's calibration: what `kelvin calibrate` measured (calibrate.hpp), what the
// calibration file holds (calibration_file.hpp) and what a job applies when it reads the ADC.
//
// Model of the flaws (docs/calibration.md): cell i has ADC gain a_i and offset o_i (codes),
// capacitance scale c_i and noise scale n_i; the coupling DAC has one gain g. The board then runs
//     dx = -diag(1/c) (g A x - b) dt + sqrt(2 D) diag(n / c) dW,   code_i = a_i x_i / lsb + o_i.
// A host without a voltage reference can observe only combinations that are invariant under
// (a, g, c) -> lambda (a, g, c): the read-out gain s_i = a_i / g, the offsets o_i, and rates and
// temperatures up to that common scale. The read-out correction uses only s_i and o_i, so it is
// exact: for a linear job the corrected mean equals A^-1 b in device volts. The absolute a_i, g
// and c_i are reported under the convention mean_i a_i = 1 (stated in the file).
//
// A p-bit board's calibration (family "pbit") holds instead, per p-bit i, the sigmoid gain g_i and
// input offset o_i [J] of the model P(s_i = +1) = sigmoid(2 beta (g_i h_i + o_i)), measured by
// calibrate(PbitBoard&) (docs/calibration.md, "p-bit boards").
//
// Thread contract: plain value types and pure functions; safe from any thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "kelvin/driver/code_scale.hpp"
#include "kelvin/driver/pbit/pbit_board.hpp"

namespace kelvin::runtime::calibration {

// A measured value and its standard error (1 sigma).
struct Estimate {
  double value = 0.0;
  double standard_error = 0.0;
};

struct CellCalibration {
  Estimate adc_offset_codes;  // o_i, ADC codes
  Estimate readout_gain;      // s_i = a_i / g: ADC gain over coupling-DAC gain (identifiable)
  Estimate adc_gain;          // a_i (convention mean a = 1)
  Estimate capacitance;       // c_i, relative (convention mean a = 1)
  Estimate temperature;       // effective temperature n_i^2 / c_i relative to nominal
};

struct PbitNodeCalibration {
  Estimate sigmoid_offset;  // o_i [J]
  Estimate sigmoid_gain;    // g_i (relative; 1 on a flawless p-bit)
};

// How and on what the calibration was measured.
struct CalibrationConditions {
  std::uint32_t cells = 0;
  std::string firmware_version;
  std::uint32_t protocol_version = 0;
  std::string imperfections;  // the board's stated spread name ("typical", "ideal", ...)
  std::uint32_t noise_code = 0;
  double diffusion = 0.0;  // D programmed during the measurement [V^2/us]
  double sample_period_s = 0.0;
  std::string kelvin_version;
  std::uint64_t mean_samples = 0;   // per bias polarity (offset and gain measurement)
  std::uint64_t drift_samples = 0;  // recorded samples of the drift identification
  // p-bit boards: the beta code and bias codes of the sweep (mean_samples is then per code).
  std::uint32_t beta_code = 0;
  std::vector<int> bias_codes;
};

struct BoardCalibration {
  // 1: resonator boards only; 2: a "family" field and p-bit boards (1 is still read).
  static constexpr int kFormatVersion = 2;
  static constexpr const char* kConvention = "mean ADC gain 1";
  static constexpr const char* kPbitConvention = "P(s=+1) = sigmoid(2 beta (g h + o))";

  int format_version = kFormatVersion;
  std::string family = "resonator";  // driver::to_string(BoardFamily): "resonator" or "pbit"
  std::string serial;
  std::string id;    // unique per measurement: serial and UTC time
  std::string date;  // UTC ISO 8601, e.g. 2026-12-06T22:30:00Z
  CalibrationConditions conditions;
  std::vector<CellCalibration> cells;
  Estimate coupling_dac_gain;  // g (convention mean a = 1)
  // The drift identification: the programmed coupling matrix A [1/us], and the realized drift
  // matrix F (dx = F x dt + ...) identified by maximum likelihood [1/us], with standard errors.
  Eigen::MatrixXd drift_programmed;
  Eigen::MatrixXd drift;
  Eigen::MatrixXd drift_standard_error;
  // p-bit boards: one entry per lattice node (cells stays empty, and vice versa).
  std::vector<PbitNodeCalibration> pbits;

  bool is_pbit() const noexcept { return family == "pbit"; }

  // Corrected device volts of (mean) ADC code `code` of cell i: adc((code - o_i)) / s_i.
  double volts(std::uint32_t cell, double code, const driver::CodeScale& adc) const;
};

// Which calibration a job applies: looked up by the board's serial (default), a given file, or
// none. The same selection is used by solve, natural gradient, log-det and p-bit sampling
// options (kelvin: --calibration FILE|none).
struct CalibrationSelection {
  enum class Mode { kAuto, kFile, kNone };
  Mode mode = Mode::kAuto;
  std::filesystem::path file;  // with kFile

  static CalibrationSelection automatic() { return {}; }
  static CalibrationSelection none() { return {Mode::kNone, {}}; }
  static CalibrationSelection from_file(std::filesystem::path path) {
    return {Mode::kFile, std::move(path)};
  }
  // "auto", "none" or a file path.
  static CalibrationSelection parse(const std::string& text);
  std::string to_string() const;
  // Throws common::Error(kInvalidArgument) for kFile without a path.
  void validate() const;
};

// What a job applied: nothing, or a calibration and the file it came from.
struct AppliedCalibration {
  std::optional<BoardCalibration> calibration;
  std::filesystem::path file;

  bool applied() const noexcept { return calibration.has_value(); }
  // "none" or the calibration's id.
  std::string id() const;
  // Mean-code to volts of cell i: calibrated when applied, else the board's nominal scale.
  double volts(std::uint32_t cell, double code, const driver::CodeScale& adc) const;
  // p-bit boards, when applied: each bias code b_i becomes round((b_i - o_i) / g_i) (clamped to
  // the bias range), so that the p-bit's effective bias g_i b' + o_i is b_i to within half a
  // code. Couplings are one symmetric code per edge and cannot be scaled per p-bit, so the gain
  // is corrected on the bias only (docs/calibration.md). No-op when nothing is applied.
  void correct_pbit_biases(driver::LatticeProgram& program,
                           const driver::PbitDescription& board) const;
};

}  // namespace kelvin::runtime::calibration
