// Thermodynamic natural gradient (TNGD; Donatella et al., "Thermodynamic natural gradient
// descent", arXiv 2405.13817). The trainer sends the gradient g and the curvature (a dense F, or
// the factors J and H of the generalized Gauss-Newton matrix F = J^T H J) to a resonator board,
// which relaxes under
//     dx = -((F + lambda I) x - g) dt + noise,      x(0) = x0.
// Its mean at analog time t is
//     m(t) = e^{-(F + lambda I) t} x0 + (I - e^{-(F + lambda I) t}) (F + lambda I)^-1 g,
// so starting from x0 = g, t = 0 returns the SGD direction g and t >> 1 / lambda_min the natural
// gradient (F + lambda I)^-1 g; in between the estimate interpolates. Warm start (x0 = the
// previous step's estimate) and an upload delay (the board keeps relaxing under the previous
// step's curvature for t_d while the new one uploads) act like momentum, as in the paper.
//
// How one estimate is taken (each of `repeats` times, so that the spread gives error bars):
//   1. load x0 into the cells: the board has no state DAC, so it relaxes, noise off, under
//      A = a_load I and b = a_load x0 (a_load: the largest diagonal coupling) for
//      load_relaxation_samples sample periods, which leaves exp(-a_load * that) of the old state;
//   2. optionally run t_d with the previous step's codes (upload delay);
//   3. program F + lambda I, g and the noise (problem_scaling.hpp: the spectrum into the coupling
//      range, with randomized rounding per repeat; x0 and the bound ||g|| / lambda_min inside
//      mean_fraction of the ADC range; the noise so that noise_sigmas deviations fit besides);
//   4. run for t (rounded to whole sample periods) and read x(t) with one decimated ADC sample.
// The estimate is the mean of the reads, scaled back to user units; the standard error is
// their standard deviation / sqrt(repeats), with repeats - 1 degrees of freedom: the
// standardized error (estimate - mean) / stderr is Student-t, so a 95% interval is
// +- t95 * stderr (summary: degrees_of_freedom, t95; 3.18 for the default 4 repeats).
//
// Analog time is device time: t in microseconds of the board's clock, where the board's
// relaxation rates are those of the scaled matrix, coupling_scale * (F + lambda I) in 1/us; the
// summary reports coupling_scale and how far the slowest mode relaxed, exp(-lambda_min,dev t).
// t runs in whole sample periods: a nonzero t that rounds to none is refused (it would return
// the start with a zero standard error), and a time run more than 1% off the time given is a
// warning.
//
// The transient is a bias, not noise: the standard error does not include it. In the board's
// coordinates y = S^-1 x (S = I without Jacobi) the mean is y(t) = y* + e^{-P_dev t} (y0 - y*),
// P_dev = coupling_scale * S (F + lambda I) S, y* = S^-1 (F + lambda I)^-1 g, so each component
// of the mean differs from the natural gradient by at most
//     transient_bound_i = S_i * exp(-lambda_min,dev t) * (||y0|| + ||S g|| / lambda_min(S A S)),
// using ||e^{-P t} v|| <= exp(-lambda_min t) ||v|| and ||y*|| <= ||S g|| / lambda_min; y0 is the
// start read back from the board (the largest over the repeats, so warm start and upload delay
// are covered). When that bound exceeds a component's standard error the summary warns that the
// estimate is the TNGD interpolation at t, not the natural gradient, and names
// transient_tolerance: set, it chooses t = ln(1 / transient_tolerance) / lambda_min,dev (rounded
// up to whole periods), leaving at most that fraction of the start in the slowest mode.
//
// More parameters than cells (the row-space path). With GGN factors and N above the board's cells,
// F = J^T H J = U^T U (U = L^T J, H = L L^T with zero eigenvalues dropped) has rank r <= m, and
// when r fits the board the estimate still follows the parameter-space dynamics above, exactly:
// with an orthonormal basis Q (N x r) of F's row space, F = Q (Q^T F Q) Q^T (Q = U^T K^-1/2 with
// K = U U^T, so that Q^T F Q = K, the Gram matrix; a thin QR of U^T when U's rows are
// dependent), so
//   - in the row space, w = Q^T x obeys dw = -((Q^T F Q + lambda I) w - Q^T g) dt + noise: an
//     r x r system, which the board relaxes from Q^T x0 (the same repeats, rounding, error bars);
//   - in the complement, where F = 0, x_perp(t) = e^{-lambda tau} x0_perp + (1 - e^{-lambda tau})
//     g_perp / lambda in closed form, computed digitally (tau = coupling_scale * t: the board's
//     time in the units of F); with transient_tolerance set, tau is at least
//     ln(1 / transient_tolerance) / lambda there, since only damping relaxes the complement.
// The estimate is Q w(t) + x_perp(t); each repeat is mapped so, so the standard errors are those
// of the N-vector (the complement is exact and adds none). The host's share is m (m + 1) N FLOPs
// for the Gram matrix J J^T (K = P J J^T P^T with U = P J, never forming U or Q) and two passes
// over J for the products (row_space_basis.hpp); the board's is an r x r job. An upload delay
// cannot be run there (the basis Q changes with every J) and is ignored with a warning; damping
// must be positive when r < N.
//
// Thread contract: a NaturalGradientEstimator uses its board exclusively during estimate(); one
// thread at a time may call it. Different estimators on different boards are independent.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "kelvin/driver/resonator/resonator_board.hpp"
#include "kelvin/runtime/calibration/board_calibration.hpp"
#include "kelvin/runtime/calibration/calibration_cache.hpp"
#include "kelvin/runtime/job_summary.hpp"
#include "kelvin/runtime/preconditioning.hpp"
#include "kelvin/runtime/problem_compiler.hpp"
#include "kelvin/runtime/problem_scaling.hpp"

