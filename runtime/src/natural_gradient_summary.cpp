#include <string>

#include <fmt/format.h>

#include "kelvin/runtime/natural_gradient.hpp"

namespace kelvin::runtime {

ReportFields NaturalGradientSummary::fields() const {
  return with_job_fields({
      field("unknowns", "unknowns", unknowns),
      field("method", "method", method, "",
            "parameter space: the board holds all unknowns; row space: F's row space"),
      field("board_unknowns", "unknowns on the board", board_unknowns),
      field("curvature_rank", "curvature rank", curvature_rank, "", "row space only"),
      field("complement_remaining_transient", "complement transient left",
            complement_remaining_transient, "", "row space: exp(-lambda tau), exact", 4),
      field("damping", "damping", damping, "", "lambda added to the curvature's diagonal"),
      field("lambda_min", "smallest eigenvalue", lambda_min, "",
            "of F + lambda I as programmed (S (F + lambda I) S with Jacobi)"),
      field("lambda_max", "largest eigenvalue", lambda_max, "", "likewise"),
      field("time_us_given", "analog time given", time_us_given, "us",
            "none when transient_tolerance chose it"),
      field("transient_tolerance_given", "transient tolerance given", transient_tolerance_given, "",
            "run until exp(-lambda_min,dev t) <= this"),
      field("time_us", "analog time run", time_us, "us", "whole sample periods"),
      field("sample_period_us", "sample period", sample_period_us, "us"),
      field("upload_delay_us_given", "upload delay given", upload_delay_us_given, "us"),
      field("upload_delay_us", "upload delay run", upload_delay_us, "us",
            "0 without a previous step"),
      field("warm_start_given", "warm start given", warm_start_given),
      field("warm_start", "warm start used", warm_start, "",
            "start from the previous estimate, not the gradient"),
      field("remaining_transient", "transient left", remaining_transient, "",
            "exp(-lambda_min,dev t); 1 = SGD, 0 = NGD", 4),
      field("transient_bound", "transient bound", transient_bound, "",
            "|mean - natural gradient| per component, not in the stderr", 3),
      preconditioning_field(jacobi, preconditioning, predicted_quantization_error,
                            preconditioning_given, preconditioning_used),
      field("randomized_rounding", "randomized rounding", randomized_rounding, "",
            "fresh codes per repeat"),
      field("coupling_scale", "coupling scale", coupling_scale, "1/us per unit of F"),
      field("state_scale", "state scale", state_scale, "units per V"),
      field("noise_code", "noise code", noise_code),
      field("matrix_quantization_error", "matrix quantization", matrix_quantization_error, "",
            "relative, Frobenius", 3),
      field("repeats", "repeats", repeats, "", "reads; their spread is the stderr"),
      field("degrees_of_freedom", "degrees of freedom", degrees_of_freedom, "",
            "of the stderr: repeats - 1"),
      field("t95", "t factor (95%)", t95, "", "Student t: 95% interval = +- t95 x stderr", 4),
      field("samples", "sample periods", samples, "", "loads included"),
      field("clipped_samples", "clipped samples", clipped_samples),
  });
}

std::string NaturalGradientSummary::brief_report() const {
  return fmt::format(
             "n={}{} on {}: t = {:g} us, lambda = {:g}, {} repeats ({} dof), {:.3g} ms device "
             "time, transient left {:.2g} (bound {:.2g}){}, {} clipped",
             unknowns,
             method == "row space" ? fmt::format(" (rank {} row space)", board_unknowns) : "",
             serial, time_us, damping, repeats, degrees_of_freedom, device_time_s * 1e3,
             remaining_transient, transient_bound, warm_start ? " (warm start)" : "",
             clipped_samples) +
         warnings_suffix();
}

std::string NaturalGradientSummary::full_report() const {
  return render_report("Natural gradient summary", fields());
}

}  // namespace kelvin::runtime
