#include <string>
#include <string_view>

#include <fmt/format.h>

#include "kelvin/runtime/natural_gradient.hpp"

namespace kelvin::runtime {

std::string NaturalGradientSummary::brief_report() const {
  return fmt::format(
      "n={} on {}: t = {:g} us, lambda = {:g}, {} repeats, {:.3g} ms device time, transient left "
      "{:.2g}{}, {} clipped",
      unknowns, serial, time_us, damping, repeats, device_time_s * 1e3, remaining_transient,
      warm_start ? " (warm start)" : "", clipped_samples);
}

std::string NaturalGradientSummary::full_report() const {
  std::string r;
  auto line = [&r](std::string_view name, const std::string& value) {
    r += fmt::format("  {:<28} {}\n", name, value);
  };
  r += "Natural gradient summary\n";
  line("board", serial);
  line("unknowns", fmt::format("{}", unknowns));
  line("damping", fmt::format("{:.6g}", damping));
  line("spectrum of F + lambda I", fmt::format("[{:.6g}, {:.6g}]", lambda_min, lambda_max));
  line("analog time", fmt::format("{:g} us", time_us));
  line("upload delay", fmt::format("{:g} us", upload_delay_us));
  line("start", warm_start ? "previous estimate (warm start)" : "gradient");
  line("preconditioning", preconditioning);
  line("predicted quantization",
       fmt::format("{:.3g} (relative error of the answer from nearest codes)",
                   predicted_quantization_error));
  line("rounding", randomized_rounding ? "randomized, fresh per repeat" : "to nearest");
  line("transient left",
       fmt::format("{:.4g} (exp(-lambda_min,dev t); 1 = SGD, 0 = NGD)", remaining_transient));
  line("coupling scale", fmt::format("{:.6g} (1/us per unit of F)", coupling_scale));
  line("state scale", fmt::format("{:.6g} (units per V)", state_scale));
  line("noise code", fmt::format("{}", noise_code));
  line("matrix quantization",
       fmt::format("{:.3g} (relative, Frobenius)", matrix_quantization_error));
  line("repeats", fmt::format("{}", repeats));
  line("device time",
       fmt::format("{:.6g} ms ({} sample periods, loads included)", device_time_s * 1e3, samples));
  line("clipped samples", fmt::format("{}", clipped_samples));
  line("wall time", fmt::format("{:.3g} s", wall_time_s));
  line("energy (model)", energy.brief());
  return r;
}

}  // namespace kelvin::runtime
