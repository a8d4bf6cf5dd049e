// calibrate(PbitBoard&): each p-bit's sigmoid offset and gain (calibrate.hpp, docs/calibration.md).
#include <algorithm>
#include <cmath>
#include <set>
#include <stdexcept>

#include <fmt/format.h>

#include "../option_checks.hpp"
#include "../pbit/pbit_job.hpp"
#include "kelvin/common/error.hpp"
#include "kelvin/common/logging.hpp"
#include "kelvin/runtime/calibration/calibrate.hpp"
#include "linear_fit.hpp"

#ifndef KELVIN_VERSION
#define KELVIN_VERSION "unknown"
#endif

namespace kelvin::runtime::calibration {
namespace {

using common::Error;
using common::ErrorKind;

// Batch means of every p-bit's spin at one bias code: mean and standard error per node.
struct CodeMeans {
  std::vector<double> mean, se;
};

CodeMeans measure_code(driver::PbitBoard& board, const runtime::detail::PbitJob& job, int code,
                       const PbitCalibrationOptions& o, std::uint32_t chains,
                       std::uint64_t sweeps_per_batch) {
  const std::uint32_t n = board.nodes();
  driver::LatticeProgram program;
  program.weights.assign(board.lattice().edges().size(), 0);
  program.biases.assign(n, static_cast<std::int8_t>(code));
  board.program_lattice(program, job.deadline());
  std::vector<double> sum(n, 0.0), sum2(n, 0.0);
  for (std::uint32_t k = 0; k < o.batches; ++k) {
    driver::SamplingRequest r;
    r.sweeps = sweeps_per_batch;
    r.chains = chains;
    r.burn_in_sweeps = 1;  // uncoupled: one sweep forgets the start
    r.reset_state = k == 0;
    const driver::SamplingResult res = board.sample(r, job.deadline());
    for (std::uint32_t i = 0; i < n; ++i) {
      const double m = res.mean(i);
      sum[i] += m;
      sum2[i] += m * m;
    }
  }
  const double b = o.batches;
  CodeMeans out;
  for (std::uint32_t i = 0; i < n; ++i) {
    const double mean = sum[i] / b;
    const double var = std::max(0.0, (sum2[i] - b * mean * mean) / (b - 1.0));
    out.mean.push_back(mean);
    out.se.push_back(std::sqrt(var / b));
  }
  return out;
}

}  // namespace

void PbitCalibrationOptions::validate() const {
  const runtime::detail::OptionChecks check("PbitCalibrationOptions");
  check.in_range("samples_per_code", samples_per_code, std::uint64_t{1} << 10,
                 std::uint64_t{1} << 30);
  check.in_range("batches", batches, 4u, 1024u);
  check.in_range("beta_code", beta_code, 16u, 1024u);
  const std::set<int> distinct(bias_codes.begin(), bias_codes.end());
  if (distinct.size() < 2)
    check.fail("bias_codes needs at least two distinct codes");
  for (const int b : bias_codes)
    check.in_range("bias_codes entry", b, -127, 127);
  check.timeout(timeout);
}

CalibrationResult calibrate(driver::PbitBoard& board, const PbitCalibrationOptions& options) {
  options.validate();
  const auto log = common::logger("kelvin.calibrate");
  const driver::DeviceDescription& desc = board.description();
  const driver::PbitDescription& p = board.pbit();
  const std::uint32_t n = board.nodes();
  const runtime::detail::PbitJob job(board, options.timeout);
  const std::uint32_t chains = std::max(1u, p.max_chains);
  const std::uint64_t sweeps_per_batch = std::max<std::uint64_t>(
      1, options.samples_per_code / (std::uint64_t{options.batches} * chains));
  const double beta = p.beta.to_physical(std::int64_t{options.beta_code});
  const std::uint32_t schedule[] = {options.beta_code};
  board.set_clamps({}, job.deadline());
  board.set_beta_schedule(schedule, job.deadline());

  std::vector<CodeMeans> codes;
  for (const int code : options.bias_codes)
    codes.push_back(measure_code(board, job, code, options, chains, sweeps_per_batch));

  BoardCalibration cal;
  cal.family = "pbit";
  cal.serial = desc.serial;
  cal.date = detail::utc_now("{:%Y-%m-%dT%H:%M:%SZ}");
  cal.id = fmt::format("{}-{}", desc.serial, detail::utc_now("{:%Y%m%dT%H%M%SZ}"));
  std::uint32_t saturated = 0;
  for (std::uint32_t i = 0; i < n; ++i) {
    // Weighted least squares of a = g b + o on the codes with a usable mean.
    double sw = 0, swb = 0, swbb = 0, swa = 0, swab = 0;
    std::set<int> used;
    for (std::size_t k = 0; k < codes.size(); ++k) {
      const double m = codes[k].mean[i];
      const double se = codes[k].se[i];
      if (!(std::abs(m) < 1.0 - 1e-6) || !(se > 0.0))
        continue;  // saturated (or a stuck p-bit): no information on the sigmoid
      const double a = std::atanh(m) / beta;
      const double se_a = se / (beta * (1.0 - m * m));
      const double w = 1.0 / (se_a * se_a);
      const double b = options.bias_codes[k];
      sw += w;
      swb += w * b;
      swbb += w * b * b;
      swa += w * a;
      swab += w * a * b;
      used.insert(options.bias_codes[k]);
    }
    const double det = sw * swbb - swb * swb;
    if (used.size() < 2 || !(det > 0.0)) {
      ++saturated;
      cal.pbits.push_back({{0.0, 0.0}, {1.0, 0.0}});  // not measurable: left uncorrected
      continue;
    }
    const double g = (sw * swab - swb * swa) / det;
    const double o = (swbb * swa - swb * swab) / det;
    cal.pbits.push_back({{o, std::sqrt(swbb / det)}, {g, std::sqrt(sw / det)}});
  }

  CalibrationConditions& cond = cal.conditions;
  cond.cells = n;
  cond.firmware_version = desc.firmware_version;
  cond.protocol_version = desc.protocol_version;
  cond.imperfections = "unknown";  // a p-bit board does not describe its flaws
  cond.sample_period_s = p.sweep_rate_hz > 0.0 ? 1.0 / p.sweep_rate_hz : 0.0;
  cond.kelvin_version = KELVIN_VERSION;
  cond.mean_samples = sweeps_per_batch * chains * options.batches;
  cond.beta_code = options.beta_code;
  cond.bias_codes = options.bias_codes;

  CalibrationResult out;
  CalibrationSummary& s = out.summary;
  s.family = "pbit";
  s.calibration_id = cal.id;
  s.date = cal.date;
  s.mean_samples = cond.mean_samples;
  s.beta_code = options.beta_code;
  for (const PbitNodeCalibration& c : cal.pbits) {
    s.sigmoid_offset.push_back(c.sigmoid_offset.value);
    s.sigmoid_offset_stderr.push_back(c.sigmoid_offset.standard_error);
    s.sigmoid_gain.push_back(c.sigmoid_gain.value);
    s.sigmoid_gain_stderr.push_back(c.sigmoid_gain.standard_error);
  }
  if (saturated > 0) {
    s.warnings.push_back(fmt::format(
        "{} p-bits did not respond at two or more bias codes (stuck or saturated); they are "
        "left uncorrected (gain 1, offset 0)",
        saturated));
  }
  const std::uint64_t sweeps = (sweeps_per_batch + 1) * options.batches * options.bias_codes.size();
  runtime::PbitWork work;
  work.node_updates = sweeps * chains * n;
  work.codes_written =
      options.bias_codes.size() * (std::uint64_t{n} + board.lattice().edges().size()) + 1;
  work.values_read = std::uint64_t{n} * options.batches * options.bias_codes.size();
  job.finish(s, sweeps, work, 20.0 * n * static_cast<double>(options.bias_codes.size()));
  out.calibration = std::move(cal);
  log->info("calibrate: {}", s.brief_report());
  return out;
}

}  // namespace kelvin::runtime::calibration
