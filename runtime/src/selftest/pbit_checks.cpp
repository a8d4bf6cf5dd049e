// The p-bit board's self-test (selftest.hpp): uncoupled p-bits at zero and programmed biases,
// each colour's response to its clamped neighbours, then rounds of disjoint coupled edges.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "check_support.hpp"
#include "kelvin/runtime/selftest/selftest.hpp"

namespace kelvin::runtime::selftest {
namespace {

using detail::Recorder;

// Operating points (the nearest beta codes are used, and their realized betas expected).
constexpr double kReadoutBeta = 1.0;  // readout: h = 0, any beta
constexpr double kBiasBeta = 0.25;    // bias DAC and the response curve
// bias_dac: +-40 codes at beta 1/4 drive a healthy p-bit to tanh(10) = 1 - 4e-9.
constexpr std::int8_t kDriveLevel = 40;
// A swing below half the full one (2) fails: a functional threshold separating a dead DAC
// (swing 0) from a live one; the curve's shape is the noise check's to judge.
constexpr double kDriveAllowance = 1.0;
// noise (the bias response curve): tanh(b / 4) at b = -4, -2, 2, 4.
constexpr std::int8_t kCurveLevels[] = {-4, -2, 2, 4};
constexpr double kCouplingBeta = 1.0 / 16.0;  // coupling: <s s> = tanh(6 / 16) = 0.358
constexpr std::int8_t kCouplingWeight = 6;
constexpr std::uint64_t kBurnIn = 2;

class PbitSelftest {
 public:
  PbitSelftest(driver::PbitBoard& board, const Options& options, Summary& summary)
      : board_(board),
        options_(options),
        summary_(summary),
        recorder_(summary),
        lattice_(board.lattice()),
        n_(board.nodes()),
        samples_(static_cast<double>(options.chains) * static_cast<double>(options.sweeps)) {}

  void run() {
    detail::check_link(board_.device(), recorder_, options_);
    if (!detail::guarded(recorder_, "registers", [&] { check_registers(); }))
      return;
    if (!detail::guarded(recorder_, "readout", [&] { check_readout(); }))
      return;
    if (!detail::guarded(recorder_, "bias_dac", [&] { check_bias_dac(); }))
      return;
    if (!detail::guarded(recorder_, "noise", [&] { check_noise(); }))
      return;
    detail::guarded(recorder_, "coupling", [&] { check_edges(); });
    detail::check_counters(runs_, recorder_);
    recorder_.skip("stream", "board", "p-bit boards do not stream");
  }

 private:
  common::Deadline deadline() const { return common::Deadline::after(options_.timeout); }
  std::string node_name(std::uint32_t i) const { return fmt::format("p-bit {}", i); }
  // Standard error of a mean spin m of independent samples.
  double spin_error(double m) const { return std::sqrt(std::max(1.0 - m * m, 0.0) / samples_); }

  void check_registers() {
    const auto start = std::chrono::steady_clock::now();
    const std::size_t edges = lattice_.edges().size();
    board_.program_lattice(std::vector<std::int8_t>(edges, 0), std::vector<std::int8_t>(n_, 0),
                           deadline());
    board_.set_clamps({}, deadline());
    const std::uint32_t beta = board_.beta_code(kReadoutBeta);
    board_.set_beta_schedule(std::vector<std::uint32_t>{beta}, deadline());
    recorder_.pass("registers", "board",
                   "3 register writes acknowledged (lattice all 0, no clamps, beta schedule)",
                   detail::seconds_since(start));
  }

  // Samples options.chains chains from random states at one beta code.
  driver::SamplingResult sample(double beta, bool moments) {
    const std::uint32_t code = board_.beta_code(beta);
    board_.set_beta_schedule(std::vector<std::uint32_t>{code}, deadline());
    driver::SamplingRequest request;
    request.sweeps = options_.sweeps;
    request.chains = options_.chains;
    request.burn_in_sweeps = kBurnIn;
    request.accumulate_moments = moments;
    request.reset_state = true;
    driver::SamplingResult r = board_.sample(request, deadline());
    detail::RunMark mark;
    mark.first_tick = r.first_tick;
    mark.overflow_count = r.overflow_count;
    if (!runs_.empty())
      mark.expected_first_tick = runs_.back().first_tick + kBurnIn + options_.sweeps;
    runs_.push_back(mark);
    return r;
  }

  // The realized beta of the code the board uses for `beta`.
  double realized(double beta) const {
    return board_.pbit().beta.to_physical(std::int64_t{board_.beta_code(beta)});
  }

  void check_readout() {
    const auto start = std::chrono::steady_clock::now();
    const driver::SamplingResult r = sample(kReadoutBeta, false);
    const double t = detail::seconds_since(start);
    const double tol = options_.sigmas * spin_error(0.0);
    for (std::uint32_t i = 0; i < n_; ++i)
      recorder_.judge("readout", node_name(i), r.mean(i), 0.0, tol, "spin", t, i);
  }

  // Mean spins of every p-bit, uncoupled, with every bias `level`, at beta.
  std::vector<double> uncoupled_means(std::int8_t level, double beta) {
    board_.program_lattice(std::vector<std::int8_t>(lattice_.edges().size(), 0),
                           std::vector<std::int8_t>(n_, level), deadline());
    const driver::SamplingResult r = sample(beta, false);
    std::vector<double> m(n_);
    for (std::uint32_t i = 0; i < n_; ++i)
      m[i] = r.mean(i);
    return m;
  }

  double bias_value(std::int8_t code) const {
    return board_.pbit().bias.to_physical(std::int64_t{code});
  }

