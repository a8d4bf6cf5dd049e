#include "kelvin/runtime/inverse.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

#include <fmt/format.h>

#include "board_job.hpp"
#include "kelvin/common/error.hpp"
#include "kelvin/common/logging.hpp"
#include "kelvin/runtime/problem_compiler.hpp"
#include "option_checks.hpp"

namespace kelvin::runtime {

using common::Error;
using common::ErrorKind;

void InverseOptions::validate() const {
  const detail::OptionChecks check("InverseOptions");
  check.in_range("batches", batches, 4, 100000);
  check.positive("batch_relaxation_times", batch_relaxation_times);
  check.at_least("burn_in_relaxation_times", burn_in_relaxation_times, 0.0);
  check.positive("noise_sigmas", noise_sigmas);
  detail::check_symmetry_tolerance(check, symmetry_tolerance);
  check.timeout(timeout);
}

InverseResult inverse(driver::ResonatorBoard& board, const Eigen::MatrixXd& A,
                      const InverseOptions& options) {
  options.validate();
  detail::BoardJob job(board, options.timeout);
  const Eigen::Index n = A.rows();
  const auto& desc = board.description();
  // b = 0: the whole ADC half-range holds noise_sigmas deviations of the widest cell.
  ProblemOptions compile;
  compile.targets = {0.5, options.noise_sigmas};
  compile.preconditioning = Preconditioning::kNone;
  compile.symmetry_tolerance = options.symmetry_tolerance;
  compile.capacitive = CapacitivePolicy::kRefuse;
  compile.capacitive_reason =
      "the inverse of the sign-doubled system is not A^-1, so inverse() does not use the "
      "doubling that solve() does";
  const CompiledProblem problem = compile_problem(A, Eigen::VectorXd::Zero(n), desc, compile);
  if (!desc.has_capability(driver::capability::kSecondMoments))
    throw Error(ErrorKind::kNotSupported, "this board cannot accumulate second moments");
  const CompiledSystem& sys = problem.codes;
  job.program(sys.nearest, sys.noise_code);
  const double relaxation_us = 1.0 / sys.device_lambda_min;

  driver::RunRequest request;
  request.samples = job.periods_for(options.burn_in_relaxation_times, relaxation_us);
  request.reset_state = true;
  job.run(request);
  const std::uint64_t burn_in = job.samples();

  // Per batch: sums and product sums in codes; estimates are formed once the global mean is
  // known.
  request.samples = job.periods_for(options.batch_relaxation_times, relaxation_us);
  request.reset_state = false;
  request.accumulate_products = true;
  std::vector<driver::RunResult> runs;
  std::uint64_t rng = options.rounding_seed;
  std::uint64_t clipped = 0;
  for (int k = 0; k < options.batches; ++k) {
    if (options.randomized_rounding) {
      const auto draw = round_randomly(sys, n, desc, rng);
      board.program_couplings(draw.couplings, job.deadline());
    }
    runs.push_back(job.run(request));
    clipped += runs.back().clipped_samples;
  }

  Eigen::VectorXd mean_codes = Eigen::VectorXd::Zero(n);
  double count = 0.0;
  for (const auto& r : runs) {
    for (Eigen::Index i = 0; i < n; ++i)
      mean_codes(i) += static_cast<double>(r.sums[static_cast<std::size_t>(i)]);
    count += static_cast<double>(r.sample_count);
  }
  mean_codes /= count;

  const double lsb = desc.adc.lsb;
  const double to_inverse = sys.coupling_scale / sys.diffusion * lsb * lsb;  // per code^2
  std::vector<Eigen::MatrixXd> estimates;
  for (const auto& r : runs) {
    const double m = static_cast<double>(r.sample_count);
    Eigen::MatrixXd cov(n, n);
    for (Eigen::Index i = 0; i < n; ++i) {
      for (Eigen::Index j = i; j < n; ++j) {
        const auto ui = static_cast<std::uint32_t>(i);
        const auto uj = static_cast<std::uint32_t>(j);
        // E[(x_i - mu_i)(x_j - mu_j)] about the pooled mean mu.
        const double c = static_cast<double>(r.product_sum(ui, uj)) / m -
                         mean_codes(i) * static_cast<double>(r.sums[uj]) / m -
                         mean_codes(j) * static_cast<double>(r.sums[ui]) / m +
                         mean_codes(i) * mean_codes(j);
        cov(i, j) = cov(j, i) = c;
      }
      cov(i, i) -= 1.0 / 12.0;  // the ADC's rounding variance, in codes^2
    }
    estimates.push_back(to_inverse * cov);
  }

  InverseResult out;
  const double b = options.batches;
  out.inverse = Eigen::MatrixXd::Zero(n, n);
  for (const auto& e : estimates)
    out.inverse += e / b;
  Eigen::MatrixXd var = Eigen::MatrixXd::Zero(n, n);
  for (const auto& e : estimates)
    var += (e - out.inverse).cwiseAbs2() / (b - 1.0);
  out.standard_error = (var / b).cwiseSqrt();

  InverseSummary& sum = out.summary;
  sum.unknowns = static_cast<std::size_t>(n);
  detail::record_scaling(sys, sum);
  sum.randomized_rounding = options.randomized_rounding;
  sum.batches = options.batches;
  sum.samples = job.samples() - burn_in;
  sum.burn_in_samples = burn_in;
  sum.clipped_samples = clipped;
  if (clipped > 0) {
    sum.warnings.push_back(
        fmt::format("{} samples clipped at the ADC rails; the estimate is biased", clipped));
    common::logger("kelvin.runtime")->warn("inverse: {}", sum.warnings.back());
  }
  const double nd = static_cast<double>(n);
  job.finish(sum, 2.0 * nd * nd * nd + 4.0 * nd * nd * options.batches, nd * nd * nd);
  common::logger("kelvin.runtime")->info("inverse: {}", sum.brief_report());
  return out;
}

ReportFields InverseSummary::fields() const {
  const auto per_batch = batches > 0 ? samples / static_cast<std::uint64_t>(batches) : 0;
  return with_job_fields({
      field("unknowns", "unknowns", unknowns),
      field("lambda_min", "smallest eigenvalue", lambda_min, "", "of A, as programmed"),
      field("lambda_max", "largest eigenvalue", lambda_max, "", "of A, as programmed"),
      field("coupling_scale", "coupling scale", coupling_scale, "1/us per unit of A"),
      field("noise_code", "noise code", noise_code),
      field("diffusion", "noise D", diffusion, "V^2/us"),
      field("matrix_quantization_error", "matrix quantization", matrix_quantization_error, "",
            "relative, Frobenius", 3),
      field("randomized_rounding", "randomized rounding", randomized_rounding),
      field("batches", "batches", batches, "", fmt::format("of {} samples", per_batch)),
      field("samples", "averaged samples", samples),
      field("burn_in_samples", "burn-in samples", burn_in_samples),
      field("clipped_samples", "clipped samples", clipped_samples),
  });
}

std::string InverseSummary::brief_report() const {
  return fmt::format(
             "n={} on {}: {} x {} samples, {:.3g} ms device time, spectrum [{:.3g}, {:.3g}], {} "
             "clipped",
             unknowns, serial, batches,
             batches > 0 ? samples / static_cast<std::uint64_t>(batches) : 0, device_time_s * 1e3,
             lambda_min, lambda_max, clipped_samples) +
         warnings_suffix();
}

std::string InverseSummary::full_report() const {
  return render_report("Inverse summary", fields());
}

}  // namespace kelvin::runtime
