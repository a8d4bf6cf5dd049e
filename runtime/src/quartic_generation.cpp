// generate_quartic(): reset, uncoupled phase, coupled phase, per generated sample.
#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>
#include <Eigen/Core>

#include "board_job.hpp"
#include "kelvin/common/error.hpp"
#include "kelvin/common/logging.hpp"
#include "kelvin/runtime/quartic_generation.hpp"
#include "option_checks.hpp"

namespace kelvin::runtime {

using common::Error;
using common::ErrorKind;

void QuarticGenerationOptions::validate() const {
  const detail::OptionChecks check("QuarticGenerationOptions");
  check.in_range<std::uint32_t>("samples", samples, 1, 1000000);
  check.timeout(timeout);
  calibration.validate();
}

namespace {

// The generator's model in physical units (the board's scales): A [1/us], b [V/us], J4.
struct PhysicalModel {
  Eigen::MatrixXd a;
  Eigen::VectorXd b;
  Eigen::VectorXd j4;

  PhysicalModel(const QuarticGenerator& g, const driver::DeviceDescription& d) {
    const auto n = static_cast<Eigen::Index>(g.cells);
    a.resize(n, n);
    b.resize(n);
    j4 = Eigen::VectorXd::Zero(n);
    for (Eigen::Index i = 0; i < n; ++i) {
      for (Eigen::Index j = 0; j < n; ++j)
        a(i, j) = d.coupling.to_physical(std::int64_t{g.coupling_codes[i * n + j]});
      b(i) = d.bias.to_physical(std::int64_t{g.bias_codes[i]});
      if (d.resonator)
        j4(i) = d.resonator->quartic.to_physical(std::int64_t{g.quartic_codes[i]});
    }
  }
  double potential(const Eigen::VectorXd& x) const {
    return 0.5 * x.dot(a * x) - b.dot(x) + j4.dot(x.array().pow(4).matrix());
  }
  Eigen::VectorXd gradient(const Eigen::VectorXd& x) const {
    return a * x - b + 4.0 * j4.cwiseProduct(x.array().cube().matrix());
  }
};

// What is programmed, board-sized, with the calibration's corrections.
struct Programs {
  driver::SymmetricCodes uncoupled;
  driver::SymmetricCodes coupled;
  std::vector<std::int16_t> zero_bias;
  std::vector<std::int16_t> bias;
  std::vector<std::uint16_t> j4;
  std::uint32_t noise_code = 0;
  double gain_correction = 1.0;
  std::uint64_t clamped = 0;

  explicit Programs(std::uint32_t board_cells)
      : uncoupled(board_cells),
        coupled(board_cells),
        zero_bias(board_cells, 0),
        bias(board_cells, 0),
        j4(board_cells, 0) {}
};

// Cells beyond the model: A_ii = 1/us (or the DAC's largest code), so they stay near 0.
std::int16_t holding_code(const driver::CodeScale& coupling) {
  const double code = std::round(1.0 / coupling.lsb);
  return static_cast<std::int16_t>(std::min<double>(code, static_cast<double>(coupling.max_code)));
}

Programs make_programs(const QuarticGenerator& g, const driver::DeviceDescription& d,
                       const calibration::AppliedCalibration& applied) {
  Programs p(d.cells);
  const calibration::BoardCalibration* cal = applied.applied() ? &*applied.calibration : nullptr;
  if (cal)
    p.gain_correction = 1.0 / cal->coupling_dac_gain.value;
  auto corrected = [&](std::int16_t code) -> std::int16_t {
    if (!cal)
      return code;
    const double c = std::round(code * p.gain_correction);
    const double lo = static_cast<double>(d.coupling.min_code);
    const double hi = static_cast<double>(d.coupling.max_code);
    if (c < lo || c > hi)
      ++p.clamped;
    return static_cast<std::int16_t>(std::clamp(c, lo, hi));
  };
  for (std::uint32_t i = 0; i < g.cells; ++i) {
    for (std::uint32_t j = i; j < g.cells; ++j) {
      const std::int16_t c = corrected(g.coupling(i, j));
      p.coupled.set(i, j, c);
      if (i == j)
        p.uncoupled.set(i, i, c);
    }
    p.bias[i] = g.bias_codes[i];
    p.j4[i] = g.quartic_codes[i];
  }
  for (std::uint32_t i = g.cells; i < d.cells; ++i) {
    p.coupled.set(i, i, holding_code(d.coupling));
    p.uncoupled.set(i, i, holding_code(d.coupling));
  }
  p.noise_code = g.noise_code;
  if (cal && g.noise_code > 0) {
    double t = 0.0;
    for (std::uint32_t i = 0; i < g.cells; ++i)
      t += cal->cells.at(i).temperature.value;
    t /= g.cells;
    if (t > 0.0) {
      const double code = std::round(g.noise_code / t);
      p.noise_code = static_cast<std::uint32_t>(
          std::clamp(code, static_cast<double>(std::max<std::int64_t>(d.noise.min_code, 1)),
                     static_cast<double>(d.noise.max_code)));
    }
  }
  return p;
}

// ADC codes to volts: nominal, or with the calibration's offsets and absolute ADC gains.
class Readout {
 public:
  Readout(const calibration::AppliedCalibration& applied, const driver::CodeScale& adc)
      : cal_(applied.applied() ? &*applied.calibration : nullptr), adc_(adc) {}
  double volts(std::uint32_t cell, std::int16_t code) const {
    if (!cal_)
      return adc_.to_physical(std::int64_t{code});
    const calibration::CellCalibration& c = cal_->cells.at(cell);
    return adc_.to_physical(code - c.adc_offset_codes.value) / c.adc_gain.value;
  }
  bool at_rail(std::int16_t code) const { return code <= adc_.min_code || code >= adc_.max_code; }

