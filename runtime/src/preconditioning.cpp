#include "kelvin/runtime/preconditioning.hpp"

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

}  // namespace kelvin::runtime
