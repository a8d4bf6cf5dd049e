// Jacobi preconditioning in the matrix compiler, and the automatic choice between it and none.
//
// A board realizes A through one coupling DAC whose end code holds the largest |A_ij|; every
// other entry is resolved to one part in 2^15 of that. A matrix whose scales differ across rows
// (a curvature whose diagonal spans 1e4, say) puts its small entries on a few codes, and the
// directions they carry are lost to rounding. Jacobi scaling programs S A S with
// S = diag(A)^-1/2 instead (unit diagonal), solves S A S y = S b and maps back x = S y; the
// answer is the same, the rounding is relative to each row's own scale.
//
// The automatic choice predicts, before the board is touched, the error that round-to-nearest
// codes alone put into the answer, both ways: the compiled problem's realized matrix and
// right-hand side, solved exactly in double precision, against A^-1 b (or, for b = 0, the
// realized inverse against A^-1). Jacobi is chosen when it at least halves that error and the
// plain error is above kAutoJacobiFloor: below it quantization is far under the board's
// statistical error at default settings (about 1e-2), and plain programming keeps the
// unpreconditioned relaxation path (which natural-gradient users may rely on; see
// natural_gradient.hpp). When the plain error is kQuantizationWarning or more (the answer is
// mostly rounding), any smaller Jacobi error wins, and a job whose chosen programming still
// predicts that much says so in its summary's warnings (quantization_warning()).
//
// Thread contract: pure functions, safe from any thread.
#pragma once

#include <string>

#include <Eigen/Core>

#include "kelvin/driver/device_description.hpp"
#include "kelvin/runtime/problem_scaling.hpp"
#include "kelvin/runtime/report.hpp"

namespace kelvin::runtime {

enum class Preconditioning {
  kNone,    // program A as given
  kJacobi,  // program S A S, S = diag(A)^-1/2
  kAuto,    // Jacobi when it predicts at least half the quantization error (see above)
};

// Plain-programming quantization error above which kAuto considers Jacobi.
inline constexpr double kAutoJacobiFloor = 1e-3;
// Predicted quantization error from which the answer is mostly rounding: kAuto then takes the
// smaller of the two, and the job warns.
inline constexpr double kQuantizationWarning = 0.1;

struct PreconditioningChoice {
  bool jacobi = false;
  // S (all ones without Jacobi): the board works in y = S^-1 x.
  Eigen::VectorXd scale;
  // Predicted relative error of the answer from round-to-nearest codes alone (no noise), for
  // plain and for Jacobi programming; +infinity when that programming is impossible (the
  // rounded matrix is indefinite). kAuto computes both; kNone and kJacobi only their own (the
  // other is NaN).
  double predicted_error_plain = 0.0;
  double predicted_error_jacobi = 0.0;
  // The chosen one of the two.
  double predicted_error() const noexcept {
    return jacobi ? predicted_error_jacobi : predicted_error_plain;
  }
  // Why this choice, in one line (for reports and logs).
  std::string reason;
};

// Predicted relative error of the answer from programming (A, b) with round-to-nearest codes:
// ||A_q^-1 b_q - A^-1 b|| / ||A^-1 b||, or ||A_q^-1 - A^-1||_F / ||A^-1||_F when b = 0.
// +infinity if the rounded matrix is not positive definite. A must be SPD, n <= cells.
double predicted_quantization_error(const Eigen::MatrixXd& A, const Eigen::VectorXd& b,
                                    const driver::DeviceDescription& board,
                                    const ScalingTargets& targets);

// The choice itself is made by compile_problem() (problem_compiler.hpp), which keeps the
// compiled system of the chosen programming for the job.

const char* to_string(Preconditioning mode) noexcept;  // "none", "jacobi", "auto"

// A warning for the job's summary when the chosen programming predicts a quantization error of
// kQuantizationWarning or more ("" otherwise): the 16-bit codes cannot resolve this matrix, so
// the answer can be far off whatever its error bars say.
std::string quantization_warning(const PreconditioningChoice& choice);

// The "preconditioning" group of a Summary's fields (report.hpp): jacobi, reason,
// predicted_quantization_error, given and used.
ReportField preconditioning_field(bool jacobi, const std::string& reason,
                                  double predicted_quantization_error, const std::string& given,
                                  const std::string& used);

}  // namespace kelvin::runtime
