#include "kelvin/runtime/natural_gradient.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>
#include <utility>

#include <fmt/format.h>

#include "board_job.hpp"
#include "kelvin/common/error.hpp"
#include "kelvin/common/logging.hpp"
#include "kelvin/runtime/problem_compiler.hpp"
#include "kelvin/runtime/system_checks.hpp"
#include "natural_gradient_error_bars.hpp"
#include "option_checks.hpp"

namespace kelvin::runtime {

using common::Error;
using common::ErrorKind;

namespace {

using detail::kMaxAnalogTimeUs;

// One run of `periods` sample periods that reads only its last ADC sample (decimation), in
// device volts for the first n cells.
Eigen::VectorXd run_and_read(detail::BoardJob& job, std::uint32_t periods, Eigen::Index n,
                             std::uint64_t& clipped) {
  driver::RunRequest request;
  request.samples = 1;
  request.decimation = periods;
  request.record_samples = true;
  const auto result = job.run(request);
  clipped += result.clipped_samples;
  Eigen::VectorXd x(n);
  for (Eigen::Index i = 0; i < n; ++i)
    x(i) = job.volts(static_cast<std::uint32_t>(i),
                     static_cast<double>(result.samples[static_cast<std::size_t>(i)]));
  return x;
}

// Loads x0_dev [V] into the first cells: every cell relaxes, noise off, under a_load I with
// bias a_load x0 (spare cells to 0). Returns the state read back.
Eigen::VectorXd load_state(detail::BoardJob& job, const Eigen::VectorXd& x0_dev,
                           std::uint32_t load_periods, std::uint64_t& clipped) {
  const driver::DeviceDescription& d = job.description();
  const std::uint32_t cells = d.cells;
  const double a_load = d.coupling.symmetric_limit();
  driver::SymmetricCodes diag(cells);
  const auto load_code = static_cast<std::int16_t>(d.coupling.to_code(a_load));
  for (std::uint32_t i = 0; i < cells; ++i)
    diag.set(i, i, load_code);
  std::vector<std::int16_t> bias(cells, 0);
  const double b_max = d.bias.symmetric_limit();
  for (Eigen::Index i = 0; i < x0_dev.size(); ++i) {
    const double b = std::clamp(a_load * x0_dev(i), -b_max, b_max);
    bias[static_cast<std::size_t>(i)] = static_cast<std::int16_t>(d.bias.to_code(b));
  }
  ProgrammedSystem load;
  load.couplings = diag;
  load.bias_codes = bias;
  job.program(load, 0);
  return run_and_read(job, load_periods, x0_dev.size(), clipped);
}

}  // namespace

void NaturalGradientOptions::validate() const {
  const detail::OptionChecks check("NaturalGradientOptions");
  check.at_least("damping", damping, 0.0);
  check.in_interval("time_us", time_us, 0.0, kMaxAnalogTimeUs, false);
  if (transient_tolerance && !(*transient_tolerance > 0.0 && *transient_tolerance < 1.0))
    check.fail(fmt::format("transient_tolerance = {} (allowed (0, 1))", *transient_tolerance));
  check.in_range("repeats", repeats, 2, 1000);
  check.in_interval("upload_delay_us", upload_delay_us, 0.0, kMaxAnalogTimeUs, false);
  if (!(mean_fraction > 0.0 && mean_fraction < 1.0))
    check.fail(fmt::format("mean_fraction = {} (allowed (0, 1))", mean_fraction));
  check.positive("noise_sigmas", noise_sigmas);
  check.in_range("load_relaxation_samples", load_relaxation_samples, 1, 65536);
  detail::check_symmetry_tolerance(check, symmetry_tolerance);
  check.timeout(timeout);
  calibration.validate();
}

NaturalGradientEstimator::NaturalGradientEstimator(driver::ResonatorBoard& board,
                                                   NaturalGradientOptions options)
    : board_(board), options_(options), rng_state_(options.rounding_seed) {
  options_.validate();
}

void NaturalGradientEstimator::reset() noexcept {
  previous_estimate_.reset();
  previous_codes_.reset();
  start_.reset();
}

void NaturalGradientEstimator::set_start(Eigen::VectorXd start) {
  start_ = std::move(start);
}

NaturalGradientResult NaturalGradientEstimator::estimate(const Eigen::VectorXd& g,
                                                         const Eigen::MatrixXd& J,
                                                         const Eigen::MatrixXd& H) {
  if (J.cols() != g.size() || H.rows() != J.rows() || H.cols() != J.rows()) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("GGN factors do not fit: g has {} entries, J is {}x{} (needs {} "
                            "columns), H is {}x{} (needs {}x{})",
                            g.size(), J.rows(), J.cols(), g.size(), H.rows(), H.cols(), J.rows(),
                            J.rows()));
  }
  if (!J.allFinite() || !H.allFinite())
    throw Error(ErrorKind::kInvalidArgument, "J or H has a non-finite entry");
  check_symmetric(H, options_.symmetry_tolerance, "H", "H");
  if (g.size() > static_cast<Eigen::Index>(board_.cells()))
    return estimate_row_space(g, J, H);
  const Eigen::MatrixXd f = J.transpose() * (0.5 * (H + H.transpose())) * J;
  return estimate(g, Eigen::MatrixXd(0.5 * (f + f.transpose())));
}

