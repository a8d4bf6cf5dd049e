#include "board_job.hpp"

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "kelvin/common/error.hpp"
#include "kelvin/runtime/calibration/calibration_file.hpp"

namespace kelvin::runtime::detail {

void check_timeout(const char* owner, std::chrono::milliseconds timeout) {
  if (timeout.count() <= 0) {
    throw common::Error(common::ErrorKind::kInvalidArgument,
                        fmt::format("{}: timeout = {} ms (> 0)", owner, timeout.count()));
  }
}

BoardJob::BoardJob(driver::ResonatorBoard& board, std::chrono::milliseconds timeout)
    : BoardJob(board, common::Deadline::after(timeout)) {
  check_timeout("job", timeout);
}

BoardJob::BoardJob(driver::ResonatorBoard& board, common::Deadline deadline)
    : board_(board),
      wall_start_(std::chrono::steady_clock::now()),
      energy_start_(BoardSnapshot::of(board)),
      deadline_(deadline) {}

std::uint64_t BoardJob::periods_for(double relaxation_times,
                                    double relaxation_time_us) const noexcept {
  const double periods = std::ceil(relaxation_times * relaxation_time_us / sample_period_us());
  return static_cast<std::uint64_t>(std::max(periods, 1.0));
}

driver::RunResult BoardJob::run(const driver::RunRequest& request) {
  driver::RunResult result = board_.run(request, deadline_);
  samples_ += result.sample_count * std::max<std::uint32_t>(request.decimation, 1);
  return result;
}

void BoardJob::apply_calibration(const calibration::CalibrationSelection& selection) {
  apply_calibration(calibration::resolve_calibration(selection, description()));
}

Eigen::VectorXd BoardJob::mean_volts(const driver::RunResult& result, Eigen::Index n) const {
  Eigen::VectorXd mean(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    const auto cell = static_cast<std::uint32_t>(i);
    mean(i) = volts(cell, result.mean_code(cell));
  }
  return mean;
}

void BoardJob::program(const ProgrammedSystem& codes, std::uint32_t noise_code) {
  board_.program_couplings(codes.couplings, deadline_);
  board_.program_biases(codes.bias_codes, deadline_);
  board_.set_noise(noise_code, deadline_);
}

std::optional<std::string> uncalibrated_flaws_warning(const driver::DeviceDescription& d) {
  if (!d.resonator)
    return std::nullopt;
  const driver::ImperfectionSpec& f = d.resonator->imperfections;
  const double widest =
      std::max({f.resistance, f.capacitance, f.noise, f.adc_gain, f.coupling_dac_gain});
  if (widest <= 0.0 && f.adc_offset_codes <= 0.0)
    return std::nullopt;
  return fmt::format(
      "board {} states component spreads ('{}': up to {:.2g}% per cell, ADC offsets up to {:.3g} "
      "codes) and no calibration is applied, so the answer carries a bias of that order that the "
      "error bars do not include",
      d.serial, f.name, 100.0 * widest, f.adc_offset_codes);
}

void BoardJob::finish(JobSummary& summary, double host_flops, double gpu_flops) const {
  const driver::DeviceDescription& d = description();
  if (!calibration_->applied() && !measuring_calibration_) {
    if (auto warning = uncalibrated_flaws_warning(d))
      summary.warnings.push_back(std::move(*warning));
  }
  summary.calibration = calibration_->id();
  summary.calibration_file = calibration_->file.string();
  summary.serial = d.serial;
  summary.cells = d.cells;
  summary.device_time_s = static_cast<double>(samples_) * d.sample_period_s();
  summary.energy = ledger_since(board_, energy_start_, host_flops, gpu_flops);
  summary.wall_time_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start_).count();
}

}  // namespace kelvin::runtime::detail
