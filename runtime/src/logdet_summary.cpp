#include <string>
#include <string_view>

#include <fmt/format.h>

#include "kelvin/runtime/logdet.hpp"

namespace kelvin::runtime {

std::string LogdetSummary::brief_report() const {
  std::string r = fmt::format(
      "n={} on {}: log det by {} over {} x {} steps ({} samples each), {:.3g} ms device time, "
      "dissipated work {:.3g} kT, {} clipped",
      unknowns, serial, estimator, trajectories, steps, step_samples, device_time_s * 1e3,
      dissipated_work, clipped_reads);
  if (!warning.empty())
    r += " (warning: " + warning + ")";
  return r;
}

std::string LogdetSummary::full_report() const {
  std::string r;
  auto line = [&r](std::string_view name, const std::string& value) {
    r += fmt::format("  {:<28} {}\n", name, value);
  };
  r += "Log-determinant summary\n";
  line("board", serial);
  line("unknowns", fmt::format("{}", unknowns));
  line("estimator", estimator + " (produced the reported log det)");
  line("jarzynski (forward)", fmt::format("{:.6g} +- {:.3g} (bias estimate {:.2g})",
                                          jarzynski_logdet, jarzynski_stderr, bias_estimate));
  if (has_reverse)
    line("bennett (both ramps)", fmt::format("{:.6g} +- {:.3g}", bennett_logdet, bennett_stderr));
  line("spectrum of A", fmt::format("[{:.6g}, {:.6g}]", lambda_min, lambda_max));
  line("ramp", fmt::format("from {} (log det {:.6g}), {} steps, {} sample periods each", start,
                           start_logdet, steps, step_samples));
  line("trajectories", fmt::format("{} per direction, {} sample periods of equilibration each",
                                   trajectories, equilibration_samples));
  line("work (forward)", fmt::format("mean {:.4g} kT, std {:.4g} kT", mean_work, work_stddev));
  line("dissipated work",
       fmt::format("{:.4g} kT forward (<W> - Delta F; biased when >> 1)", dissipated_work));
  if (has_reverse)
    line("dissipated work (reverse)", fmt::format("{:.4g} kT", reverse_dissipated_work));
  line("effective trajectories",
       fmt::format("{:.1f} of {} (Kish, weights exp(-W))", effective_trajectories, trajectories));
  line("coupling scale", fmt::format("{:.6g} (1/us per unit of A)", coupling_scale));
  line("noise", fmt::format("code {}, D = {:.6g} V^2/us", noise_code, diffusion));
  line("matrix quantization",
       fmt::format("{:.3g} (relative, Frobenius; the answer is for the quantized matrix)",
                   matrix_quantization_error));
  line("rounding", randomized_rounding ? "randomized, fresh per trajectory" : "to nearest");
  line("device time", fmt::format("{:.6g} ms ({} sample periods)", device_time_s * 1e3, samples));
  line("clipped reads", fmt::format("{}", clipped_reads));
  line("wall time", fmt::format("{:.3g} s", wall_time_s));
  line("energy (model)", energy.brief());
  if (!warning.empty())
    line("warning", warning);
  return r;
}

}  // namespace kelvin::runtime