namespace kelvin::runtime {

struct NaturalGradientOptions {
  // Damping lambda >= 0 added to the curvature; F + lambda I must be positive definite.
  // Default 1e-3.
  double damping = 1e-3;
  // Analog time t per estimate, in device microseconds (tau = RC = 1 us on the resonator board),
  // run in whole sample periods. 0 gives the SGD direction. Default 50 (the paper's t = 50 tau;
  // an interpolation between g and the natural gradient, not the natural gradient, unless
  // 50 us >> 1 / lambda_min,dev: see transient_tolerance). Range [0, 65536]; a nonzero t below
  // half a sample period is refused by estimate().
  double time_us = 50.0;
  // Ask for the natural gradient itself: when set, t is the shortest whole number of sample
  // periods with exp(-lambda_min,dev t) <= transient_tolerance (lambda_min,dev: the slowest
  // relaxation rate of the programmed codes), at most 65536 us (a warning if that is not
  // enough), and time_us is not used. Default unset (time_us decides). Range (0, 1).
  std::optional<double> transient_tolerance;
  // Independent reads per estimate; their spread is the error bar, with repeats - 1 degrees of
  // freedom. Default 4 (3 dof: 95% interval +- 3.18 stderr); range [2, 1000]. 2 is what a
  // standard error needs and what training loops that use only the mean run; the t factor for
  // 1 dof is 12.7, so take 4 or more when the error bar matters.
  int repeats = 4;
  // Start each estimate from the previous one (TNGD's warm start) instead of from g. Default off.
  bool warm_start = false;
  // Device time the board keeps relaxing under the previous step's curvature and gradient before
  // the new ones take over (only once there is a previous step). Default 0. Range [0, 65536].
  double upload_delay_us = 0.0;
  // Part of the ADC half-range that the larger of |x0| and the bound ||g|| / lambda_min may use.
  // Default 0.5; range (0, 1).
  double mean_fraction = 0.5;
  // Noise standard deviations (of the widest cell) that fit between that bound and the rail.
  // The board computes with noise; more sigmas mean less of it. Default 50 (a stationary
  // deviation of about 1% of full scale, the paper's "kappa0 < 0.01 barely mattered").
  double noise_sigmas = 50.0;
  // Jacobi preconditioning (preconditioning.hpp): the board relaxes under S (F + lambda I) S
  // with S = diag(F + lambda I)^-1/2 instead, from S^-1 x0 with input S g, and the result is
  // mapped back through S. The end points are unchanged (g at t = 0, the natural gradient at
  // large t) but the path between them differs from plain TNGD. It helps when the curvature's
  // scales differ across parameters: a 16-bit coupling DAC resolves only about 1e4 between the
  // largest and the smallest entries, so badly scaled curvatures lose their flat directions to
  // quantization. Default kAuto: Jacobi only when the compiler predicts it at least halves a
  // quantization error above 1e-3 (so well-scaled curvatures keep the plain TNGD path).
  Preconditioning preconditioning = Preconditioning::kAuto;
  // Round the codes afresh, randomly and unbiased, for every repeat (error mitigation: the
  // repeats then average the rounding error out instead of sharing one systematic error).
  // Default on. Off: every repeat uses round-to-nearest codes.
  bool randomized_rounding = true;
  // Relaxation of the load step, in sample periods. Default 16 (e^-32 of the old state at
  // a_load = 2/us).
  int load_relaxation_samples = 16;
  // Seed of the randomized rounding. Default 1.
  std::uint64_t rounding_seed = 1;
  // Relative tolerance of the symmetry checks of F and of H, max|F_ij - F_ji| <= tol * max|F|,
  // the same for every job (system_checks.hpp; kelvin: --symmetry-tolerance); within it the
  // symmetric part (F + F^T) / 2 is used. Default 1e-10; range [0, 1e-4].
  double symmetry_tolerance = kDefaultSymmetryTolerance;
  // Total deadline of one estimate. Default 60 s.
  std::chrono::milliseconds timeout = std::chrono::seconds(60);
  // Which calibration corrects the read-out (calibration/board_calibration.hpp). Default: the
  // board's file in the calibration directory if there is one, else none. The estimator reads
  // the file at its first estimate and again only when the file changes (a new inode, size or
  // modification time, as every recalibration gives; calibration/calibration_cache.hpp): each
  // later estimate costs one stat(), and a file replaced between steps applies from the next.
  runtime::calibration::CalibrationSelection calibration;

