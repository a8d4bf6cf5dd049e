#include "kelvin/runtime/solve.hpp"

#include <chrono>
#include <cmath>

#include <fmt/format.h>
#include <Eigen/Cholesky>
#include <Eigen/Eigenvalues>

#include "kelvin/common/error.hpp"
#include "kelvin/common/logging.hpp"
#include "kelvin/runtime/problem_scaling.hpp"
#include "kelvin/runtime/sign_doubling.hpp"
#include "kelvin/runtime/system_checks.hpp"

namespace kelvin::runtime {

using common::Deadline;
using common::Error;
using common::ErrorKind;

namespace {

// Runs `samples` samples, splitting into several board runs if one run cannot hold them.
struct Acquisition {
  driver::ResonatorBoard& board;
  Deadline deadline;
  std::uint64_t samples_taken = 0;

  driver::RunResult run(std::uint64_t samples, bool reset_state) {
    driver::RunRequest request;
    request.samples = samples;
    request.reset_state = reset_state;
    auto result = board.run(request, deadline);
    samples_taken += result.sample_count;
    return result;
  }
};

std::uint64_t samples_for(double relaxation_times, double relaxation_time_us, double period_us) {
  const double samples = std::ceil(relaxation_times * relaxation_time_us / period_us);
  return static_cast<std::uint64_t>(std::max(samples, 1.0));
}

// Mean of each used cell over one run, in device volts.
Eigen::VectorXd run_mean_volts(const driver::RunResult& result, Eigen::Index n) {
  Eigen::VectorXd mean(n);
  for (Eigen::Index i = 0; i < n; ++i)
    mean(i) = result.mean_physical(static_cast<std::uint32_t>(i));
  return mean;
}

// Upper bound on the fraction of samples in which some cell clips from noise alone, when every
// cell's mean is at most mean_bound and noise_sigmas sigma fit before the rail.
double expected_clip_fraction(Eigen::Index cells, double noise_sigmas) {
  return static_cast<double>(cells) * std::erfc(noise_sigmas / std::sqrt(2.0));
}

void program(driver::ResonatorBoard& board, const CompiledSystem& sys, Deadline deadline) {
  board.program_couplings(sys.nearest.couplings, deadline);
  board.program_biases(sys.nearest.bias_codes, deadline);
  board.set_noise(sys.noise_code, deadline);
}

// Step 3b: pilot runs measure how much of the ADC range the solution uses; while it is less
// than half of the target, b is scaled up (within the bias DAC) and the cells burn in again.
// Returns the total gain.
double auto_range(driver::ResonatorBoard& board, CompiledSystem& sys, const Eigen::VectorXd& b,
                  double mean_fraction, const SolveOptions& options, Acquisition& acq,
                  std::uint64_t burn_in) {
  const auto& desc = board.description();
  const double period_us = desc.sample_period_s() * 1e6;
  const double relaxation_us = 1.0 / sys.device_lambda_min;
  const double half_range = std::min(std::abs(desc.adc.min_value()), desc.adc.max_value());
  const double mean_bound = mean_fraction * half_range;
  const double sigma_max = std::sqrt(sys.diffusion / sys.device_lambda_min);
  // 3 standard errors of a pilot mean (autocorrelation time 1/lambda_min) as the margin.
  const double margin = 3.0 * sigma_max * std::sqrt(2.0 / options.pilot_relaxation_times);
  const double initial_scale = sys.state_scale;
  for (int round = 0; round < options.auto_range_rounds; ++round) {
    const auto pilot =
        acq.run(samples_for(options.pilot_relaxation_times, relaxation_us, period_us), false);
    const double used = run_mean_volts(pilot, b.size()).cwiseAbs().maxCoeff() + margin;
    if (used >= 0.5 * mean_bound)
      break;
    const double before = sys.state_scale;
    rescale_rhs(sys, b, desc, sys.state_scale * used / mean_bound);
    if (sys.state_scale >= before)
      break;  // the bias DAC allows no more gain
    board.program_biases(sys.nearest.bias_codes, acq.deadline);
    acq.run(burn_in, false);  // relax from the old equilibrium to the new one
    common::logger("kelvin.runtime")
        ->debug("auto-range round {}: solution used {:.3f} V of {:.3f} V; gain now {:.3g}", round,
                used, mean_bound, initial_scale / sys.state_scale);
  }
  return initial_scale / sys.state_scale;
}

}  // namespace

void SolveOptions::validate() const {
  auto fail = [](const std::string& what) {
    throw Error(ErrorKind::kInvalidArgument, "SolveOptions: " + what);
  };
  if (batches < 4 || batches > 100000)
    fail(fmt::format("batches = {} (allowed 4..100000)", batches));
  if (!(batch_relaxation_times >= 1.0))
    fail(fmt::format("batch_relaxation_times = {} (>= 1)", batch_relaxation_times));
  if (!(burn_in_relaxation_times >= 0.0))
    fail(fmt::format("burn_in_relaxation_times = {} (>= 0)", burn_in_relaxation_times));
  if (!(pilot_relaxation_times >= 1.0))
    fail(fmt::format("pilot_relaxation_times = {} (>= 1)", pilot_relaxation_times));
  if (!(mean_fraction > 0.0 && mean_fraction < 1.0))
    fail(fmt::format("mean_fraction = {} (0..1)", mean_fraction));
  if (!(noise_sigmas > 0.0))
    fail(fmt::format("noise_sigmas = {} (> 0)", noise_sigmas));
  if (!(symmetry_tolerance >= 0.0))
    fail(fmt::format("symmetry_tolerance = {} (>= 0)", symmetry_tolerance));
  if (auto_range_rounds < 1 || auto_range_rounds > 10)
    fail(fmt::format("auto_range_rounds = {} (allowed 1..10)", auto_range_rounds));
  if (max_range_retries < 0)
    fail(fmt::format("max_range_retries = {} (>= 0)", max_range_retries));
  if (timeout.count() <= 0)
    fail(fmt::format("timeout = {} ms (> 0)", timeout.count()));
}

SolveResult solve(driver::ResonatorBoard& board, const Eigen::MatrixXd& A, const Eigen::VectorXd& b,
                  const SolveOptions& options) {
  const auto wall_start = std::chrono::steady_clock::now();
  const BoardSnapshot energy_start = BoardSnapshot::of(board);
  options.validate();
  check_symmetric_system(A, b, options.symmetry_tolerance);
  check_positive_definite(A);
  const auto deadline = Deadline::after(options.timeout);
  const auto& desc = board.description();
  const Eigen::Index n = A.rows();
  if (desc.resonator && desc.resonator->coupling_kind == driver::CouplingKind::kCapacitive &&
      has_positive_off_diagonal(A)) {
    // A capacitive board needs the 2N sign-doubled system; u = first half of its solution.
    if (2 * n > static_cast<Eigen::Index>(desc.cells)) {
      throw Error(ErrorKind::kNotSupported,
                  fmt::format("A has positive off-diagonal entries, which a capacitive board "
                              "realizes only by sign doubling into {} cells; this board has {}",
                              2 * n, desc.cells));
    }
    const DoubledSystem doubled = sign_double(A, b);
    SolveOptions inner = options;
    inner.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline.when() - std::chrono::steady_clock::now());
    if (inner.timeout.count() <= 0)
      throw Error(ErrorKind::kTimeout, "solve deadline passed before the board was used");
    SolveResult doubled_result = solve(board, doubled.matrix, doubled.rhs, inner);
    SolveResult out;
    out.x = doubled_result.x.head(n);
    out.standard_error = doubled_result.standard_error.head(n);
    out.summary = doubled_result.summary;
    out.summary.unknowns = static_cast<std::size_t>(n);
    out.summary.sign_doubled = true;
    out.summary.wall_time_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
    return out;
  }
  auto log = common::logger("kelvin.runtime");

