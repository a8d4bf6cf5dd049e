// Thermodynamic linear solve: A x = b on a resonator board. The board's cells relax to
// x ~ N(A^-1 b, A^-1 / beta); the time average of the ADC stream estimates A^-1 b.
//
// solve() chooses the method: a system that fits the board (n <= cells) is solved directly; a
// larger one by block-Jacobi preconditioned conjugate gradients with the blocks solved on the
// board (block_solve.hpp). Every option is honoured on both paths; where a path has its own
// default (batches, batch length, auto-ranging: a preconditioner block needs a few percent, not
// the direct solve's precision) the option is optional and the summary says what was used.
//
// What the direct path does, in order (docs/architecture.md has the why):
//   1. compiles the problem once (problem_compiler.hpp): validates A and b (sizes, finite
//      values, symmetry, positive definiteness), sign-doubles on a capacitive board, chooses
//      plain or Jacobi programming, and scales A into the coupling DAC, b into the bias DAC and
//      the noise so that mean + noise_sigmas * sigma fits the ADC range;
//   2. programs the board, runs a burn-in of burn_in_relaxation_times slowest-mode relaxation
//      times, then `batches` averaging runs of batch_relaxation_times each;
//   2b. auto-ranging: a pilot run after the burn-in measures how much of the ADC range the
//      solution really uses (the scaling bound in 1 is safe but can be loose) and, if it uses
//      less than half, scales b up so that it fills mean_fraction, then burns in again (up to
//      auto_range_rounds times);
//   2c. randomized rounding: each averaging batch runs on freshly, randomly rounded coupling and
//      bias codes, so that DAC quantization errors average out and show in the error bars;
//   3. undoes the scaling: x from the mean of the batch means, the standard error from their
//      spread (batch means, so that autocorrelation is accounted for; batches - 1 degrees of
//      freedom);
//   4. if the ADC clipped, narrows the range and repeats (at most max_range_retries times).
//
// Thread contract: solve() uses the board exclusively for its duration; do not run two solves
// (or other board calls) on the same board concurrently. Different boards are independent.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <Eigen/Core>
#include <Eigen/SparseCore>

#include "kelvin/driver/resonator/resonator_board.hpp"
#include "kelvin/runtime/block_solve_summary.hpp"
#include "kelvin/runtime/calibration/board_calibration.hpp"
#include "kelvin/runtime/job_summary.hpp"
#include "kelvin/runtime/preconditioning.hpp"
#include "kelvin/runtime/problem_compiler.hpp"

namespace kelvin::runtime {

struct SolveOptions {
  // Averaging runs per solve; their spread gives the standard error. Default: 20 for a direct
  // solve, 4 per block on the block path. Range [4, 100000].
  std::optional<int> batches;
  // Length of each averaging run, in relaxation times (1 / lambda_min of the programmed
  // matrix); error ~ 1/sqrt(total time). Default: 100 direct, 25 per block. Range >= 1.
  std::optional<double> batch_relaxation_times;
  // Burn-in before averaging, in relaxation times: the start-up transient decays as
  // exp(-t lambda_min), so 12 leaves 6e-6 of it. Default 12.
  double burn_in_relaxation_times = 12.0;
  // Part of the ADC half-range that the solution's largest component may use; the rest holds
  // the noise. Default 0.5; range (0, 1).
  double mean_fraction = 0.5;
  // Noise standard deviations that must fit between the mean and the ADC rail. Default 4.
  double noise_sigmas = 4.0;
  // Pilot run and range refinement (step 2b). Default: on direct, off per block.
  std::optional<bool> auto_range;
  // Length of the pilot run in relaxation times. Default 25.
  double pilot_relaxation_times = 25.0;
  // Pilot-and-rescale rounds at most. Default 3; range [1, 10].
  int auto_range_rounds = 3;
  // Step 2c. Default on. Off: every batch uses round-to-nearest codes, and the rounding error
  // becomes a systematic error outside the standard error (see quantization_shift).
  bool randomized_rounding = true;
  // Seed of the rounding decisions (the board's noise has its own seed); block k of a block
  // solve uses rounding_seed + k. Default 1.
  std::uint64_t rounding_seed = 1;
  // Jacobi preconditioning in the compile step (preconditioning.hpp): kAuto (default) programs
  // S A S, S = diag(A)^-1/2, only when that at least halves the quantization error predicted
  // for round-to-nearest codes and that error is above 1e-3; x = S y is mapped back.
  Preconditioning preconditioning = Preconditioning::kAuto;
  // Relative tolerance of the symmetry check, max|A_ij - A_ji| <= tol * max|A|, the same for
  // every job (system_checks.hpp; kelvin: --symmetry-tolerance). Default 1e-10; range [0, 1e-4].
  double symmetry_tolerance = kDefaultSymmetryTolerance;
  // Range retries after ADC clipping (each halves mean_fraction). Default 2.
  int max_range_retries = 2;
  // Block path (n > cells): stop when ||b - A x|| <= tolerance * ||b||. Default 1e-3; (0, 1).
  double tolerance = 1e-3;
  // Block path: outer iterations at most. Default 200.
  int max_iterations = 200;
  // Block path: unknowns per block; 0 (default) means the board's cell count.
  std::uint32_t block_size = 0;
  // Total deadline of the whole solve: programming, all runs and reads. Default 120 s.
  std::chrono::milliseconds timeout = std::chrono::seconds(120);
  // Which calibration corrects the read-out (calibration/board_calibration.hpp). Default: the
  // board's file in the calibration directory if there is one, else none.
  runtime::calibration::CalibrationSelection calibration;

