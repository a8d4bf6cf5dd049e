#include <fmt/format.h>

#include "kelvin/runtime/solve.hpp"

namespace kelvin::runtime {

std::string SolveSummary::brief_report() const {
  return fmt::format(
      "n={} on {} ({} cells): {} x {} samples, {:.3g} ms device time, cond {:.3g}, "
      "quantization shift {:.2g}, {} clipped, {} range retries",
      unknowns, serial, cells, batches,
      batches > 0 ? samples / static_cast<std::uint64_t>(batches) : 0, device_time_s * 1e3,
      condition_number, quantization_shift, clipped_samples, range_retries);
}

std::string SolveSummary::full_report() const {
  std::string r;
  auto line = [&r](std::string_view name, const std::string& value) {
    r += fmt::format("  {:<28} {}\n", name, value);
  };
  r += "Solve summary\n";
  line("board", fmt::format("{} ({} cells)", serial, cells));
  line("unknowns", fmt::format("{}{}", unknowns,
                               sign_doubled ? " (solved as the 2n sign-doubled system)" : ""));
  line("spectrum of A", fmt::format("[{:.6g}, {:.6g}], condition number {:.4g}", lambda_min,
                                    lambda_max, condition_number));
  line("coupling scale", fmt::format("{:.6g} (1/us per unit of A)", coupling_scale));
  line("state scale", fmt::format("{:.6g} (units of x per V)", state_scale));
  line("auto-range gain", fmt::format("{:.4g}", range_gain));
  line("noise", fmt::format("code {}, D = {:.6g} V^2/us", noise_code, diffusion));
  line("matrix quantization",
       fmt::format("{:.3e} (relative, Frobenius)", matrix_quantization_error));
  line("rhs quantization", fmt::format("{:.3e} (relative)", bias_quantization_error));
  line("preconditioning", preconditioning);
  line("predicted quantization", fmt::format("{:.3e} (relative error of x from nearest codes)",
                                             predicted_quantization_error));
  line("quantization shift",
       fmt::format("{:.3e} (estimated relative error of x, not in stderr)", quantization_shift));
  line("batches", fmt::format("{} of {} samples", batches,
                              batches > 0 ? samples / static_cast<std::uint64_t>(batches) : 0));
  line("averaged samples", fmt::format("{}", samples));
  line("other samples", fmt::format("{} (burn-in, pilot, retries)", burn_in_samples));
  line("device time", fmt::format("{:.6g} ms (modelled)", device_time_s * 1e3));
  line("clipped samples", fmt::format("{}", clipped_samples));
  line("range retries", fmt::format("{}", range_retries));
  line("wall time", fmt::format("{:.3f} s", wall_time_s));
  line("energy (model)", energy.brief());
  return r;
}

}  // namespace kelvin::runtime