  const PreconditioningChoice choice = choose_preconditioning(
      A, b, desc, {options.mean_fraction, options.noise_sigmas}, options.preconditioning);
  if (choice.jacobi) {
    // The board solves S A S y = S b; x = S y, and the error bars scale the same way.
    const Eigen::VectorXd& s = choice.scale;
    SolveOptions inner = options;
    inner.preconditioning = Preconditioning::kNone;
    inner.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline.when() - std::chrono::steady_clock::now());
    if (inner.timeout.count() <= 0)
      throw Error(ErrorKind::kTimeout, "solve deadline passed before the board was used");
    SolveResult scaled = solve(board, Eigen::MatrixXd(s.asDiagonal() * A * s.asDiagonal()),
                               s.cwiseProduct(b), inner);
    scaled.x = s.cwiseProduct(scaled.x);
    scaled.standard_error = s.cwiseProduct(scaled.standard_error);
    scaled.summary.jacobi = true;
    scaled.summary.preconditioning = choice.reason;
    scaled.summary.predicted_quantization_error = choice.predicted_error_jacobi;
    // The spectrum reported is A's own (the programmed S A S is better conditioned).
    const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(A, Eigen::EigenvaluesOnly);
    scaled.summary.lambda_min = eig.eigenvalues()(0);
    scaled.summary.lambda_max = eig.eigenvalues()(n - 1);
    scaled.summary.condition_number = scaled.summary.lambda_max / scaled.summary.lambda_min;
    scaled.summary.wall_time_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
    return scaled;
  }

  SolveResult out;
  SolveSummary& sum = out.summary;
  sum.serial = desc.serial;
  sum.cells = desc.cells;
  sum.unknowns = static_cast<std::size_t>(n);
  sum.batches = options.batches;

  const double period_us = desc.sample_period_s() * 1e6;
  ScalingTargets targets{options.mean_fraction, options.noise_sigmas};
  std::uint64_t total_samples = 0;
  std::uint64_t rounding_state = options.rounding_seed;

  for (int attempt = 0;; ++attempt) {
    CompiledSystem sys = compile_system(A, b, desc, targets);
    program(board, sys, deadline);
    const double relaxation_us = 1.0 / sys.device_lambda_min;
    Acquisition acq{board, deadline};

    // Burn-in from x = 0: the transient decays as exp(-t lambda_min).
    const auto burn_in = samples_for(options.burn_in_relaxation_times, relaxation_us, period_us);
    acq.run(burn_in, /*reset_state=*/true);

    sum.range_gain = 1.0;
    if (options.auto_range && b.norm() > 0.0) {
      sum.range_gain = auto_range(board, sys, b, targets.mean_fraction, options, acq, burn_in);
    }
    const std::uint64_t pre_average = acq.samples_taken;

    // Averaging: batch means give the standard error, autocorrelation included.
    const auto batch = samples_for(options.batch_relaxation_times, relaxation_us, period_us);
    Eigen::MatrixXd batch_means(n, options.batches);
    Eigen::MatrixXd mean_matrix = Eigen::MatrixXd::Zero(n, n);  // programmed, batch-averaged
    Eigen::VectorXd mean_rhs = Eigen::VectorXd::Zero(n);
    std::uint64_t clipped = 0;
    for (int k = 0; k < options.batches; ++k) {
      if (options.randomized_rounding) {
        const auto draw = round_randomly(sys, n, desc, rounding_state);
        board.program_couplings(draw.couplings, deadline);
        board.program_biases(draw.bias_codes, deadline);
        mean_matrix += draw.matrix / options.batches;
        mean_rhs += draw.rhs / options.batches;
      } else {
        mean_matrix += sys.nearest.matrix / options.batches;
        mean_rhs += sys.nearest.rhs / options.batches;
      }
      const auto result = acq.run(batch, false);
      clipped += result.clipped_samples;
      batch_means.col(k) = run_mean_volts(result, n) * sys.state_scale;
    }
    total_samples += acq.samples_taken;
    const std::uint64_t averaged = acq.samples_taken - pre_average;

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
      log->warn(
          "ADC still clipped in {:.3g}% of samples after {} retries; the estimate may be biased",
          100 * clip_fraction, sum.range_retries);
    }

    out.x = batch_means.rowwise().mean();
    const Eigen::MatrixXd centered = batch_means.colwise() - out.x;
    const double k = options.batches;
    out.standard_error = (centered.rowwise().squaredNorm() / (k - 1.0) / k).cwiseSqrt();

    sum.coupling_scale = sys.coupling_scale;
    sum.state_scale = sys.state_scale;
    sum.noise_code = sys.noise_code;
    sum.diffusion = sys.diffusion;
    sum.lambda_min = sys.device_lambda_min / sys.coupling_scale;
    sum.lambda_max = sys.device_lambda_max / sys.coupling_scale;
    sum.condition_number = sum.lambda_max / sum.lambda_min;
    sum.matrix_quantization_error = sys.matrix_quantization_error;
    sum.bias_quantization_error = sys.bias_quantization_error;
    // Systematic shift from quantization, first order: A dx = (b_q - b) - (A_q - A) x.
    const Eigen::VectorXd residual = (mean_rhs - b) - (mean_matrix - A) * out.x;
    const double x_norm = out.x.norm();
    sum.quantization_shift = x_norm > 0.0 ? A.llt().solve(residual).norm() / x_norm : 0.0;
    sum.randomized_rounding = options.randomized_rounding;
    sum.preconditioning = choice.reason;
    sum.predicted_quantization_error = choice.predicted_error_plain;
    sum.samples = averaged;
    sum.burn_in_samples = total_samples - averaged;
    sum.clipped_samples = clipped;
    break;
  }
  sum.device_time_s = static_cast<double>(total_samples) * desc.sample_period_s();
  {
    // Host: the PD check and the quantization-shift Cholesky (n^3/3 each), the spectrum for the
    // scaling (about 4n^3/3), and O(n^2) per batch. GPU: one Cholesky solve.
    const double nd = static_cast<double>(n);
    const double host = 2.0 * nd * nd * nd + 10.0 * nd * nd * options.batches;
    sum.energy = ledger_since(board, energy_start, host, nd * nd * nd / 3.0 + 2.0 * nd * nd);
  }
  sum.wall_time_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  log->info("solve: {}", sum.brief_report());
  return out;
}

}  // namespace kelvin::runtime
