// Thermodynamic linear solve: A x = b on a resonator board. The board's cells relax to
// x ~ N(A^-1 b, A^-1 / beta); the time average of the ADC stream estimates A^-1 b.
//
// What solve() does, in order (docs/architecture.md has the why):
//   1. validates A and b (sizes, finite values, symmetry, positive definiteness);
//   2. compiles the system into the board's ranges: A into the coupling DAC, b into the bias DAC,
//      the noise so that mean + noise_sigmas * sigma fits the ADC range (problem_scaling.hpp);
//   3. programs the board, runs a burn-in of burn_in_relaxation_times slowest-mode relaxation
//      times, then `batches` averaging runs of batch_relaxation_times each;
//   3b. auto-ranging: a pilot run after the burn-in measures how much of the ADC range the
//      solution really uses (the scaling bound in 2 is safe but can be loose) and, if it uses
//      less than half, scales b up so that it fills mean_fraction, then burns in again (up to
//      auto_range_rounds times);
//   3c. randomized rounding: each averaging batch runs on freshly, randomly rounded coupling and
//      bias codes, so that DAC quantization errors average out and show in the error bars;
//   4. undoes the scaling: x from the mean of the batch means, the standard error from their
//      spread (batch means, so that autocorrelation is accounted for);
//   5. if the ADC clipped, narrows the range and repeats (at most max_range_retries times).
//
// Thread contract: solve() uses the board exclusively for its duration; do not run two solves
// (or other board calls) on the same board concurrently. Different boards are independent.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include <Eigen/Core>

#include "kelvin/driver/resonator/resonator_board.hpp"
#include "kelvin/runtime/energy.hpp"
#include "kelvin/runtime/preconditioning.hpp"

namespace kelvin::runtime {

struct SolveOptions {
  // Averaging runs; their spread gives the standard error. Default 20; range [4, 100000].
  int batches = 20;
  // Length of each averaging run, in relaxation times (1 / lambda_min of the programmed
  // matrix). Longer batches give smaller error (error ~ 1/sqrt(total time)). Default 100.
  double batch_relaxation_times = 100.0;
  // Burn-in before averaging, in relaxation times: the start-up transient decays as
  // exp(-t lambda_min), so 12 leaves 6e-6 of it. Default 12.
  double burn_in_relaxation_times = 12.0;
  // Part of the ADC half-range that the solution's largest component may use; the rest holds
  // the noise. Default 0.5; range (0, 1).
  double mean_fraction = 0.5;
  // Noise standard deviations that must fit between the mean and the ADC rail. Default 4.
  double noise_sigmas = 4.0;
  // Pilot run and range refinement (step 3b). Default on.
  bool auto_range = true;
  // Length of the pilot run in relaxation times. Default 25.
  double pilot_relaxation_times = 25.0;
  // Pilot-and-rescale rounds at most. Default 3; range [1, 10].
  int auto_range_rounds = 3;
  // Step 3c. Default on. Off: every batch uses round-to-nearest codes, and the rounding error
  // becomes a systematic error outside the standard error (see quantization_shift).
  bool randomized_rounding = true;
  // Seed of the rounding decisions (the board's noise has its own seed). Default 1.
  std::uint64_t rounding_seed = 1;
  // Jacobi preconditioning in the compile step (preconditioning.hpp): kAuto (default) programs
  // S A S, S = diag(A)^-1/2, only when that at least halves the quantization error predicted
  // for round-to-nearest codes and that error is above 1e-3; x = S y is mapped back.
  Preconditioning preconditioning = Preconditioning::kAuto;
  // Relative tolerance of the symmetry check: |A_ij - A_ji| <= tol * max|A|. Default 1e-10.
  double symmetry_tolerance = 1e-10;
  // Range retries after ADC clipping (each halves mean_fraction). Default 2.
  int max_range_retries = 2;
  // Total deadline of the whole solve: programming, all runs and reads. Default 120 s.
  std::chrono::milliseconds timeout = std::chrono::seconds(120);

  // Throws common::Error(kInvalidArgument) naming the first bad field.
  void validate() const;
};

struct SolveSummary {
  // Device
  std::string serial;
  std::uint32_t cells = 0;
  std::size_t unknowns = 0;
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

  // Quantization of the programmed problem.
  double matrix_quantization_error = 0.0;  // ||A - A_q||_F / ||A||_F
  double bias_quantization_error = 0.0;    // ||b - b_q||_2 / ||b||_2 (0 when b = 0)
  // Estimated relative shift of the solution caused by quantization, to first order
  // ||A^-1 ((b_q - b) - (A_q - A) x)|| / ||x||, for the batch-averaged programmed system (A_q,
  // b_q). With round-to-nearest codes this is a systematic error that the standard error does
  // not include; with randomized rounding it is random across batches and inside the error bars.
  double quantization_shift = 0.0;
  bool randomized_rounding = true;
  // Preconditioning as programmed. With Jacobi, the scales, noise and quantization figures above
  // describe the programmed system S A S (x = S y); the spectrum is A's own, from a host
  // eigensolver; the estimate and its error bars are of x.
  bool jacobi = false;
  std::string preconditioning;  // the compiler's choice and why
  // Predicted relative error of x from round-to-nearest codes alone (preconditioning.hpp).
  double predicted_quantization_error = 0.0;

  // Acquisition
  int batches = 0;
  std::uint64_t samples = 0;          // averaged samples (burn-in excluded)
  std::uint64_t burn_in_samples = 0;  // samples outside the accepted average: burn-in, pilot,
                                      // and attempts discarded for clipping
  double device_time_s = 0.0;         // modelled board time, all attempts, burn-in included
  std::uint64_t clipped_samples = 0;  // in the accepted attempt
  int range_retries = 0;
  double range_gain = 1.0;  // how much auto-ranging scaled b up (1 = not at all)
  double wall_time_s = 0.0;
  // Modelled energy of the whole solve (docs/energy.md); GPU: Cholesky, n^3/3 + 2 n^2 FLOPs.
  EnergyLedger energy;

  // One line: "n=8 on SIM-RES-8-1: 20 x 2500 samples, 51 ms device time, cond 50, ..."
  std::string brief_report() const;
  // Multi-line report with every field and its unit.
  std::string full_report() const;
};

struct SolveResult {
  Eigen::VectorXd x;               // estimate of A^-1 b
  Eigen::VectorXd standard_error;  // per component, from the batch means
  SolveSummary summary;
};

// Solves A x = b (A symmetric positive definite, n <= board cells) on the board. On a board
// with capacitive couplings, an A with positive off-diagonals is solved through sign doubling
// (2n <= cells; kNotSupported if the doubled system is not positive definite). Throws
// common::Error: kInvalidArgument for bad input (the message names the defect), kNotSupported
// when n exceeds the board's cells or the quantized matrix is no longer positive definite,
// kTimeout/kDisconnected/kDevice from the board.
SolveResult solve(driver::ResonatorBoard& board, const Eigen::MatrixXd& A, const Eigen::VectorXd& b,
                  const SolveOptions& options = {});

}  // namespace kelvin::runtime