  // Throws common::Error(kInvalidArgument) naming the first bad field.
  void validate() const;
};

struct NaturalGradientSummary : JobSummary {
  std::size_t unknowns = 0;  // N, the gradient's entries
  // "parameter space" (the board holds all N unknowns) or "row space" (N above the cells: the
  // board holds F's row space, see the top of this file).
  std::string method = "parameter space";
  std::size_t board_unknowns = 0;  // unknowns programmed on the board: N, or r in row space
  // Row space only: the rank r of F kept (eigenvalues of H above 1e-12 of the largest), and the
  // part of the start left in the complement, exp(-lambda tau) (the complement is exact).
  std::optional<std::size_t> curvature_rank;
  std::optional<double> complement_remaining_transient;
  double damping = 0.0;
  // NaturalGradientOptions::time_us, or none when transient_tolerance chose the time.
  std::optional<double> time_us_given;
  std::optional<double> transient_tolerance_given;  // NaturalGradientOptions::transient_tolerance
  double time_us = 0.0;  // analog time actually run (whole sample periods)
  double sample_period_us = 0.0;
  double upload_delay_us_given = 0.0;
  double upload_delay_us = 0.0;  // run (0 on the first step: no previous one to delay)
  bool warm_start_given = false;
  bool warm_start = false;  // used (not on the first step, nor after reset())
  // Preconditioning as given ("auto", "jacobi", "none") and used ("jacobi" or "none").
  std::string preconditioning_given = "auto";
  std::string preconditioning_used = "none";
  bool jacobi = false;          // the choice actually made (see preconditioning)
  std::string preconditioning;  // why (the compiler's reason, with its predicted errors)
  // Predicted relative error of the answer from round-to-nearest codes alone, as programmed.
  double predicted_quantization_error = 0.0;
  bool randomized_rounding = true;
  // A_dev [1/us] = coupling_scale * (F + lambda I), or * S (F + lambda I) S with Jacobi.
  double coupling_scale = 0.0;
  double state_scale = 0.0;  // user units per volt
  std::uint32_t noise_code = 0;
  // Of F + lambda I as programmed (the rounded codes; S (F + lambda I) S with Jacobi), user units.
  double lambda_min = 0.0;
  double lambda_max = 0.0;
  // exp(-lambda_min,dev * t): the part of the start (x0 - NGD) still left in the slowest mode.
  // 1 means SGD-like, 0 fully natural.
  double remaining_transient = 1.0;
  // The largest transient_bound_i (see the top of this file), in user units: how far the mean of
  // the estimate can be from the natural gradient because of the transient.
  double transient_bound = 0.0;
  double matrix_quantization_error = 0.0;
  int repeats = 0;
  int degrees_of_freedom = 0;  // repeats - 1, of every standard error
  double t95 = 0.0;            // Student-t 97.5% quantile: 95% interval = +- t95 * stderr
  std::uint64_t samples = 0;   // ADC sample periods run, loads included
  std::uint64_t clipped_samples = 0;

