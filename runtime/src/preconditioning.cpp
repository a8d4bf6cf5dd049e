#include "kelvin/runtime/preconditioning.hpp"

#include <fmt/format.h>

#include "kelvin/common/error.hpp"
#include "programming_candidate.hpp"

namespace kelvin::runtime {

double predicted_quantization_error(const Eigen::MatrixXd& A, const Eigen::VectorXd& b,
                                    const driver::DeviceDescription& board,
                                    const ScalingTargets& targets) {
  return detail::program_scaled(A, b, Eigen::VectorXd::Ones(A.rows()), board, targets)
      .predicted_error;
}

ReportField preconditioning_field(bool jacobi, const std::string& reason,
                                  double predicted_quantization_error, const std::string& given,
                                  const std::string& used) {
  return group(
      "preconditioning", "preconditioning",
      {field("given", "given", given, "", "auto, jacobi or none"), field("used", "used", used),
       field("jacobi", "Jacobi", jacobi), field("reason", "why", reason),
       field("predicted_quantization_error", "predicted quantization", predicted_quantization_error,
             "", "relative error from nearest codes", 3)});
}

const char* to_string(Preconditioning mode) noexcept {
  switch (mode) {
    case Preconditioning::kNone:
      return "none";
    case Preconditioning::kJacobi:
      return "jacobi";
    case Preconditioning::kAuto:
      return "auto";
  }
  return "?";
}

std::string quantization_warning(const PreconditioningChoice& choice) {
  const double e = choice.predicted_error();
  if (!(e >= kQuantizationWarning))
    return {};
  return fmt::format(
      "the coupling DAC's codes cannot resolve this matrix: rounding alone predicts a relative "
      "error of {:.2g} in the answer ({} programming), which the error bars do not include; "
      "raise the damping or regularize, or rescale the problem",
      e, choice.jacobi ? "Jacobi" : "plain");
}

}  // namespace kelvin::runtime
