#include "board_job.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "kelvin/common/error.hpp"

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

void BoardJob::program(const ProgrammedSystem& codes, std::uint32_t noise_code) {
  board_.program_couplings(codes.couplings, deadline_);
  board_.program_biases(codes.bias_codes, deadline_);
  board_.set_noise(noise_code, deadline_);
}

void BoardJob::finish(JobSummary& summary, double host_flops, double gpu_flops) const {
  const driver::DeviceDescription& d = description();
  summary.serial = d.serial;
  summary.cells = d.cells;
  summary.device_time_s = static_cast<double>(samples_) * d.sample_period_s();
  summary.energy = ledger_since(board_, energy_start_, host_flops, gpu_flops);
  summary.wall_time_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start_).count();
}

}  // namespace kelvin::runtime::detail
