// Thermodynamic matrix inversion (Aifer et al., "Thermodynamic linear algebra", arXiv
// 2308.05660): with b = 0 the board's cells sample x ~ N(0, D A_dev^-1), so the time-averaged
// second moments, rescaled, estimate A^-1:
//     A^-1 = (coupling_scale / D) E[x x^T],      A_dev = coupling_scale * A  [1/us], D [V^2/us].
//
// What inverse() does: validates A (as solve() does), compiles it into the coupling DAC with
// b = 0 and the noise so that noise_sigmas deviations of the widest cell fill the ADC range,
// burns in, then runs `batches` runs that accumulate the sums of products on board. Each batch
// (on freshly, randomly rounded codes by default) gives one estimate of A^-1; the result is
// their mean and the standard error their spread. The second moments are taken about the mean
// over all batches (0 in theory; it absorbs an ADC offset), and the ADC's rounding variance,
// lsb^2 / 12, is taken off the diagonal.
//
// Thread contract: inverse() uses the board exclusively for its duration; do not run other board
// calls on the same board concurrently. Different boards are independent.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include <Eigen/Core>

#include "kelvin/driver/resonator/resonator_board.hpp"
#include "kelvin/runtime/job_summary.hpp"
#include "kelvin/runtime/problem_compiler.hpp"

namespace kelvin::runtime {

struct InverseOptions {
  // Averaging runs; their spread gives the standard error. Default 20; range [4, 100000].
  int batches = 20;
  // Length of each run in relaxation times (1 / lambda_min of the programmed matrix). The
  // relative error of a variance estimate falls as sqrt(2 / (batches * length)). Default 500.
  double batch_relaxation_times = 500.0;
  // Burn-in from x = 0, in relaxation times. Default 12.
  double burn_in_relaxation_times = 12.0;
  // Noise standard deviations of the widest cell that fit in the ADC half-range. Default 4.
  double noise_sigmas = 4.0;
  // Fresh random rounding of the couplings for every batch. Default on.
  bool randomized_rounding = true;
  std::uint64_t rounding_seed = 1;
  // Relative tolerance of the symmetry check, max|A_ij - A_ji| <= tol * max|A|, the same for
  // every job (system_checks.hpp). Default 1e-10; range [0, 1e-4].
  double symmetry_tolerance = kDefaultSymmetryTolerance;
  // Total deadline. Default 120 s.
  std::chrono::milliseconds timeout = std::chrono::seconds(120);

  // Throws common::Error(kInvalidArgument) naming the first bad field.
  void validate() const;
};

struct InverseSummary : JobSummary {
  std::size_t unknowns = 0;
  double coupling_scale = 0.0;  // A_dev [1/us] = coupling_scale * A
  double diffusion = 0.0;       // D programmed [V^2/us]
  std::uint32_t noise_code = 0;
  double lambda_min = 0.0;  // of A (from the programmed codes)
  double lambda_max = 0.0;
  double matrix_quantization_error = 0.0;
  bool randomized_rounding = true;
  int batches = 0;
  std::uint64_t samples = 0;  // averaged
  std::uint64_t burn_in_samples = 0;
  std::uint64_t clipped_samples = 0;

  ReportFields fields() const;
  std::string brief_report() const;
  std::string full_report() const;
};

struct InverseResult {
  Eigen::MatrixXd inverse;         // estimate of A^-1 (symmetric)
  Eigen::MatrixXd standard_error;  // per entry, from the batch estimates
  InverseSummary summary;
};

// Throws common::Error as solve() does (kInvalidArgument for bad input naming the defect,
// kNotSupported for too many unknowns or a matrix quantization makes indefinite, board errors).
InverseResult inverse(driver::ResonatorBoard& board, const Eigen::MatrixXd& A,
                      const InverseOptions& options = {});

}  // namespace kelvin::runtime
