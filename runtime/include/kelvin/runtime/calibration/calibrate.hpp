// Measures a resonator board's calibration through the board API alone (what any host can
// observe; the emulator's drawn flaws are never read): `kelvin calibrate`.
//
// Protocol (docs/calibration.md; sigma = noise_volts, alpha = 1/us):
//   1. Offsets, read-out gains, temperatures. Couplings alpha I (cells independent), noise
//      D = alpha sigma^2, biases +beta then -beta on every cell (beta / alpha = bias_volts). For
//      each polarity: reset, burn-in, then `mean_batches` runs with sums and sums of squares.
//      The stationary mean code is +-(a_i / g) x0 / lsb + o_i (x0 = beta / alpha), so half the
//      sum of the two means is the offset o_i and half their difference the read-out gain
//      s_i = a_i / g; the variance gives the effective temperature n_i^2 / c_i. Standard errors
//      from the spread of the batch means (mean_batches - 1 degrees of freedom).
//   2. Drift identification. Couplings alpha on the diagonal and -coupling_fraction alpha /
//      (N - 1) off it, b = 0: `drift_samples` consecutive samples are recorded (warm-started
//      runs continue one trajectory), corrected with step 1, and the linear Gaussian step
//      x_{k+1} = M x_k + c + e is fitted by least squares (its maximum-likelihood estimate);
//      F = log(M) / h is the realized drift matrix, its standard errors by the delta method
//      from the least-squares covariance (Sigma_e kron (X^T X)^-1). F_ii = -(g / c_i) A_ii gives
//      the capacitance scales.
// The coupling-DAC gain and absolute ADC gains follow from the convention mean_i a_i = 1.
//
// Thread contract: calibrate() uses the board exclusively for its duration.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include <vector>

#include "kelvin/driver/pbit/pbit_board.hpp"
#include "kelvin/driver/resonator/resonator_board.hpp"
#include "kelvin/runtime/calibration/board_calibration.hpp"
#include "kelvin/runtime/job_summary.hpp"

namespace kelvin::runtime::calibration {

struct CalibrationOptions {
  // Samples per bias polarity in step 1 (offset SE ~ 0.3 codes at the default). Default 2^20;
  // range [2^14, 2^32].
  std::uint64_t mean_samples = std::uint64_t{1} << 20;
  // Batches per polarity (standard errors from their spread). Default 16; range [4, 1024].
  std::uint32_t mean_batches = 16;
  // Recorded samples of step 2. Default 2^19; range [2^12, 2^26].
  std::uint64_t drift_samples = std::uint64_t{1} << 19;
  // Mean state of step 1, x0 = beta / alpha [V]. Default 1.5; range (0, 1.8].
  double bias_volts = 1.5;
  // Stationary noise standard deviation sigma [V] (dithers the ADC). Default 0.01; range
  // [0.002, 0.1].
  double noise_volts = 0.01;
  // Off-diagonal row sum of step 2's couplings over the diagonal. Default 0.5; range [0, 0.9].
  double coupling_fraction = 0.5;
  // Total deadline. Default 300 s; > 0.
  std::chrono::milliseconds timeout = std::chrono::seconds(300);

  // Throws common::Error(kInvalidArgument) naming the field.
  void validate() const;
};

// p-bit boards (calibrate(PbitBoard&)). All couplings 0, so the p-bits are independent and
// P(s_i = +1) = sigmoid(2 beta (g_i b + o_i)) at bias code b: every p-bit is measured at once.
// For each bias code, `batches` runs of up to max_chains chains give per-p-bit batch means m_k
// and their standard errors; a_k = atanh(m_k) / beta = g_i b_k + o_i is fitted by weighted least
// squares (weights 1 / SE(a_k)^2, SE(a_k) = SE(m_k) / (beta (1 - m_k^2))), with the standard
// errors of g_i and o_i from the fit's covariance. At the defaults SE(g) ~ 0.008, SE(o) ~ 0.006 J.
struct PbitCalibrationOptions {
  // Samples per bias code and p-bit. Default 2^14 (about 4 s on a 70 x 70 emulated board);
  // range [2^10, 2^30].
  std::uint64_t samples_per_code = std::uint64_t{1} << 14;
  // Batches per code (standard errors from their spread). Default 16; range [4, 1024].
  std::uint32_t batches = 16;
  // Beta code of the sweep (Q8.8: 256 is beta = 1). Default 256; range [16, 1024].
  std::uint32_t beta_code = 256;
  // Bias codes swept (at least two distinct). Default {-1, 0, 1}.
  std::vector<int> bias_codes = {-1, 0, 1};
  // Total deadline. Default 120 s; > 0.
  std::chrono::milliseconds timeout = std::chrono::seconds(120);

  // Throws common::Error(kInvalidArgument) naming the field.
  void validate() const;
};

struct CalibrationSummary : JobSummary {
  std::string family = "resonator";
  std::string calibration_id;
  std::string date;
  std::uint64_t mean_samples = 0;   // per polarity
  std::uint64_t drift_samples = 0;  // recorded
  std::uint32_t noise_code = 0;
  double coupling_dac_gain = 0.0;
  double coupling_dac_gain_stderr = 0.0;
  std::vector<double> adc_offset_codes, adc_offset_stderr;
  std::vector<double> readout_gain, readout_gain_stderr;
  std::vector<double> adc_gain, adc_gain_stderr;
  std::vector<double> capacitance, capacitance_stderr;
  std::vector<double> temperature, temperature_stderr;
  // p-bit boards.
  std::uint32_t beta_code = 0;
  std::vector<double> sigmoid_offset, sigmoid_offset_stderr;  // J
  std::vector<double> sigmoid_gain, sigmoid_gain_stderr;
  std::string file;  // where it was stored (set by the caller that writes it)

  ReportFields fields() const;
  // One line: "board SIM-RES-8-1 (8 cells): offsets -7.9..7.6 codes, gains ..., g = ..."
  std::string brief_report() const;
  std::string full_report() const;
};

struct CalibrationResult {
  BoardCalibration calibration;
  CalibrationSummary summary;
};

// Throws std::invalid_argument for bad options, common::Error(kNotSupported) for a board that is
// not a resonator board or cannot record samples, board errors as they come.
CalibrationResult calibrate(driver::ResonatorBoard& board, const CalibrationOptions& options = {});
// A p-bit board's sigmoid offsets and gains. Throws common::Error(kInvalidArgument) for bad
// options, board errors as they come. A p-bit that responds at fewer than two codes (stuck or
// saturated) is stored uncorrected (gain 1, offset 0) and named in a warning.
CalibrationResult calibrate(driver::PbitBoard& board, const PbitCalibrationOptions& options = {});

}  // namespace kelvin::runtime::calibration
