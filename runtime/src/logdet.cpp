#include "kelvin/runtime/logdet.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <vector>

#include <fmt/format.h>
#include <Eigen/Cholesky>

#include "board_job.hpp"
#include "kelvin/common/error.hpp"
#include "kelvin/common/logging.hpp"
#include "kelvin/runtime/logdet_estimators.hpp"
#include "kelvin/runtime/problem_compiler.hpp"
#include "logdet_ramp.hpp"
#include "option_checks.hpp"

namespace kelvin::runtime {

using common::Error;
using common::ErrorKind;
using detail::Ramp;
using detail::TrajectoryCounters;
using detail::TrajectoryPlan;

const char* to_string(RampStart start) noexcept {
  return start == RampStart::kDiagonal ? "diagonal" : "scaled-identity";
}

const char* to_string(LogdetEstimator estimator) noexcept {
  return estimator == LogdetEstimator::kJarzynskiForward ? "jarzynski-forward" : "bennett";
}

void LogdetOptions::validate() const {
  const detail::OptionChecks check("LogdetOptions");
  check.in_range("steps", steps, 1, 100000);
  check.in_interval("step_relaxation_times", step_relaxation_times, 0.0, 10000.0, true);
  check.in_range("trajectories", trajectories, 8, 1000000);
  check.in_interval("equilibration_relaxation_times", equilibration_relaxation_times, 1.0, 100000.0,
                    false);
  check.in_interval("noise_sigmas", noise_sigmas, 0.0, 1000.0, true);
  if (estimator == LogdetEstimator::kBennett && randomized_rounding) {
    check.fail(
        "randomized_rounding = true with estimator = bennett (the forward and reverse ramps "
        "must share their end points; use nearest rounding)");
  }
  detail::check_symmetry_tolerance(check, symmetry_tolerance);
  check.timeout(timeout);
  calibration.validate();
}

LogdetResult logdet(driver::ResonatorBoard& board, const Eigen::MatrixXd& A,
                    const LogdetOptions& options) {
  options.validate();
  detail::BoardJob job(board, options.timeout);
  job.apply_calibration(options.calibration);
  const Eigen::Index n = A.rows();
  const auto& desc = board.description();
  // b = 0: no mean to make room for (mean_fraction is only required to be positive), so the
  // noise gets the whole ADC half-range.
  ProblemOptions compile;
  compile.targets = {1e-6, options.noise_sigmas};
  compile.preconditioning = Preconditioning::kNone;
  compile.symmetry_tolerance = options.symmetry_tolerance;
  compile.capacitive = CapacitivePolicy::kRefuse;
  compile.capacitive_reason =
      "sign doubling does not help a log-determinant (the doubled matrix has det(A) det(A'), A' "
      "being A with its positive off-diagonals negated)";
  const CompiledProblem problem = compile_problem(A, Eigen::VectorXd::Zero(n), desc, compile);
  const CompiledSystem& sys = problem.codes;
  const common::Deadline deadline = job.deadline();
  board.program_biases(sys.nearest.bias_codes, deadline);
  board.set_noise(sys.noise_code, deadline);
  if (desc.has_capability(driver::capability::kQuartic)) {
    // The board keeps J4 from earlier jobs; the Gaussian law needs linear cells.
    board.set_quartic(std::vector<std::uint16_t>(desc.cells, 0), deadline);
  }

  const double relaxation_us = 1.0 / sys.device_lambda_min;  // slowest along the whole ramp
  TrajectoryPlan plan;
  plan.n = static_cast<std::uint32_t>(n);
  plan.equilibration = job.periods_for(options.equilibration_relaxation_times, relaxation_us);
  plan.relaxation = job.periods_for(options.step_relaxation_times, relaxation_us);
  plan.max_decimation = desc.has_capability(driver::capability::kDecimation) && desc.resonator
                            ? desc.resonator->max_decimation
                            : 1;
  plan.diffusion = sys.diffusion;
  plan.coupling = desc.coupling;

  const auto lsb = desc.coupling.lsb;
  const bool near_floor = sys.device_lambda_min < 4.0 * static_cast<double>(n) * lsb;
  const Ramp nearest_ramp(sys.nearest.couplings, n, options.start, options.steps);
  if (near_floor)
    nearest_ramp.check_definite(desc.coupling);

  const int m = options.trajectories;
  TrajectoryCounters counters;
  Eigen::VectorXd forward(m);
  Eigen::VectorXd shifted(m);
  double start_logdet_sum = 0.0;
  std::uint64_t rng = options.rounding_seed;
  const auto check_deadline = [&](int done, const char* direction) {
    if (deadline.expired()) {
      throw Error(ErrorKind::kTimeout,
                  fmt::format("logdet: the deadline ({} ms) passed after {} of {} {} trajectories",
                              options.timeout.count(), done, m, direction));
    }
  };
  for (int t = 0; t < m; ++t) {
    check_deadline(t, "forward");
    double start_logdet = 0.0;
    if (options.randomized_rounding) {
      const Ramp ramp(round_randomly(sys, n, desc, rng).couplings, n, options.start, options.steps);
      if (near_floor)
        ramp.check_definite(desc.coupling);
      forward(t) = run_trajectory(job, ramp, options.steps, false, plan, counters);
      start_logdet = ramp.start_logdet(desc.coupling);
    } else {
      forward(t) = run_trajectory(job, nearest_ramp, options.steps, false, plan, counters);
      start_logdet = nearest_ramp.start_logdet(desc.coupling);
    }
    shifted(t) = forward(t) + 0.5 * start_logdet;
    start_logdet_sum += start_logdet;
  }
  const double start_logdet_dev = start_logdet_sum / m;
  const double to_user = static_cast<double>(n) * std::log(sys.coupling_scale);

  LogdetResult out;
  out.quantized_matrix = sys.nearest.matrix;
  out.forward_work = forward;
  LogdetSummary& s = out.summary;
  // <exp(-shifted)> = det(A_K)^-1/2: log det A_K is twice the free-energy estimate.
  const JarzynskiEstimate j = jarzynski(shifted);
  const double logdet_dev = 2.0 * j.delta_f;
  s.jarzynski_logdet = logdet_dev - to_user;
  s.jarzynski_stderr = 2.0 * j.standard_error;
  s.bias_estimate = 2.0 * j.bias;
  s.effective_trajectories = j.effective;
  if (j.tail) {
    s.tail_shape = j.tail->shape;
    s.tail_shape_stderr = j.tail->shape_stderr;
    s.tail_trajectories = j.tail->count;
  }
  s.mean_work = forward.mean();
  s.work_stddev = std::sqrt((forward.array() - s.mean_work).square().sum() / (m - 1.0));
  const double delta_f = 0.5 * (logdet_dev - start_logdet_dev);
  s.dissipated_work = s.mean_work - delta_f;
  out.logdet = s.jarzynski_logdet;
  out.standard_error = s.jarzynski_stderr;

  if (options.estimator == LogdetEstimator::kBennett) {
    Eigen::VectorXd reverse(m);
    for (int t = 0; t < m; ++t) {
      check_deadline(t, "reverse");
      reverse(t) = run_trajectory(job, nearest_ramp, options.steps, true, plan, counters);
    }
    const BennettEstimate bar = bennett(forward, reverse);
    s.has_reverse = true;
    s.bennett_logdet = start_logdet_dev + 2.0 * bar.delta_f - to_user;
    s.bennett_stderr = 2.0 * bar.standard_error;
    s.reverse_dissipated_work = reverse.mean() + bar.delta_f;
    out.reverse_work = std::move(reverse);
    out.logdet = s.bennett_logdet;
    out.standard_error = s.bennett_stderr;
  }

  s.unknowns = static_cast<std::size_t>(n);
  s.estimator = to_string(options.estimator);
  s.start = to_string(options.start);
  detail::record_scaling(sys, s);
  s.randomized_rounding = options.randomized_rounding;
  s.start_logdet = start_logdet_dev - to_user;
  s.steps = options.steps;
  s.step_samples = plan.relaxation;
  s.equilibration_samples = plan.equilibration;
  s.trajectories = m;
  s.samples = job.samples();
  s.clipped_reads = counters.clipped_reads;
  {
    const double nd = static_cast<double>(n);
    // Host: the quadratic form per switch (~n^2 multiply-adds) and, per ramp, its start
    // determinant; GPU: one Cholesky, n^3 / 3.
    const double per_ramp = options.randomized_rounding ? static_cast<double>(m) : 1.0;
    job.finish(s,
               2.0 * nd * nd * static_cast<double>(counters.switches) +
                   per_ramp * nd * nd * (options.steps + 1.0),
               nd * nd * nd / 3.0);
  }

  const auto log = common::logger("kelvin.runtime");
  if (s.dissipated_work > 1.0) {
    s.warnings.push_back(fmt::format(
        "the ramp dissipates {:.3g} kT on average (> 1): the Jarzynski estimate is likely biased "
        "high (the rare low-work trajectories that dominate exp(-W) are undersampled) and its "
        "error bar too small; use more steps (now {}) or longer relaxation per step",
        s.dissipated_work, options.steps));
  }
  // Bennett's weights are bounded (Fermi functions): only the forward estimate has the tail.
  if (options.estimator == LogdetEstimator::kJarzynskiForward && j.tail &&
      j.tail->shape > kInfiniteVarianceShape) {
    s.warnings.push_back(fmt::format(
        "the weights exp(-W) have a heavy tail (Pareto shape k = {:.2f} +- {:.2f} over the {} "
        "largest; above {} their variance is infinite): the error bar is not a standard error, "
        "and the estimate is typically high by more than bias_estimate (the rare low-work "
        "trajectories that carry the average are mostly missing); use several times more "
        "steps (now {}) or the Bennett estimator over both ramps (--bennett), whose error bar "
        "holds on short ramps",
        j.tail->shape, j.tail->shape_stderr, j.tail->count, kInfiniteVarianceShape, options.steps));
  } else if (options.estimator == LogdetEstimator::kJarzynskiForward && !j.tail &&
             s.work_stddev > 0.0) {
    s.warnings.push_back(fmt::format(
        "{} trajectories are too few to fit the tail of exp(-W) (at least {}), so nothing checks "
        "that the error bar is a standard error; use more trajectories",
        m, kMinTailTrajectories));
  }
  if (s.clipped_reads > 0) {
    s.warnings.push_back(fmt::format(
        "{} state reads clipped at the ADC rails, which biases the work; raise noise_sigmas",
        s.clipped_reads));
  }
  for (const std::string& w : s.warnings)
    log->warn("logdet: {}", w);
  log->info("logdet: {}", s.brief_report());
  return out;
}

}  // namespace kelvin::runtime