  void skip_broken(const char* check, std::uint32_t i) {
    recorder_.skip(check, node_name(i), "not tested: the p-bit failed an earlier check");
  }

  // The bias DAC drives the p-bit: the swing of its mean spin between bias -L and +L.
  void check_bias_dac() {
    const auto start = std::chrono::steady_clock::now();
    const double beta = realized(kBiasBeta);
    const std::vector<double> low =
        uncoupled_means(static_cast<std::int8_t>(-kDriveLevel), kBiasBeta);
    const std::vector<double> high = uncoupled_means(kDriveLevel, kBiasBeta);
    const double t = detail::seconds_since(start);
    const double e = std::tanh(beta * bias_value(kDriveLevel));
    for (std::uint32_t i = 0; i < n_; ++i) {
      if (recorder_.broken(i)) {
        skip_broken("bias_dac", i);
        continue;
      }
      recorder_.judge("bias_dac", node_name(i), high[i] - low[i], 2.0 * e,
                      kDriveAllowance + options_.sigmas * std::hypot(spin_error(e), spin_error(e)),
                      "spin", t, i);
      recorder_.annotate(fmt::format(" (mean spin at bias code {} minus at {})", int{kDriveLevel},
                                     -int{kDriveLevel}));
    }
  }

  // The bias response curve against the sigmoid the description implies, P(+1) =
  // sigmoid(2 beta h): its width is the p-bit's noise (a noisy p-bit's curve is flatter).
  void check_noise() {
    const auto start = std::chrono::steady_clock::now();
    const double beta = realized(kBiasBeta);
    std::vector<std::vector<double>> means;
    for (const std::int8_t level : kCurveLevels)
      means.push_back(uncoupled_means(level, kBiasBeta));
    const double t = detail::seconds_since(start);
    for (std::uint32_t i = 0; i < n_; ++i) {
      if (recorder_.broken(i)) {
        skip_broken("noise", i);
        continue;
      }
      // The level furthest off the sigmoid, in standard errors.
      std::size_t worst = 0;
      double worst_z = -1.0;
      for (std::size_t k = 0; k < std::size(kCurveLevels); ++k) {
        const double e = std::tanh(beta * bias_value(kCurveLevels[k]));
        const double z = std::abs(means[k][i] - e) / spin_error(e);
        if (z > worst_z) {
          worst_z = z;
          worst = k;
        }
      }
      const double e = std::tanh(beta * bias_value(kCurveLevels[worst]));
      recorder_.judge("noise", node_name(i), means[worst][i], e, options_.sigmas * spin_error(e),
                      "spin", t, i);
      recorder_.annotate(
          fmt::format(" (bias response curve: mean spin at bias code {}, the level "
                      "furthest off tanh(beta b))",
                      int{kCurveLevels[worst]}));
    }
  }

  void check_edges() {
    const auto& edges = lattice_.edges();
    summary_.pairs_total = edges.size();
    const double beta = realized(kCouplingBeta);
    const double w = board_.pbit().weight.to_physical(std::int64_t{kCouplingWeight});
    const double expected = std::tanh(beta * w);
    // Isolated pairs: each sweep's product is independent of the last (the second spin is drawn
    // from the first's new value alone), so the standard error is binomial.
    const double tol = options_.sigmas * std::sqrt((1.0 - expected * expected) / samples_);
    std::vector<bool> done(edges.size(), false);
    for (std::uint32_t round = 0; round < options_.max_edge_rounds; ++round) {
      const auto start = std::chrono::steady_clock::now();
      std::vector<bool> used(n_, false);
      std::vector<std::int8_t> weights(edges.size(), 0);
      std::vector<std::uint32_t> tested;
      bool scheduled = false;
      for (std::uint32_t e = 0; e < edges.size(); ++e) {
        const auto [i, j] = edges[e];
        if (done[e] || used[i] || used[j])
          continue;
        done[e] = true;
        used[i] = used[j] = true;
        scheduled = true;
        if (recorder_.broken(i) || recorder_.broken(j)) {
          recorder_.skip("coupling", fmt::format("edge {}-{}", i, j),
                         fmt::format("not tested: p-bit {} failed an earlier check",
                                     recorder_.broken(i) ? i : j));
          continue;
        }
        weights[e] = kCouplingWeight;
        tested.push_back(e);
      }
      if (!scheduled)
        break;  // every edge tested
      if (tested.empty())
        continue;
      board_.program_lattice(weights, std::vector<std::int8_t>(n_, 0), deadline());
      const driver::SamplingResult r = sample(kCouplingBeta, true);
      const double t = detail::seconds_since(start);
      for (const std::uint32_t e : tested) {
        recorder_.judge("coupling", fmt::format("edge {}-{}", edges[e].first, edges[e].second),
                        r.edge_correlation(e), expected, tol, "<s s>", t);
        ++summary_.pairs_tested;
      }
    }
  }

  driver::PbitBoard& board_;
  const Options& options_;
  Summary& summary_;
  Recorder recorder_;
  const firmware_protocol::PbitLattice& lattice_;
  std::uint32_t n_;
  double samples_;
  std::vector<detail::RunMark> runs_;
};

}  // namespace

Summary run_pbit_selftest(driver::PbitBoard& board, const Options& options) {
  options.validate();
  const auto start = std::chrono::steady_clock::now();
  Summary summary;
  summary.family = "pbit";
  summary.serial = board.description().serial;
  summary.cells = board.nodes();
  summary.sigmas = options.sigmas;
  summary.false_alarm_per_check = detail::two_sided_tail(options.sigmas);
  PbitSelftest(board, options, summary).run();
  summary.wall_time_s = detail::seconds_since(start);
  return summary;
}

}  // namespace kelvin::runtime::selftest
