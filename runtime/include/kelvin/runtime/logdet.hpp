// Log-determinant of a symmetric positive definite matrix on a resonator board, by Jarzynski's
// equality over a coupling ramp (Aifer et al., "Thermodynamic linear algebra", arXiv 2308.05660).
//
// Physics. With b = 0 the overdamped board samples x ~ N(0, D A_dev^-1): Boltzmann with energy
// E(x) = x^T A_dev x / 2 at temperature D, partition function Z(A) ~ det(A_dev)^-1/2. Ramp the
// couplings A_0 -> A_1 -> ... -> A_K = A in K switches. A trajectory starts in equilibrium under
// A_0; at each switch k-1 -> k it picks up the work
//     W += x^T (A_k - A_{k-1}) x / (2 D)          (dimensionless, x the state at the switch)
// and then relaxes under A_k for tau. Jarzynski: <exp(-W)> = Z_K / Z_0 = sqrt(det A_0 / det A_K),
// however fast the ramp, so
//     log det A_K = log det A_0 - 2 log <exp(-W)>.
// A_0 is diag(A) by default (its determinant is a product, and the ramp only has to switch the
// couplings on, which dissipates less than starting from a multiple of the identity).
//
// What logdet() does: validates A (as solve() does), compiles it into the coupling DAC with
// b = 0 and the noise so that noise_sigmas deviations of the widest cell fill the ADC half-range
// (problem_scaling.hpp), builds the ramp in code space (C_k = C_0 + round(k/K (C_K - C_0)), so
// the end point is exactly the programmed matrix), and runs `trajectories` trajectories: program
// C_0, equilibrate, read x; then per switch add the work at the read state, program C_k, relax
// tau (one run, one decimated ADC sample, decimation = tau) and read x. The board keeps its
// state across runs and coupling updates, so the trajectory continues through each switch.
// The work uses the REALIZED matrices (the codes) and the REALIZED D (the noise code).
//
// What quantization does to the answer: with round-to-nearest codes (the default) the result
// is the log-determinant of the quantized matrix A_q = codes * lsb / coupling_scale, exactly in
// expectation; summary.matrix_quantization_error reports ||A - A_q||_F / ||A||_F, and the
// difference log det A_q - log det A is about tr(A^-1 (A_q - A)), at most n * that error *
// cond(A) and in practice far below the statistical error. With randomized rounding every
// trajectory runs its own unbiased rounding A_m and the estimator targets
// -2 log E_m[det(A_m)^-1/2], which equals log det A up to second order in the rounding error.
//
// Error bars. The forward estimate's standard error and bias estimate are the jackknife's over
// trajectories (logdet_estimators.hpp), doubled for log det; the estimator -2 log(mean e^-W) is
// biased upwards. Both are honest only while the weights e^-W have a finite variance, which a
// short ramp on an ill-conditioned matrix does not give: the work is a quadratic form, so the
// weights have a power-law tail with Pareto shape k, and for k > 1/2 the estimate converges
// slower than 1/sqrt(M), sits high by more than bias_estimate and scatters over seeds more
// than its error bar says in most runs. summary.tail_shape reports k (fitted to the largest
// weights) and the summary warns above 1/2, suggesting more steps or kBennett; the mean
// dissipated work <W> - Delta F is reported and warned about above 1 kT (it does not see the
// tail: 0.4 kT ramps reach k = 0.68). With estimator kBennett the reverse ramp (A_K -> A_0,
// equilibrated under A_K) also runs and Bennett's acceptance ratio combines both directions:
// its weights are bounded, and its error bar held over seeds at k up to 0.84 with 4.5-8x less
// spread than the forward estimate. summary.estimator names the estimator that produced `logdet`.
//
// Noise, timing and imperfections: D cancels in the answer (W is dimensionless); the noise only
// has to keep the reads away from the ADC rails. Reads that clip bias the work and are counted.
// The board must be ideal: per-cell gain, capacitance or noise mismatch (imperfections=typical)
// breaks the Boltzmann form and biases the answer until calibration exists.
//
// Thread contract: logdet() uses the board exclusively for its duration; do not run other board
// calls on the same board concurrently. Different boards are independent.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include <Eigen/Core>

#include "kelvin/driver/resonator/resonator_board.hpp"
#include "kelvin/runtime/calibration/board_calibration.hpp"
#include "kelvin/runtime/job_summary.hpp"
#include "kelvin/runtime/problem_compiler.hpp"