  // Throws common::Error(kInvalidArgument) naming the first bad field.
  void validate() const;
};

// SolveSummary::stderr_method: what SolveResult::standard_error holds on each path.
inline constexpr const char* kBatchMeansStderr =
    "standard error of the batch means (batches - 1 degrees of freedom)";
inline constexpr const char* kBlockErrorEstimate =
    "estimated error |M^-1 (b - A x)| of the block solve (block-Jacobi M solved digitally; not "
    "a spread over repeats)";

struct SolveSummary : JobSummary {
  std::string method = "direct";  // "direct" (n <= cells) or "block" (block_solve.hpp)
  std::size_t unknowns = 0;
  // ||b - A x|| / ||b|| of the answer, computed digitally in double precision.
  double relative_residual = 0.0;
  // True when a capacitive board solved the 2N sign-doubled system (sign_doubling.hpp); the
  // scales, spectrum and samples below then describe that system.
  bool sign_doubled = false;

  // Scaling (user units <-> device units); see problem_scaling.hpp.
  double coupling_scale = 0.0;  // A_dev [1/us] = coupling_scale * A
  double state_scale = 0.0;     // x = state_scale * x_dev [V]
  std::uint32_t noise_code = 0;
  double diffusion = 0.0;   // D = 1/beta programmed [V^2/us]
  double lambda_min = 0.0;  // estimated spectrum of A (user units)
  double lambda_max = 0.0;
  double condition_number = 0.0;
  double mean_fraction_given = 0.0;  // SolveOptions::mean_fraction
  double mean_fraction_used = 0.0;   // after range retries (each halves it)

  // Quantization of the programmed problem.
  double matrix_quantization_error = 0.0;  // ||A - A_q||_F / ||A||_F
  double bias_quantization_error = 0.0;    // ||b - b_q||_2 / ||b||_2 (0 when b = 0)
  // Estimated relative shift of the solution caused by quantization, to first order
  // ||A^-1 ((b_q - b) - (A_q - A) x)|| / ||x||, for the batch-averaged programmed system (A_q,
  // b_q). With round-to-nearest codes this is a systematic error that the standard error does
  // not include; with randomized rounding it is random across batches and inside the error bars.
  double quantization_shift = 0.0;
  bool randomized_rounding = true;
  // Preconditioning as given ("auto", "jacobi", "none") and as used ("jacobi" or "none"). With
  // Jacobi, the scales, noise and quantization figures above describe the programmed system
  // S A S (x = S y); the spectrum is A's own, from a host eigensolver; the estimate and its
  // error bars are of x.
  std::string preconditioning_given = "auto";
  std::string preconditioning_used = "none";
  bool jacobi = false;
  std::string preconditioning;  // the compiler's choice and why
  // Predicted relative error of x from round-to-nearest codes alone (preconditioning.hpp).
  double predicted_quantization_error = 0.0;

  // Acquisition
  int batches = 0;                      // used (per block on the block path)
  double batch_relaxation_times = 0.0;  // used
  bool auto_range = false;              // used
  std::uint64_t samples = 0;            // averaged samples (burn-in excluded)
  std::uint64_t burn_in_samples = 0;    // samples outside the accepted average: burn-in,
                                        // pilot, and attempts discarded for clipping
  std::uint64_t clipped_samples = 0;    // in the accepted attempt
  int range_retries = 0;
  double range_gain = 1.0;  // how much auto-ranging scaled b up (1 = not at all)

  // What SolveResult::standard_error is: kBatchMeansStderr or kBlockErrorEstimate.
  std::string stderr_method = kBatchMeansStderr;

  // Block path only: the block solve's own figures (iterations, residuals, blocks).
  std::optional<BlockSolveSummary> block;

  // Every field (report.hpp); on the block path the block solve's fields instead of the direct
  // path's scaling and acquisition figures.
  ReportFields fields() const;
  // One line: "n=8 on SIM-RES-8-1: 20 x 2500 samples, 51 ms device time, cond 50, ..."
  std::string brief_report() const;
  // Multi-line report with every field and its unit.
  std::string full_report() const;
};

struct SolveResult {
  Eigen::VectorXd x;  // estimate of A^-1 b
  // Per component. Direct path: the standard error from the batch means (batches - 1 degrees
  // of freedom). Block path: an estimate of the error itself from the final residual
  // (BlockSolveResult::error_estimate), not a statistical spread. summary.stderr_method says
  // which.
  Eigen::VectorXd standard_error;
  SolveSummary summary;
};

// Solves A x = b (A symmetric positive definite, any size). n <= the board's cells: directly;
// on a board with capacitive couplings, an A with positive off-diagonals is solved through sign
// doubling (2n <= cells; kNotSupported if the doubled system is not positive definite). n above
// the cells: by block_solve() with the blocks on this board. Throws common::Error:
// kInvalidArgument for bad input (the message names the defect), kNotSupported when the
// problem cannot be realized (positive off-diagonals on a capacitive board that cannot double
// it, a matrix quantization makes indefinite), kTimeout/kDisconnected/kDevice from the board.
SolveResult solve(driver::ResonatorBoard& board, const Eigen::MatrixXd& A, const Eigen::VectorXd& b,
                  const SolveOptions& options = {});
// The same for a sparse A: made dense only when it fits the board directly; on the block path
// only the diagonal blocks become dense (what N = 10,000 and beyond needs).
SolveResult solve(driver::ResonatorBoard& board, const Eigen::SparseMatrix<double>& A,
                  const Eigen::VectorXd& b, const SolveOptions& options = {});

}  // namespace kelvin::runtime