 private:
  const calibration::BoardCalibration* cal_;
  driver::CodeScale adc_;
};

// One recorded sample of the model's cells in volts; counts a cell at a rail.
Eigen::VectorXd state_of(const driver::RunResult& r, std::uint64_t sample, std::uint32_t cells,
                         const Readout& readout, bool& at_rail) {
  Eigen::VectorXd x(cells);
  const std::size_t base = static_cast<std::size_t>(sample) * r.cells;
  for (std::uint32_t i = 0; i < cells; ++i) {
    const std::int16_t code = r.samples.at(base + i);
    at_rail = at_rail || readout.at_rail(code);
    x(i) = readout.volts(i, code);
  }
  return x;
}

void append_visible(const driver::RunResult& r, const QuarticGenerator& g, const Readout& readout,
                    std::vector<double>& out) {
  for (std::uint64_t s = 0; s < r.sample_count; ++s) {
    const std::size_t base = static_cast<std::size_t>(s) * r.cells;
    for (const std::uint32_t cell : g.visible)
      out.push_back(readout.volts(cell, r.samples.at(base + cell)));
  }
}

void check_calibration(const calibration::AppliedCalibration& applied, const QuarticGenerator& g) {
  if (!applied.applied())
    return;
  const calibration::BoardCalibration& c = *applied.calibration;
  if (c.cells.size() < g.cells || !(c.coupling_dac_gain.value > 0.0)) {
    throw Error(
        ErrorKind::kInvalidArgument,
        fmt::format("calibration {}: {} cells and coupling-DAC gain {} (needs {} cells "
                    "and a positive gain)",
                    applied.file.string(), c.cells.size(), c.coupling_dac_gain.value, g.cells));
  }
  for (std::uint32_t i = 0; i < g.cells; ++i) {
    if (!(c.cells[i].adc_gain.value > 0.0)) {
      throw Error(ErrorKind::kInvalidArgument,
                  fmt::format("calibration {}: cell {} has ADC gain {} (must be > 0)",
                              applied.file.string(), i, c.cells[i].adc_gain.value));
    }
  }
}

void fill_heat_statistics(const std::vector<double>& heat, double diffusion,
                          QuarticGenerationSummary& s) {
  const auto n = static_cast<double>(heat.size());
  double mean = 0.0;
  for (const double q : heat)
    mean += q / n;
  double ss = 0.0;
  for (const double q : heat)
    ss += (q - mean) * (q - mean);
  s.heat_dof = static_cast<std::uint32_t>(heat.size() - 1);
  s.heat_mean = mean;
  s.heat_stderr = heat.size() > 1 ? std::sqrt(ss / (n - 1.0) / n) : 0.0;
  s.heat_min = *std::min_element(heat.begin(), heat.end());
  s.heat_max = *std::max_element(heat.begin(), heat.end());
  if (diffusion > 0.0) {
    s.heat_mean_kt = s.heat_mean / diffusion;
    s.heat_stderr_kt = s.heat_stderr / diffusion;
  }
}

void add_warnings(const QuarticGenerator& g, const driver::DeviceDescription& d,
                  QuarticGenerationSummary& s) {
  const double kt = s.diffusion;
  s.warnings.push_back(fmt::format(
      "the heat uses ADC-quantized states (lsb {:.3g} V): a bias of up to about {:.3g} V^2/us "
      "({}) per sample that heat_stderr does not include",
      d.adc.lsb, s.heat_quantization_bound,
      kt > 0.0 ? fmt::format("{:.3g} kT", s.heat_quantization_bound / kt) : std::string("no kT")));
  if (s.clipped_generated > 0) {
    s.warnings.push_back(fmt::format(
        "{} of {} generated samples had a cell at an ADC rail at switch-on or at the end: their "
        "images and heat are clipped (biased)",
        s.clipped_generated, s.samples));
  }
  if (s.coupling_codes_clamped > 0) {
    s.warnings.push_back(fmt::format(
        "{} coupling codes hit the DAC's range after dividing out the coupling-DAC gain",
        s.coupling_codes_clamped));
  }
  if (g.noise_code == 0)
    s.warnings.push_back("noise_code = 0: no temperature, so no heat in kT");
}

}  // namespace

double quartic_potential(const QuarticGenerator& g, const driver::DeviceDescription& board,
                         const std::vector<double>& x) {
  if (x.size() != g.cells) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("quartic_potential: x has {} entries, the generator {} cells", x.size(),
                            g.cells));
  }
  return PhysicalModel(g, board).potential(Eigen::Map<const Eigen::VectorXd>(x.data(), g.cells));
}

