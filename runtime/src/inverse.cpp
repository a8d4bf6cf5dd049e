#include "kelvin/runtime/inverse.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

#include <fmt/format.h>

#include "kelvin/common/error.hpp"
#include "kelvin/common/logging.hpp"
#include "kelvin/runtime/problem_scaling.hpp"
#include "kelvin/runtime/system_checks.hpp"

namespace kelvin::runtime {

using common::Deadline;
using common::Error;
using common::ErrorKind;

namespace {

std::uint64_t periods_for(double relaxation_times, double relaxation_us, double period_us) {
  return static_cast<std::uint64_t>(
      std::max(1.0, std::ceil(relaxation_times * relaxation_us / period_us)));
}

}  // namespace

void InverseOptions::validate() const {
  const auto fail = [](const std::string& what) {
    throw Error(ErrorKind::kInvalidArgument, "InverseOptions: " + what);
  };
  if (batches < 4 || batches > 100000)
    fail(fmt::format("batches = {} (allowed 4..100000)", batches));
  if (!(batch_relaxation_times > 0.0) || !std::isfinite(batch_relaxation_times))
    fail(fmt::format("batch_relaxation_times = {} (> 0)", batch_relaxation_times));
  if (!(burn_in_relaxation_times >= 0.0) || !std::isfinite(burn_in_relaxation_times))
    fail(fmt::format("burn_in_relaxation_times = {} (>= 0)", burn_in_relaxation_times));
  if (!(noise_sigmas > 0.0) || !std::isfinite(noise_sigmas))
    fail(fmt::format("noise_sigmas = {} (> 0)", noise_sigmas));
  if (timeout.count() <= 0)
    fail(fmt::format("timeout = {} ms (> 0)", timeout.count()));
}

InverseResult inverse(driver::ResonatorBoard& board, const Eigen::MatrixXd& A,
                      const InverseOptions& options) {
  const auto wall_start = std::chrono::steady_clock::now();
  const BoardSnapshot energy_start = BoardSnapshot::of(board);
  options.validate();
  const Eigen::Index n = A.rows();
  const Eigen::VectorXd zero = Eigen::VectorXd::Zero(n);
  check_symmetric_system(A, zero, 1e-10);
  check_positive_definite(A);
  const auto& desc = board.description();
  if (desc.resonator && desc.resonator->coupling_kind == driver::CouplingKind::kCapacitive)
    check_capacitive_realizable(A);
  if (!desc.has_capability(driver::capability::kSecondMoments))
    throw Error(ErrorKind::kNotSupported, "this board cannot accumulate second moments");
  const Deadline deadline = Deadline::after(options.timeout);

  // b = 0: the whole ADC half-range holds noise_sigmas deviations of the widest cell.
  const CompiledSystem sys = compile_system(A, zero, desc, {0.5, options.noise_sigmas});
  board.program_couplings(sys.nearest.couplings, deadline);
  board.program_biases(sys.nearest.bias_codes, deadline);
  board.set_noise(sys.noise_code, deadline);
  const double period_us = desc.sample_period_s() * 1e6;
  const double relaxation_us = 1.0 / sys.device_lambda_min;

  driver::RunRequest request;
  request.samples = periods_for(options.burn_in_relaxation_times, relaxation_us, period_us);
  request.reset_state = true;
  std::uint64_t total = board.run(request, deadline).sample_count;
  const std::uint64_t burn_in = total;

  // Per batch: sums and product sums in codes; estimates are formed once the global mean is
  // known.
  request.samples = periods_for(options.batch_relaxation_times, relaxation_us, period_us);
  request.reset_state = false;
  request.accumulate_products = true;
  std::vector<driver::RunResult> runs;
  std::uint64_t rng = options.rounding_seed;
  std::uint64_t clipped = 0;
  for (int k = 0; k < options.batches; ++k) {
    if (options.randomized_rounding) {
      const auto draw = round_randomly(sys, n, desc, rng);
      board.program_couplings(draw.couplings, deadline);
    }
    runs.push_back(board.run(request, deadline));
    total += runs.back().sample_count;
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
  sum.serial = desc.serial;
  sum.unknowns = static_cast<std::size_t>(n);
  sum.coupling_scale = sys.coupling_scale;
  sum.diffusion = sys.diffusion;
  sum.noise_code = sys.noise_code;
  sum.lambda_min = sys.device_lambda_min / sys.coupling_scale;
  sum.lambda_max = sys.device_lambda_max / sys.coupling_scale;
  sum.matrix_quantization_error = sys.matrix_quantization_error;
  sum.batches = options.batches;
  sum.samples = total - burn_in;
  sum.burn_in_samples = burn_in;
  sum.device_time_s = static_cast<double>(total) * desc.sample_period_s();
  sum.clipped_samples = clipped;
  sum.wall_time_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  {
    const double nd = static_cast<double>(n);
    sum.energy = ledger_since(board, energy_start,
                              2.0 * nd * nd * nd + 4.0 * nd * nd * options.batches, nd * nd * nd);
  }
  if (clipped > 0)
    common::logger("kelvin.runtime")
        ->warn("inverse: {} samples clipped; the estimate is biased", clipped);
  common::logger("kelvin.runtime")->info("inverse: {}", sum.brief_report());
  return out;
}

std::string InverseSummary::brief_report() const {
  return fmt::format(
      "n={} on {}: {} x {} samples, {:.3g} ms device time, spectrum [{:.3g}, {:.3g}], {} "
      "clipped",
      unknowns, serial, batches, batches > 0 ? samples / static_cast<std::uint64_t>(batches) : 0,
      device_time_s * 1e3, lambda_min, lambda_max, clipped_samples);
}

std::string InverseSummary::full_report() const {
  std::string r = "Inverse summary\n";
  auto line = [&r](const char* name, const std::string& value) {
    r += fmt::format("  {:<28} {}\n", name, value);
  };
  line("board", serial);
  line("unknowns", fmt::format("{}", unknowns));
  line("spectrum of A", fmt::format("[{:.6g}, {:.6g}]", lambda_min, lambda_max));
  line("coupling scale", fmt::format("{:.6g} (1/us per unit of A)", coupling_scale));
  line("noise", fmt::format("code {}, D = {:.6g} V^2/us", noise_code, diffusion));
  line("matrix quantization",
       fmt::format("{:.3g} (relative, Frobenius)", matrix_quantization_error));
  line("batches", fmt::format("{} x {} samples", batches,
                              batches > 0 ? samples / static_cast<std::uint64_t>(batches) : 0));
  line("burn-in", fmt::format("{} samples", burn_in_samples));
  line("device time", fmt::format("{:.6g} ms", device_time_s * 1e3));
  line("clipped samples", fmt::format("{}", clipped_samples));
  line("wall time", fmt::format("{:.3g} s", wall_time_s));
  line("energy (model)", energy.brief());
  return r;
}

}  // namespace kelvin::runtime
