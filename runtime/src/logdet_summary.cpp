#include <string>

#include <fmt/format.h>

#include "kelvin/runtime/logdet.hpp"

namespace kelvin::runtime {

ReportFields LogdetSummary::fields() const {
  std::string joined;
  for (const std::string& w : warnings)
    joined += (joined.empty() ? "" : "; ") + w;
  ReportFields f{
      field("unknowns", "unknowns", unknowns),
      field("estimator", "estimator", estimator, "", "produced the reported log det"),
      field("jarzynski_logdet", "Jarzynski (forward)", jarzynski_logdet),
      field("jarzynski_stderr", "Jarzynski stderr", jarzynski_stderr, "",
            "jackknife; not a standard error when tail_shape > 0.5", 3),
      field("bias_estimate", "Jarzynski bias estimate", bias_estimate, "",
            "jackknife; the bias can exceed it when tail_shape > 0.5", 2),
      field("tail_shape", "tail shape of exp(-W)", tail_shape, "",
            "Pareto k of the largest weights; > 0.5: infinite variance", 3),
      field("tail_shape_stderr", "tail shape stderr", tail_shape_stderr, "", "", 2),
      field("tail_trajectories", "tail fitted over", tail_trajectories, "trajectories",
            "the largest weights"),
      field("start", "ramp start", start),
      field("start_logdet", "log det of the start", start_logdet),
      field("steps", "ramp steps", steps),
      field("step_samples", "relaxation per step", step_samples, "sample periods"),
      field("equilibration_samples", "equilibration", equilibration_samples, "sample periods"),
      field("trajectories", "trajectories", trajectories, "", "per direction"),
      field("mean_work", "mean work (forward)", mean_work, "kT", "", 4),
      field("work_stddev", "work std (forward)", work_stddev, "kT", "", 4),
      field("dissipated_work", "dissipated work", dissipated_work, "kT",
            "<W> - Delta F; biased when >> 1", 4),
      field("effective_trajectories", "effective trajectories", effective_trajectories, "",
            "Kish, weights exp(-W)", 4),
      field("lambda_min", "smallest eigenvalue", lambda_min, "", "of A, as programmed"),
      field("lambda_max", "largest eigenvalue", lambda_max, "", "of A, as programmed"),
      field("coupling_scale", "coupling scale", coupling_scale, "1/us per unit of A"),
      field("noise_code", "noise code", noise_code),
      field("diffusion", "noise D", diffusion, "V^2/us"),
      field("matrix_quantization_error", "matrix quantization", matrix_quantization_error, "",
            "relative, Frobenius; the answer is for the quantized matrix", 3),
      field("randomized_rounding", "randomized rounding", randomized_rounding, "",
            "fresh per trajectory"),
      field("samples", "sample periods", samples),
      field("clipped_reads", "clipped reads", clipped_reads),
      field("warning", "warnings joined", joined, "", "the warnings list in one line"),
  };
  if (has_reverse) {
    f.push_back(field("bennett_logdet", "Bennett (both ramps)", bennett_logdet));
    f.push_back(field("bennett_stderr", "Bennett stderr", bennett_stderr, "", "", 3));
    f.push_back(field("reverse_dissipated_work", "dissipated work (reverse)",
                      reverse_dissipated_work, "kT", "", 4));
  }
  return with_job_fields(std::move(f));
}

std::string LogdetSummary::brief_report() const {
  return fmt::format(
             "n={} on {}: log det by {} over {} x {} steps ({} samples each), {:.3g} ms device "
             "time, dissipated work {:.3g} kT, {} clipped",
             unknowns, serial, estimator, trajectories, steps, step_samples, device_time_s * 1e3,
             dissipated_work, clipped_reads) +
         warnings_suffix();
}

std::string LogdetSummary::full_report() const {
  return render_report("Log-determinant summary", fields());
}

}  // namespace kelvin::runtime