QuarticGenerationResult generate_quartic(driver::ResonatorBoard& board, const QuarticGenerator& g,
                                         const QuarticGenerationOptions& options) {
  options.validate();
  const driver::DeviceDescription& d = board.description();
  g.validate(d);
  detail::BoardJob job(board, options.timeout);
  job.apply_calibration(options.calibration);
  const calibration::AppliedCalibration& applied = job.applied_calibration();
  check_calibration(applied, g);
  const Programs p = make_programs(g, d, applied);
  const PhysicalModel model(g, d);
  const Readout readout(applied, d.adc);

  QuarticGenerationResult out;
  QuarticGenerationSummary& s = out.summary;
  s.samples = options.samples;
  s.model_cells = g.cells;
  s.visible = static_cast<std::uint32_t>(g.visible.size());
  s.uncoupled_samples = g.uncoupled_samples;
  s.coupled_samples = g.coupled_samples;
  s.noise_code = g.noise_code;
  s.noise_code_used = p.noise_code;
  s.diffusion = d.noise.to_physical(std::int64_t{g.noise_code});
  s.coupling_gain_correction = p.gain_correction;
  s.coupling_codes_clamped = p.clamped;
  if (applied.applied()) {
    s.corrected = {"coupling-DAC gain", "ADC offsets", "ADC gains", "mean effective temperature"};
    s.not_corrected = {"per-cell capacitance (rates)", "per-cell temperature spread",
                       "resistances"};
  }

  const common::Deadline deadline = job.deadline();
  if (d.has_capability(driver::capability::kQuartic))
    board.set_quartic(p.j4, deadline);
  board.set_noise(p.noise_code, deadline);
  const double half_lsb = 0.5 * d.adc.lsb;
  for (std::uint32_t k = 0; k < options.samples; ++k) {
    board.program_couplings(p.uncoupled, deadline);
    board.program_biases(p.zero_bias, deadline);
    driver::RunRequest first;
    first.samples = g.uncoupled_samples;
    first.reset_state = true;
    first.record_samples = true;
    const driver::RunResult r1 = job.run(first);
    board.program_couplings(p.coupled, deadline);
    board.program_biases(p.bias, deadline);
    driver::RunRequest second;
    second.samples = g.coupled_samples;
    second.record_samples = true;
    const driver::RunResult r2 = job.run(second);

    bool at_rail = false;
    const Eigen::VectorXd x0 = state_of(r1, r1.sample_count - 1, g.cells, readout, at_rail);
    const Eigen::VectorXd x1 = state_of(r2, r2.sample_count - 1, g.cells, readout, at_rail);
    s.clipped_generated += at_rail ? 1 : 0;
    s.clipped_board_samples += r1.clipped_samples + r2.clipped_samples;
    const double q = model.potential(x0) - model.potential(x1);
    out.heat.push_back(q);
    out.heat_kt.push_back(s.diffusion > 0.0 ? q / s.diffusion
                                            : std::numeric_limits<double>::quiet_NaN());
    s.heat_quantization_bound += half_lsb *
                                 (model.gradient(x0).lpNorm<1>() + model.gradient(x1).lpNorm<1>()) /
                                 options.samples;
    std::vector<double> image;
    image.reserve(g.visible.size());
    for (const std::uint32_t cell : g.visible)
      image.push_back(x1(cell));
    out.images.push_back(std::move(image));
    if (options.record_trajectories) {
      std::vector<double> t;
      t.reserve((r1.sample_count + r2.sample_count) * g.visible.size());
      append_visible(r1, g, readout, t);
      append_visible(r2, g, readout, t);
      out.trajectories.push_back(std::move(t));
    }
  }
  fill_heat_statistics(out.heat, s.diffusion, s);
  add_warnings(g, d, s);
  // Host: two potentials and gradients per sample (about 4 n^2 each); the GPU comparison
  // integrates the same dynamics digitally: a matrix-vector product per substep (2 n^2).
  const double n = g.cells;
  const double periods = static_cast<double>(g.uncoupled_samples + g.coupled_samples);
  const double substeps = d.resonator ? std::max(1u, d.resonator->quartic_substeps) : 1.0;
  job.finish(s, options.samples * 16.0 * n * n, options.samples * periods * substeps * 2.0 * n * n);
  s.wall_time_per_sample_s = s.wall_time_s / options.samples;
  common::logger("kelvin.runtime")->info("generate_quartic: {}", s.brief_report());
  return out;
}

}  // namespace kelvin::runtime
