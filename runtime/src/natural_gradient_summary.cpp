#include <string>

#include <fmt/format.h>

#include "kelvin/runtime/natural_gradient.hpp"

namespace kelvin::runtime {

ReportFields NaturalGradientSummary::fields() const {
  return with_job_fields({
      field("unknowns", "unknowns", unknowns),
      field("damping", "damping", damping, "", "lambda added to the curvature's diagonal"),
      field("lambda_min", "smallest eigenvalue", lambda_min, "", "of F + lambda I"),
      field("lambda_max", "largest eigenvalue", lambda_max, "", "of F + lambda I"),
      field("time_us_given", "analog time given", time_us_given, "us"),
      field("time_us", "analog time run", time_us, "us", "whole sample periods"),
      field("upload_delay_us_given", "upload delay given", upload_delay_us_given, "us"),
      field("upload_delay_us", "upload delay run", upload_delay_us, "us",
            "0 without a previous step"),
      field("warm_start_given", "warm start given", warm_start_given),
      field("warm_start", "warm start used", warm_start, "",
            "start from the previous estimate, not the gradient"),
      field("remaining_transient", "transient left", remaining_transient, "",
            "exp(-lambda_min,dev t); 1 = SGD, 0 = NGD", 4),
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
      field("samples", "sample periods", samples, "", "loads included"),
      field("clipped_samples", "clipped samples", clipped_samples),
  });
}

std::string NaturalGradientSummary::brief_report() const {
  return fmt::format(
             "n={} on {}: t = {:g} us, lambda = {:g}, {} repeats, {:.3g} ms device time, "
             "transient left {:.2g}{}, {} clipped",
             unknowns, serial, time_us, damping, repeats, device_time_s * 1e3, remaining_transient,
             warm_start ? " (warm start)" : "", clipped_samples) +
         warnings_suffix();
}

std::string NaturalGradientSummary::full_report() const {
  return render_report("Natural gradient summary", fields());
}

}  // namespace kelvin::runtime
