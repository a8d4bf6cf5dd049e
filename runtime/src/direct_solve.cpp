#include "direct_solve.hpp"

#include <cmath>
#include <utility>

#include <fmt/format.h>
#include <Eigen/Cholesky>
#include <Eigen/Eigenvalues>

#include "kelvin/common/logging.hpp"

namespace kelvin::runtime::detail {
namespace {

constexpr int kDirectBatches = 20;
constexpr double kDirectBatchRelaxationTimes = 100.0;

// Upper bound on the fraction of samples in which some cell clips from noise alone, when every
// cell's mean is at most mean_bound and noise_sigmas sigma fit before the rail.
double expected_clip_fraction(Eigen::Index cells, double noise_sigmas) {
  return static_cast<double>(cells) * std::erfc(noise_sigmas / std::sqrt(2.0));
}

driver::RunRequest run_of(std::uint64_t samples, bool reset_state) {
  driver::RunRequest request;
  request.samples = samples;
  request.reset_state = reset_state;
  return request;
}

// Step 2b: pilot runs measure how much of the ADC range the solution uses; while it is less
// than half of the target, b is scaled up (within the bias DAC) and the cells burn in again.
// Returns the total gain.
double auto_range(BoardJob& job, CompiledSystem& sys, const Eigen::VectorXd& b,
                  double mean_fraction, const SolveOptions& options, std::uint64_t burn_in) {
  const auto& desc = job.description();
  const double relaxation_us = 1.0 / sys.device_lambda_min;
  const double mean_bound = mean_fraction * desc.adc.symmetric_limit();
  const double sigma_max = std::sqrt(sys.diffusion / sys.device_lambda_min);
  // 3 standard errors of a pilot mean (autocorrelation time 1/lambda_min) as the margin.
  const double margin = 3.0 * sigma_max * std::sqrt(2.0 / options.pilot_relaxation_times);
  const double initial_scale = sys.state_scale;
  for (int round = 0; round < options.auto_range_rounds; ++round) {
    const auto pilot =
        job.run(run_of(job.periods_for(options.pilot_relaxation_times, relaxation_us), false));
    const double used = job.mean_volts(pilot, b.size()).cwiseAbs().maxCoeff() + margin;
    if (used >= 0.5 * mean_bound)
      break;
    const double before = sys.state_scale;
    rescale_rhs(sys, b, desc, sys.state_scale * used / mean_bound);
    if (sys.state_scale >= before)
      break;  // the bias DAC allows no more gain
    job.board().program_biases(sys.nearest.bias_codes, job.deadline());
    job.run(run_of(burn_in, false));  // relax from the old equilibrium to the new one
    common::logger("kelvin.runtime")
        ->debug("auto-range round {}: solution used {:.3f} V of {:.3f} V; gain now {:.3g}", round,
                used, mean_bound, initial_scale / sys.state_scale);
  }
  return initial_scale / sys.state_scale;
}

}  // namespace

Acquisition direct_acquisition(const SolveOptions& options) {
  return {options.batches.value_or(kDirectBatches),
          options.batch_relaxation_times.value_or(kDirectBatchRelaxationTimes),
          options.auto_range.value_or(true)};
}

double relative_residual(const Eigen::MatrixXd& A, const Eigen::VectorXd& b,
                         const Eigen::VectorXd& x) {
  const double norm = b.norm();
  return norm > 0.0 ? (b - A * x).norm() / norm : (A * x).norm();
}

SolveResult run_direct_solve(BoardJob& job, CompiledProblem problem, const SolveOptions& options,
                             const Acquisition& acquisition) {
  auto log = common::logger("kelvin.runtime");
  const auto& desc = job.description();
  // The board's system: S M S y = S c (M = A or its sign-doubled version), in user units.
  const Eigen::MatrixXd& A = problem.matrix;
  const Eigen::VectorXd& b = problem.rhs;
  const Eigen::Index n = A.rows();

  SolveResult out;
  SolveSummary& sum = out.summary;
  sum.method = "direct";
  sum.unknowns = static_cast<std::size_t>(problem.unknowns);
  sum.sign_doubled = problem.sign_doubled;
  sum.batches = acquisition.batches;
  sum.batch_relaxation_times = acquisition.batch_relaxation_times;
  sum.auto_range = acquisition.auto_range;
  sum.mean_fraction_given = options.mean_fraction;

  ScalingTargets targets{options.mean_fraction, options.noise_sigmas};
  std::uint64_t rounding_state = options.rounding_seed;
  std::uint64_t averaged = 0;
  const std::uint64_t samples_before = job.samples();

  for (int attempt = 0;; ++attempt) {
    if (attempt > 0)
      recompile(problem, desc, targets);
    CompiledSystem& sys = problem.codes;
    job.program(sys.nearest, sys.noise_code);
    const double relaxation_us = 1.0 / sys.device_lambda_min;

    // Burn-in from x = 0: the transient decays as exp(-t lambda_min).
    const auto burn_in = job.periods_for(options.burn_in_relaxation_times, relaxation_us);
    job.run(run_of(burn_in, /*reset_state=*/true));

    sum.range_gain = 1.0;
    if (acquisition.auto_range && b.norm() > 0.0)
      sum.range_gain = auto_range(job, sys, b, targets.mean_fraction, options, burn_in);
    const std::uint64_t pre_average = job.samples();

    // Averaging: batch means give the standard error, autocorrelation included.
    const auto batch = job.periods_for(acquisition.batch_relaxation_times, relaxation_us);
    const int batches = acquisition.batches;
    Eigen::MatrixXd batch_means(n, batches);
    Eigen::MatrixXd mean_matrix = Eigen::MatrixXd::Zero(n, n);  // programmed, batch-averaged
    Eigen::VectorXd mean_rhs = Eigen::VectorXd::Zero(n);
    std::uint64_t clipped = 0;
    for (int k = 0; k < batches; ++k) {
      if (options.randomized_rounding) {
        const auto draw = round_randomly(sys, n, desc, rounding_state);
        job.board().program_couplings(draw.couplings, job.deadline());
        job.board().program_biases(draw.bias_codes, job.deadline());
        mean_matrix += draw.matrix / batches;
        mean_rhs += draw.rhs / batches;
      } else {
        mean_matrix += sys.nearest.matrix / batches;
        mean_rhs += sys.nearest.rhs / batches;
      }
      const auto result = job.run(run_of(batch, false));
      clipped += result.clipped_samples;
      batch_means.col(k) = job.mean_volts(result, n) * sys.state_scale;
    }
    averaged = job.samples() - pre_average;

    const double clip_fraction = static_cast<double>(clipped) / static_cast<double>(averaged);
    const double clip_limit =
        10.0 * expected_clip_fraction(desc.cells, targets.noise_sigmas) + 1e-4;
    if (clip_fraction > clip_limit && attempt < options.max_range_retries) {
      log->warn("ADC clipped in {:.3g}% of samples (limit {:.3g}%); narrowing the range",
                100 * clip_fraction, 100 * clip_limit);
      targets.mean_fraction *= 0.5;
      ++sum.range_retries;
      continue;
    }
    if (clip_fraction > clip_limit) {
      sum.warnings.push_back(fmt::format(
          "the ADC still clipped in {:.3g}% of samples after {} range retries; the estimate may "
          "be biased",
          100 * clip_fraction, sum.range_retries));
      log->warn("{}", sum.warnings.back());
    }

    const Eigen::VectorXd y = batch_means.rowwise().mean();
    const Eigen::MatrixXd centered = batch_means.colwise() - y;
    const double k = batches;
    const Eigen::VectorXd y_stderr = (centered.rowwise().squaredNorm() / (k - 1.0) / k).cwiseSqrt();
    out.x = problem.to_user(y);
    out.standard_error = problem.to_user(y_stderr);

    record_scaling(sys, sum);
    sum.bias_quantization_error = sys.bias_quantization_error;
    // Systematic shift from quantization, first order: A dx = (b_q - b) - (A_q - A) x.
    const Eigen::VectorXd residual = (mean_rhs - b) - (mean_matrix - A) * y;
    const double y_norm = y.norm();
    sum.quantization_shift = y_norm > 0.0 ? A.llt().solve(residual).norm() / y_norm : 0.0;
    sum.clipped_samples = clipped;
    break;
  }
  if (problem.preconditioning.jacobi) {
    // The spectrum reported is the system's own (the programmed S M S is better conditioned).
    const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(problem.system_matrix,
                                                             Eigen::EigenvaluesOnly);
    sum.lambda_min = eig.eigenvalues()(0);
    sum.lambda_max = eig.eigenvalues()(n - 1);
  }
  sum.condition_number = sum.lambda_max / sum.lambda_min;
  sum.mean_fraction_used = targets.mean_fraction;
  sum.randomized_rounding = options.randomized_rounding;
  sum.preconditioning_given = to_string(problem.preconditioning_given);
  sum.preconditioning_used = problem.preconditioning.jacobi ? "jacobi" : "none";
  sum.jacobi = problem.preconditioning.jacobi;
  sum.preconditioning = problem.preconditioning.reason;
  sum.predicted_quantization_error = problem.preconditioning.predicted_error();
  if (auto w = quantization_warning(problem.preconditioning); !w.empty())
    sum.warnings.push_back(std::move(w));
  sum.samples = averaged;
  sum.burn_in_samples = job.samples() - samples_before - averaged;
  return out;
}

}  // namespace kelvin::runtime::detail