namespace kelvin::runtime {

// Where the ramp starts.
enum class RampStart {
  kDiagonal,        // A_0 = diag(A): only the couplings are switched on (default)
  kScaledIdentity,  // A_0 = c I, c the mean diagonal entry (rounded to a code)
};
const char* to_string(RampStart start) noexcept;  // "diagonal", "scaled-identity"

enum class LogdetEstimator {
  kJarzynskiForward,  // forward ramp only, Jarzynski's equality (default)
  kBennett,           // forward and reverse ramps, Bennett's acceptance ratio
};
const char* to_string(LogdetEstimator estimator) noexcept;  // "jarzynski-forward", "bennett"

struct LogdetOptions {
  // Switches K of the ramp. More steps approach the quasi-static limit: the dissipated work
  // falls roughly as 1/K. Default 20; range [1, 100000].
  int steps = 20;
  // Relaxation tau after each switch, in relaxation times 1 / lambda_min of the programmed
  // matrix (rounded up to whole sample periods, at least one). Default 1; range (0, 10000].
  double step_relaxation_times = 1.0;
  // Trajectories per direction; the error bar falls as 1 / sqrt(trajectories) while the tail of
  // exp(-W) is light (below 46 the tail cannot be fitted, and the forward estimator warns).
  // Default 1000; range [8, 1000000].
  int trajectories = 1000;
  // Equilibration before each trajectory, in the same relaxation times: the previous
  // trajectory's end state relaxes to the start matrix's equilibrium; the covariance error left
  // is about exp(-2 x this). Default 10; range [1, 100000].
  double equilibration_relaxation_times = 10.0;
  // Noise standard deviations of the widest cell that fit in the ADC half-range. D cancels in
  // the work, so a wide margin costs only ADC resolution. Default 6 (clipping odds ~2e-9 per
  // cell read); range (0, 1000].
  double noise_sigmas = 6.0;
  RampStart start = RampStart::kDiagonal;
  LogdetEstimator estimator = LogdetEstimator::kJarzynskiForward;
  // A fresh unbiased random rounding of A (and so of the whole ramp) per trajectory. Default
  // off: the answer is then the log det of the nearest-code matrix. Not with kBennett, whose
  // two directions must share end points.
  bool randomized_rounding = false;
  // Seed of the randomized rounding. Default 1.
  std::uint64_t rounding_seed = 1;
  // Relative tolerance of the symmetry check, max|A_ij - A_ji| <= tol * max|A|, the same for
  // every job (system_checks.hpp; kelvin: --symmetry-tolerance). Default 1e-10; range [0, 1e-4].
  double symmetry_tolerance = kDefaultSymmetryTolerance;
  // Total deadline of the job. Default 120 s.
  std::chrono::milliseconds timeout = std::chrono::seconds(120);
  // Which calibration corrects the read-out (calibration/board_calibration.hpp). Default: the
  // board's file in the calibration directory if there is one, else none.
  runtime::calibration::CalibrationSelection calibration;

  // Throws common::Error(kInvalidArgument) naming the first bad field.
  void validate() const;
};

struct LogdetSummary : JobSummary {
  std::size_t unknowns = 0;
  std::string estimator;        // the estimator that produced LogdetResult::logdet
  std::string start;            // the ramp's start matrix
  double coupling_scale = 0.0;  // A_dev [1/us] = coupling_scale * A
  double diffusion = 0.0;       // D programmed [V^2/us]
  std::uint32_t noise_code = 0;
  double lambda_min = 0.0;  // of A (from the programmed codes)
  double lambda_max = 0.0;
  double matrix_quantization_error = 0.0;  // ||A - A_q||_F / ||A||_F
  bool randomized_rounding = false;
  double start_logdet = 0.0;  // log det A_0 in user units (mean over trajectories)

  int steps = 0;
  std::uint64_t step_samples = 0;  // tau in sample periods
  std::uint64_t equilibration_samples = 0;
  int trajectories = 0;  // per direction

  // Forward Jarzynski, always computed.
  double jarzynski_logdet = 0.0;
  double jarzynski_stderr = 0.0;        // jackknife over trajectories
  double mean_work = 0.0;               // <W>, forward, in units of D (kT)
  double work_stddev = 0.0;             // of W over trajectories
  double dissipated_work = 0.0;         // <W> - Delta F, Delta F from the estimate
  double bias_estimate = 0.0;           // jackknife estimate of the Jarzynski log det's bias
  double effective_trajectories = 0.0;  // (sum e^-W)^2 / sum e^-2W
  // Pareto shape k of the largest weights e^-W and its standard error (logdet_estimators.hpp):
  // above 1/2 their variance is infinite and the Jarzynski error bar is not a standard error.
  // Empty below 46 trajectories or when every work is equal.
  std::optional<double> tail_shape;
  std::optional<double> tail_shape_stderr;
  int tail_trajectories = 0;  // the largest weights fitted
  // Reverse ramp and Bennett's acceptance ratio (estimator kBennett only).
  bool has_reverse = false;
  double reverse_dissipated_work = 0.0;  // <W_r> + Delta F
  double bennett_logdet = 0.0;
  double bennett_stderr = 0.0;

  std::uint64_t samples = 0;        // ADC sample periods run, equilibration included
  std::uint64_t clipped_reads = 0;  // state reads during which a cell hit the ADC rails
  // warnings (JobSummary) names dissipation above 1 kT, a forward tail shape above 1/2 (or too
  // few trajectories to fit it) and clipped reads.

  ReportFields fields() const;
  std::string brief_report() const;
  std::string full_report() const;
};

struct LogdetResult {
  double logdet = 0.0;  // of A (user units), by summary.estimator
  double standard_error = 0.0;
  // The matrix the codes realize (nearest rounding), in user units: the answer's exact target
  // when randomized_rounding is off.
  Eigen::MatrixXd quantized_matrix;
  Eigen::VectorXd forward_work;  // W per trajectory, in units of D
  Eigen::VectorXd reverse_work;  // empty unless kBennett
  LogdetSummary summary;
};

// Throws common::Error: kInvalidArgument for bad input naming the defect (empty, non-square,
// non-finite entries, asymmetric, not positive definite) or bad options; kNotSupported for more
// unknowns than cells, a matrix that quantization makes indefinite, a board without decimation,
// or positive off-diagonals on a capacitive board; board errors (kTimeout at the deadline).
LogdetResult logdet(driver::ResonatorBoard& board, const Eigen::MatrixXd& A,
                    const LogdetOptions& options = {});

}  // namespace kelvin::runtime
