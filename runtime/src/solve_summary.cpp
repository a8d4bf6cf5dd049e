#include <fmt/format.h>

#include "kelvin/runtime/solve.hpp"

namespace kelvin::runtime {

ReportFields SolveSummary::fields() const {
  ReportFields f{field("method", "method", method, "", "direct, or block for n above the cells"),
                 field("stderr_method", "stderr", stderr_method)};
  if (block) {
    for (ReportField& b : block->block_fields())
      f.push_back(std::move(b));
    f.push_back(field("randomized_rounding", "randomized rounding", randomized_rounding));
    f.push_back(preconditioning_field(jacobi, preconditioning, predicted_quantization_error,
                                      preconditioning_given, preconditioning_used));
  } else {
    const auto per_batch = batches > 0 ? samples / static_cast<std::uint64_t>(batches) : 0;
    ReportFields direct{
        field("unknowns", "unknowns", unknowns),
        field("relative_residual", "relative residual", relative_residual, "",
              "||b - A x|| / ||b||", 3),
        field("sign_doubled", "sign doubled", sign_doubled, "", "capacitive board: the 2n system"),
        field("lambda_min", "smallest eigenvalue", lambda_min),
        field("lambda_max", "largest eigenvalue", lambda_max),
        field("condition_number", "condition number", condition_number, "", "", 4),
        field("coupling_scale", "coupling scale", coupling_scale, "1/us per unit of A"),
        field("state_scale", "state scale", state_scale, "units of x per V"),
        field("range_gain", "auto-range gain", range_gain, "", "1: b not scaled up", 4),
        field("mean_fraction_given", "mean fraction given", mean_fraction_given, "",
              "of the ADC half-range"),
        field("mean_fraction_used", "mean fraction used", mean_fraction_used, "",
              "halved per range retry"),
        field("noise_code", "noise code", noise_code),
        field("diffusion", "noise D", diffusion, "V^2/us"),
        field("matrix_quantization_error", "matrix quantization", matrix_quantization_error, "",
              "relative, Frobenius", 3),
        field("bias_quantization_error", "rhs quantization", bias_quantization_error, "",
              "relative", 3),
        field("randomized_rounding", "randomized rounding", randomized_rounding),
        preconditioning_field(jacobi, preconditioning, predicted_quantization_error,
                              preconditioning_given, preconditioning_used),
        field("quantization_shift", "quantization shift", quantization_shift, "",
              "estimated relative error of x, not in stderr", 3),
        field("batches", "batches", batches, "", fmt::format("of {} samples", per_batch)),
        field("batch_relaxation_times", "batch length", batch_relaxation_times, "relaxation times"),
        field("auto_range", "auto-range", auto_range),
        field("samples", "averaged samples", samples),
        field("burn_in_samples", "other samples", burn_in_samples, "", "burn-in, pilot, retries"),
        field("clipped_samples", "clipped samples", clipped_samples),
        field("range_retries", "range retries", range_retries),
    };
    for (ReportField& d : direct)
      f.push_back(std::move(d));
  }
  return with_job_fields(std::move(f));
}

std::string SolveSummary::brief_report() const {
  if (block)
    return block->brief_report();
  return fmt::format(
             "n={} on {} ({} cells): {} x {} samples, {:.3g} ms device time, cond {:.3g}, "
             "quantization shift {:.2g}, {} clipped, {} range retries",
             unknowns, serial, cells, batches,
             batches > 0 ? samples / static_cast<std::uint64_t>(batches) : 0, device_time_s * 1e3,
             condition_number, quantization_shift, clipped_samples, range_retries) +
         warnings_suffix();
}

std::string SolveSummary::full_report() const {
  return render_report("Solve summary", fields());
}

}  // namespace kelvin::runtime