  ReportFields fields() const;
  std::string brief_report() const;
  std::string full_report() const;
};

struct NaturalGradientResult {
  Eigen::VectorXd estimate;  // of (F + lambda I)^-1 g at time t: the mean of repeat_estimates
  // Per component, from the repeats (summary.degrees_of_freedom). Does not include the transient
  // (summary.transient_bound) or quantization biases.
  Eigen::VectorXd standard_error;
  // The repeats' own estimates (summary.repeats of them), in user units.
  std::vector<Eigen::VectorXd> repeat_estimates;
  NaturalGradientSummary summary;
};

class NaturalGradientEstimator {
 public:
  // The board must outlive the estimator. Throws common::Error(kInvalidArgument) for bad options.
  NaturalGradientEstimator(driver::ResonatorBoard& board, NaturalGradientOptions options = {});

  // With a dense curvature F (N x N, symmetric positive semidefinite; N <= the board's cells).
  // Throws common::Error: kInvalidArgument for bad sizes, non-finite values, an asymmetric F or
  // F + lambda I not positive definite (the message names the defect); kNotSupported when N
  // exceeds the cells or the quantized matrix is indefinite; kInvalidArgument also for a nonzero
  // time_us or upload_delay_us below half the board's sample period (before the board runs);
  // board errors as they come.
  NaturalGradientResult estimate(const Eigen::VectorXd& g, const Eigen::MatrixXd& F);
  // With GGN factors: F = J^T H J, J (m x N), H (m x m, symmetric positive semidefinite). With
  // N <= cells, F is formed here and estimated as above. With N above the cells, the row-space
  // path (top of this file) when F's rank r fits the board; kNotSupported when it does not (fewer
  // rows in J, or block_solve(board, DampedGgn(J, H, lambda), g) from block_solve.hpp for the
  // natural gradient itself without the analog-time interpolation), kInvalidArgument for an H
  // with a negative eigenvalue beyond rounding or a zero damping with r < N.
  NaturalGradientResult estimate(const Eigen::VectorXd& g, const Eigen::MatrixXd& J,
                                 const Eigen::MatrixXd& H);

  // The next estimate starts at x0 = start (once) instead of at g or the previous estimate: what
  // resuming a warm-started training run needs (previous_estimate() is what to save). Its size
  // must match that estimate's gradient (else kInvalidArgument from estimate()).
  void set_start(Eigen::VectorXd start);
  // The previous step's estimate (what warm start starts from), if any.
  const std::optional<Eigen::VectorXd>& previous_estimate() const noexcept {
    return previous_estimate_;
  }
  // Forgets the previous step (the next estimate starts from g even with warm_start).
  void reset() noexcept;
  const NaturalGradientOptions& options() const noexcept { return options_; }

 private:
  // The row-space path (natural_gradient_row_space.cpp): J, H already checked, N > cells.
  NaturalGradientResult estimate_row_space(const Eigen::VectorXd& g, const Eigen::MatrixXd& J,
                                           const Eigen::MatrixXd& H);

  driver::ResonatorBoard& board_;
  NaturalGradientOptions options_;
  std::uint64_t rng_state_;
  // The previous step, for warm start and upload delay.
  std::optional<Eigen::VectorXd> previous_estimate_;
  std::optional<Eigen::VectorXd> start_;  // set_start(), for the next estimate only
  std::optional<ProgrammedSystem> previous_codes_;
  std::uint32_t previous_noise_code_ = 0;
  // The calibration last read (shared with the row-space path's inner estimator).
  std::shared_ptr<calibration::CalibrationCache> calibrations_ =
      std::make_shared<calibration::CalibrationCache>();
};

// TNGD as an optimizer step: theta <- theta - eta * u, with u the natural-gradient estimate
// (kTngd) or, for kTngdAdam, the estimate fed through Adam with beta1 = beta2 = 0, that is
// u_i = g~_i / (|g~_i| + epsilon) (the variant that won on DistilBERT in the paper).
enum class TngdMode { kTngd, kTngdAdam };

Eigen::VectorXd tngd_update(const Eigen::VectorXd& estimate, TngdMode mode, double learning_rate,
                            double epsilon = 1e-8);

}  // namespace kelvin::runtime