NaturalGradientResult NaturalGradientEstimator::estimate(const Eigen::VectorXd& g,
                                                         const Eigen::MatrixXd& F) {
  detail::BoardJob job(board_, options_.timeout);
  job.apply_calibration(calibrations_->resolve(options_.calibration, board_.description()));
  const Eigen::Index n = g.size();
  if (F.rows() != n || F.cols() != n) {
    throw Error(
        ErrorKind::kInvalidArgument,
        fmt::format("curvature is {}x{} for a gradient of {} entries", F.rows(), F.cols(), n));
  }
  // Within the tolerance F is taken as its symmetric part (non-finite entries are named by the
  // compiler's checks).
  if (F.allFinite())
    check_symmetric(F, options_.symmetry_tolerance, "F", "the curvature F");
  const Eigen::MatrixXd a =
      0.5 * (F + F.transpose()) + options_.damping * Eigen::MatrixXd::Identity(n, n);
  const auto& desc = board_.description();
  // Times that round to no sample period are refused before anything runs.
  const double period_us = job.sample_period_us();
  if (!options_.transient_tolerance)
    detail::whole_periods(options_.time_us, period_us, "time_us");
  const std::uint32_t delay_periods =
      detail::whole_periods(options_.upload_delay_us, period_us, "upload_delay_us");
  // Jacobi preconditioning works in the coordinates y = S^-1 x: the board sees S A S, S g and
  // S^-1 x0. Without it S = I.
  ProblemOptions compile;
  compile.targets = {options_.mean_fraction, options_.noise_sigmas};
  compile.preconditioning = options_.preconditioning;
  compile.symmetry_tolerance = options_.symmetry_tolerance;
  compile.capacitive = CapacitivePolicy::kRefuse;
  compile.capacitive_reason =
      "sign doubling would change the relaxation path between SGD and NGD, so the natural "
      "gradient does not use it";
  CompiledProblem problem = compile_problem(a, g, desc, compile);
  const PreconditioningChoice& choice = problem.preconditioning;
  const Eigen::VectorXd& s_diag = choice.scale;
  // The start: set_start()'s (once), else the previous estimate with warm start, else g.
  std::optional<Eigen::VectorXd> given_start = std::exchange(start_, std::nullopt);
  if (given_start && given_start->size() != n) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("the start set by set_start() has {} entries for a gradient of {}",
                            given_start->size(), n));
  }
  if (given_start && !given_start->allFinite())
    throw Error(ErrorKind::kInvalidArgument, "the start set by set_start() has a non-finite entry");
  const bool warm = given_start.has_value() ||
                    (options_.warm_start && previous_estimate_ && previous_estimate_->size() == n);
  const Eigen::VectorXd x0 = (given_start ? *given_start
                              : warm      ? *previous_estimate_
                                          : g)
                                 .cwiseQuotient(s_diag);

  // The compiled system, with the state scale widened if x0 would not fit the range.
  CompiledSystem& sys = problem.codes;
  const double x0_scale =
      x0.cwiseAbs().maxCoeff() / (options_.mean_fraction * desc.adc.symmetric_limit());
  if (x0_scale > sys.state_scale)
    rescale_rhs(sys, problem.rhs, desc, x0_scale);
  const double s = sys.state_scale;

  const detail::AnalogTime analog =
      detail::choose_analog_time(options_, sys.device_lambda_min, period_us);
  const std::uint32_t t_periods = analog.periods;
  const bool delayed = previous_codes_ && delay_periods > 0;  // none without a previous step
  const auto load_periods = static_cast<std::uint32_t>(options_.load_relaxation_samples);

  std::uint64_t clipped = 0;
  double start_norm = 0.0;  // the largest ||y0|| (board coordinates, user units)
  std::vector<Eigen::VectorXd> reads;
  ProgrammedSystem last_codes;
  for (int r = 0; r < options_.repeats; ++r) {
    Eigen::VectorXd x = load_state(job, x0 / s, load_periods, clipped);
    if (delayed) {
      job.program(*previous_codes_, previous_noise_code_);
      x = run_and_read(job, delay_periods, n, clipped);
    }
    start_norm = std::max(start_norm, s * x.norm());
    last_codes =
        options_.randomized_rounding ? round_randomly(sys, n, desc, rng_state_) : sys.nearest;
    job.program(last_codes, sys.noise_code);
    if (t_periods > 0)
      x = run_and_read(job, t_periods, n, clipped);
    reads.push_back(s * s_diag.cwiseProduct(x));
  }

  NaturalGradientResult out;
  out.estimate = Eigen::VectorXd::Zero(n);
  for (const auto& x : reads)
    out.estimate += x / static_cast<double>(reads.size());
  Eigen::VectorXd var = Eigen::VectorXd::Zero(n);
  for (const auto& x : reads)
    var += (x - out.estimate).cwiseAbs2() / static_cast<double>(reads.size() - 1);
  out.standard_error = (var / static_cast<double>(reads.size())).cwiseSqrt();
  out.repeat_estimates = reads;

  previous_estimate_ = out.estimate;
  previous_codes_ = last_codes;
  previous_noise_code_ = sys.noise_code;

  NaturalGradientSummary& sum = out.summary;
  sum.unknowns = static_cast<std::size_t>(n);
  sum.board_unknowns = static_cast<std::size_t>(n);
  sum.damping = options_.damping;
  if (!options_.transient_tolerance)
    sum.time_us_given = options_.time_us;
  sum.transient_tolerance_given = options_.transient_tolerance;
  sum.time_us = t_periods * period_us;
  sum.sample_period_us = period_us;
  sum.upload_delay_us_given = options_.upload_delay_us;
  sum.upload_delay_us = delayed ? delay_periods * period_us : 0.0;
  sum.warm_start_given = options_.warm_start;
  sum.warm_start = warm;
  detail::record_scaling(sys, sum);  // state_scale: s, after the x0 widening
  sum.preconditioning_given = to_string(options_.preconditioning);
  sum.preconditioning_used = choice.jacobi ? "jacobi" : "none";
  sum.jacobi = choice.jacobi;
  sum.preconditioning = choice.reason;
  sum.predicted_quantization_error = choice.predicted_error();
  sum.randomized_rounding = options_.randomized_rounding;
  sum.remaining_transient = std::exp(-sys.device_lambda_min * sum.time_us);
  sum.repeats = options_.repeats;
  sum.samples = job.samples();
  sum.clipped_samples = clipped;
  sum.warnings = analog.warnings;
  if (auto w = quantization_warning(choice); !w.empty())
    sum.warnings.push_back(std::move(w));
  if (delayed) {
    for (auto& w : detail::rounding_warning("upload delay", options_.upload_delay_us,
                                            sum.upload_delay_us, period_us))
      sum.warnings.push_back(std::move(w));
  }
  detail::assess_error_bars(sum, out.standard_error, s_diag, start_norm, problem.rhs.norm());
  const double nd = static_cast<double>(n);
  job.finish(sum, flops::dense_job_host(nd, sum.repeats), flops::cholesky_solve(nd));
  if (const auto log = common::logger("kelvin.runtime"); log->should_log(spdlog::level::debug))
    log->debug("natural gradient: {}", sum.brief_report());
  return out;
}

Eigen::VectorXd tngd_update(const Eigen::VectorXd& estimate, TngdMode mode, double learning_rate,
                            double epsilon) {
  if (mode == TngdMode::kTngd)
    return -learning_rate * estimate;
  // Adam with beta1 = beta2 = 0: m = g~, v = g~^2, step = m / (sqrt(v) + eps).
  return -learning_rate * estimate.array() / (estimate.array().abs() + epsilon);
}

}  // namespace kelvin::runtime
