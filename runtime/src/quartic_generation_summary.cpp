#include <fmt/format.h>

#include "kelvin/runtime/quartic_generation.hpp"

namespace kelvin::runtime {

ReportFields QuarticGenerationSummary::fields() const {
  return with_job_fields({
      field("samples", "generated samples", samples),
      field("model_cells", "model cells", model_cells),
      field("visible", "visible cells", visible),
      field("uncoupled_samples", "uncoupled phase", uncoupled_samples, "sample periods",
            "from x = 0, diagonal of A only, b = 0"),
      field("coupled_samples", "coupled phase", coupled_samples, "sample periods", "full A and b"),
      field("noise_code", "noise code", noise_code, "", "the checkpoint's"),
      field("noise_code_used", "noise code used", noise_code_used, "",
            "after the calibration's temperature correction"),
      field("diffusion", "kT = D", diffusion, "V^2/us"),
      field("heat_mean_kt", "heat mean", heat_mean_kt, "kT", "V(x switch-on) - V(x end)"),
      field("heat_stderr_kt", "heat stderr", heat_stderr_kt, "kT", "samples - 1 dof"),
      field("heat_mean", "heat mean", heat_mean, "V^2/us"),
      field("heat_stderr", "heat stderr", heat_stderr, "V^2/us"),
      field("heat_dof", "heat dof", heat_dof),
      field("heat_min", "heat min", heat_min, "V^2/us"),
      field("heat_max", "heat max", heat_max, "V^2/us"),
      field("heat_quantization_bound", "heat quantization bound", heat_quantization_bound, "V^2/us",
            "first-order ADC-rounding bias bound, not in stderr", 3),
      field("clipped_generated", "clipped generated samples", clipped_generated, "",
            "a cell at an ADC rail at switch-on or end"),
      field("clipped_board_samples", "clipped board samples", clipped_board_samples),
      field("coupling_gain_correction", "coupling gain correction", coupling_gain_correction, "",
            "codes multiplied by 1 / coupling-DAC gain", 4),
      field("coupling_codes_clamped", "coupling codes clamped", coupling_codes_clamped),
      field("corrected", "calibration corrects", corrected),
      field("not_corrected", "calibration cannot correct", not_corrected),
      field("wall_time_per_sample_s", "wall time per sample", wall_time_per_sample_s, "s", "", 3),
  });
}

std::string QuarticGenerationSummary::brief_report() const {
  const std::string heat =
      heat_mean_kt
          ? fmt::format("heat {:.4g} +- {:.2g} kT", *heat_mean_kt, heat_stderr_kt.value_or(0.0))
          : fmt::format("heat {:.4g} +- {:.2g} V^2/us", heat_mean, heat_stderr);
  return fmt::format(
             "{} samples of {} visible cells on {} ({} + {} periods each): {}, {} clipped, "
             "{:.3g} ms device time, {:.3g} s wall per sample",
             samples, visible, serial, uncoupled_samples, coupled_samples, heat, clipped_generated,
             device_time_s * 1e3, wall_time_per_sample_s) +
         warnings_suffix();
}

std::string QuarticGenerationSummary::full_report() const {
  return render_report("Quartic generation summary", fields());
}

}  // namespace kelvin::runtime
