#include "kelvin/runtime/calibration/calibrate.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "../board_job.hpp"
#include "../option_checks.hpp"
#include "kelvin/common/error.hpp"
#include "kelvin/common/logging.hpp"
#include "linear_fit.hpp"

#ifndef KELVIN_VERSION
#define KELVIN_VERSION "unknown"
#endif

namespace kelvin::runtime::calibration {
namespace {

using common::Error;
using common::ErrorKind;

// Samples from reset to the first averaged one: the cells relax in about one sample period.
constexpr std::uint64_t kBurnIn = 256;
constexpr double kAlpha = 1.0;  // diagonal coupling of both steps [1/us]

struct Moments {
  Eigen::VectorXd mean, mean_se;  // codes
  Eigen::VectorXd var, var_se;    // codes^2
  std::uint64_t clipped = 0;
};

// Mean and variance of each cell's codes over `batches` warm-started runs after a burn-in, with
// standard errors from the spread of the batch values.
Moments moments(runtime::detail::BoardJob& job, std::uint32_t batches, std::uint64_t per_batch) {
  const Eigen::Index n = job.description().cells;
  driver::RunRequest burn;
  burn.samples = kBurnIn;
  burn.reset_state = true;
  job.run(burn);
  Eigen::MatrixXd means(n, batches), vars(n, batches);
  Moments out;
  for (std::uint32_t k = 0; k < batches; ++k) {
    driver::RunRequest r;
    r.samples = per_batch;
    r.accumulate_products = true;
    const driver::RunResult res = job.run(r);
    out.clipped += res.clipped_samples;
    const double count = static_cast<double>(res.sample_count);
    for (Eigen::Index i = 0; i < n; ++i) {
      const auto c = static_cast<std::uint32_t>(i);
      const double m = static_cast<double>(res.sums[c]) / count;
      means(i, k) = m;
      // Minus the ADC's rounding variance (1/12 code^2).
      vars(i, k) = static_cast<double>(res.product_sum(c, c)) / count - m * m - 1.0 / 12.0;
    }
  }
  const double b = batches;
  auto spread = [b](const Eigen::MatrixXd& v, const Eigen::VectorXd& mean) {
    return ((v.colwise() - mean).rowwise().squaredNorm() / ((b - 1.0) * b)).cwiseSqrt().eval();
  };
  out.mean = means.rowwise().mean();
  out.mean_se = spread(means, out.mean);
  out.var = vars.rowwise().mean();
  out.var_se = spread(vars, out.var);
  return out;
}

void program_diagonal_couplings(runtime::detail::BoardJob& job, std::int16_t diag,
                                std::int16_t off) {
  const std::uint32_t n = job.description().cells;
  driver::SymmetricCodes codes(n);
  for (std::uint32_t i = 0; i < n; ++i)
    for (std::uint32_t j = i; j < n; ++j)
      codes.set(i, j, i == j ? diag : off);
  job.board().program_couplings(codes, job.deadline());
}

void program_all_biases(runtime::detail::BoardJob& job, std::int16_t code) {
  const std::vector<std::int16_t> codes(job.description().cells, code);
  job.board().program_biases(codes, job.deadline());
}

std::int16_t code16(const driver::CodeScale& scale, double value) {
  return static_cast<std::int16_t>(scale.to_code(value));
}

}  // namespace

void CalibrationOptions::validate() const {
  const runtime::detail::OptionChecks check("CalibrationOptions");
  check.in_range<std::uint64_t>("mean_samples", mean_samples, std::uint64_t{1} << 14,
                                std::uint64_t{1} << 32);
  check.in_range<std::uint32_t>("mean_batches", mean_batches, 4, 1024);
  check.in_range<std::uint64_t>("drift_samples", drift_samples, std::uint64_t{1} << 12,
                                std::uint64_t{1} << 26);
  check.in_interval("bias_volts", bias_volts, 0.0, 1.8, true);
  check.in_interval("noise_volts", noise_volts, 0.002, 0.1, false);
  check.in_interval("coupling_fraction", coupling_fraction, 0.0, 0.9, false);
  check.timeout(timeout);
}

CalibrationResult calibrate(driver::ResonatorBoard& board, const CalibrationOptions& options) {
  options.validate();
  const driver::DeviceDescription& desc = board.description();
  if (desc.family != driver::BoardFamily::kResonator ||
      !desc.has_capability(driver::capability::kSecondMoments) ||
      !desc.has_capability(driver::capability::kSampleRecord)) {
    throw Error(ErrorKind::kNotSupported,
                fmt::format("calibrate: board {} cannot accumulate second moments and record "
                            "samples, which the calibration needs",
                            desc.serial));
  }
  auto log = common::logger("kelvin.runtime");
  runtime::detail::BoardJob job(board, options.timeout);
  job.measuring_calibration();
  const std::uint32_t n = desc.cells;
  const double h = desc.sample_period_s() * 1e6;  // us

  // Step 1: alpha I, +-beta, noise D = alpha sigma^2.
  const std::int16_t diag_code = code16(desc.coupling, kAlpha);
  const double alpha = desc.coupling.to_physical(std::int64_t{diag_code});
  const std::uint32_t noise_code = static_cast<std::uint32_t>(std::max<std::int64_t>(
      1, desc.noise.to_code(alpha * options.noise_volts * options.noise_volts)));
  const double diffusion = desc.noise.to_physical(std::int64_t{noise_code});
  const std::int16_t bias_code = code16(desc.bias, options.bias_volts * alpha);
  const double x0 = desc.bias.to_physical(std::int64_t{bias_code}) / alpha;
  program_diagonal_couplings(job, diag_code, 0);
  job.board().set_noise(noise_code, job.deadline());
  const std::uint64_t per_batch =
      std::max<std::uint64_t>(1, options.mean_samples / options.mean_batches);
  program_all_biases(job, bias_code);
  const Moments up = moments(job, options.mean_batches, per_batch);
  program_all_biases(job, static_cast<std::int16_t>(-bias_code));
  const Moments down = moments(job, options.mean_batches, per_batch);

  BoardCalibration cal;
  cal.serial = desc.serial;
  cal.date = detail::utc_now("{:%Y-%m-%dT%H:%M:%SZ}");
  cal.id = fmt::format("{}-{}", desc.serial, detail::utc_now("{:%Y%m%dT%H%M%SZ}"));
  cal.cells.resize(n);
  const double lsb = desc.adc.lsb;
  double mean_s = 0.0;
  for (std::uint32_t i = 0; i < n; ++i) {
    CellCalibration& c = cal.cells[i];
    const double se = 0.5 * std::hypot(up.mean_se(i), down.mean_se(i));
    c.adc_offset_codes = {0.5 * (up.mean(i) + down.mean(i)), se};
    c.readout_gain = {0.5 * (up.mean(i) - down.mean(i)) * lsb / x0, se * lsb / x0};
    mean_s += c.readout_gain.value / n;
  }
  // Convention mean a = 1: g = 1 / mean(s), a_i = s_i g.
  const double g = 1.0 / mean_s;
  double var_mean_s = 0.0;
  for (const CellCalibration& c : cal.cells)
    var_mean_s += std::pow(c.readout_gain.standard_error / n, 2);
  cal.coupling_dac_gain = {g, g * std::sqrt(var_mean_s) / mean_s};
  for (std::uint32_t i = 0; i < n; ++i) {
    CellCalibration& c = cal.cells[i];
    c.adc_gain = {c.readout_gain.value * g, c.readout_gain.standard_error * g};
    // Stationary variance of x_i on a diagonal board: D (n_i^2 / c_i) / (g alpha).
    const double var = 0.5 * (up.var(i) + down.var(i));
    const double var_se = 0.5 * std::hypot(up.var_se(i), down.var_se(i));
    const double to_theta =
        lsb * lsb * g * alpha / (diffusion * c.adc_gain.value * c.adc_gain.value);
    c.temperature = {var * to_theta, var_se * to_theta};
  }

  // Step 2: drift identification on a coupled matrix, b = 0.
  const double gamma = n > 1 ? options.coupling_fraction * alpha / (n - 1) : 0.0;
  const std::int16_t off_code = code16(desc.coupling, -gamma);
  program_diagonal_couplings(job, diag_code, off_code);
  program_all_biases(job, 0);
  cal.drift_programmed =
      Eigen::MatrixXd::Constant(n, n, desc.coupling.to_physical(std::int64_t{off_code}));
  cal.drift_programmed.diagonal().setConstant(alpha);
  driver::RunRequest burn;
  burn.samples = kBurnIn;
  burn.reset_state = true;
  job.run(burn);
  detail::LinearStepFit fit(n);
  std::vector<double> x(n);
  std::uint64_t recorded = 0;
  std::uint64_t clipped = up.clipped + down.clipped;
  while (recorded < options.drift_samples) {
    driver::RunRequest r;
    r.samples = std::min<std::uint64_t>(desc.max_record_samples, options.drift_samples - recorded);
    r.record_samples = true;
    const driver::RunResult res = job.run(r);
    clipped += res.clipped_samples;
    for (std::uint64_t k = 0; k < res.sample_count; ++k) {
      for (std::uint32_t i = 0; i < n; ++i)
        x[i] = cal.volts(i, res.samples[k * n + i], desc.adc) / g;  // true volts (convention)
      fit.add(x);
    }
    recorded += res.sample_count;
  }
  const detail::StepEstimate step = fit.estimate();
  detail::DriftEstimate drift;
  try {
    drift = detail::drift_of(step, h);
  } catch (const std::runtime_error& e) {
    throw Error(ErrorKind::kDevice, fmt::format("calibrate: board {}: {}", desc.serial, e.what()));
  }
  cal.drift = drift.f;
  cal.drift_standard_error = drift.f_stderr;
  for (std::uint32_t i = 0; i < n; ++i) {
    // F_ii = -(g / c_i) A_ii.
    const double fii = drift.f(i, i);
    const double c = -g * alpha / fii;
    cal.cells[i].capacitance = {c, std::abs(c) * drift.f_stderr(i, i) / std::abs(fii)};
  }

  CalibrationConditions& cond = cal.conditions;
  cond.cells = n;
  cond.firmware_version = desc.firmware_version;
  cond.protocol_version = desc.protocol_version;
  cond.imperfections = desc.resonator ? desc.resonator->imperfections.name : std::string("unknown");
  cond.noise_code = noise_code;
  cond.diffusion = diffusion;
  cond.sample_period_s = desc.sample_period_s();
  cond.kelvin_version = KELVIN_VERSION;
  cond.mean_samples = per_batch * options.mean_batches;
  cond.drift_samples = recorded;

  CalibrationResult out;
  CalibrationSummary& s = out.summary;
  s.calibration_id = cal.id;
  s.date = cal.date;
  s.mean_samples = cond.mean_samples;
  s.drift_samples = recorded;
  s.noise_code = noise_code;
  s.coupling_dac_gain = g;
  s.coupling_dac_gain_stderr = cal.coupling_dac_gain.standard_error;
  for (const CellCalibration& c : cal.cells) {
    s.adc_offset_codes.push_back(c.adc_offset_codes.value);
    s.adc_offset_stderr.push_back(c.adc_offset_codes.standard_error);
    s.readout_gain.push_back(c.readout_gain.value);
    s.readout_gain_stderr.push_back(c.readout_gain.standard_error);
    s.adc_gain.push_back(c.adc_gain.value);
    s.adc_gain_stderr.push_back(c.adc_gain.standard_error);
    s.capacitance.push_back(c.capacitance.value);
    s.capacitance_stderr.push_back(c.capacitance.standard_error);
    s.temperature.push_back(c.temperature.value);
    s.temperature_stderr.push_back(c.temperature.standard_error);
  }
  if (clipped > 0) {
    s.warnings.push_back(fmt::format(
        "the ADC clipped in {} samples during calibration; the offsets and gains may be biased",
        clipped));
  }
  job.finish(s, 0.0, 0.0);
  out.calibration = std::move(cal);
  log->info("calibrate: {}", s.brief_report());
  return out;
}

}  // namespace kelvin::runtime::calibration
