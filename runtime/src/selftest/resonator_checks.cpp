// The resonator board's self-test (selftest.hpp): uncoupled cells (A = a I) at a known noise,
// measured with and without a bias, then rounds of disjoint coupled pairs, then a stream
// (resonator_stream_check.cpp).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "check_support.hpp"
#include "kelvin/common/error.hpp"
#include "kelvin/runtime/selftest/selftest.hpp"
#include "resonator_stream_check.hpp"

namespace kelvin::runtime::selftest {
namespace {

using detail::Recorder;

// The operating point: a = 1/16 per us (a 16 us time constant), a bias of b = a / 4 (a 0.25 V
// shift), D = a / 400 (a 50 mV spread) and couplings c = -a / 2 (capacitive-realizable).
constexpr double kDiagonal = 1.0 / 16.0;
constexpr double kBiasShiftVolts = 0.25;
constexpr double kStdVolts = 0.05;
constexpr double kCouplingRatio = -0.5;
constexpr std::uint64_t kSettleSamples = 1024;  // 64 time constants of the slowest mode

struct CellStats {
  std::vector<double> mean;      // codes
  std::vector<double> variance;  // codes^2
  double time_s = 0.0;
};

class ResonatorSelftest {
 public:
  ResonatorSelftest(driver::ResonatorBoard& board, const Options& options, Summary& summary)
      : board_(board),
        options_(options),
        summary_(summary),
        recorder_(summary),
        d_(board.description()),
        n_(board.cells()) {
    a_code_ = static_cast<std::int16_t>(d_.coupling.to_code(kDiagonal));
    c_code_ = static_cast<std::int16_t>(d_.coupling.to_code(kCouplingRatio * kDiagonal));
    a_ = d_.coupling.to_physical(std::int64_t{a_code_});
    c_ = d_.coupling.to_physical(std::int64_t{c_code_});
    b_code_ = static_cast<std::int16_t>(d_.bias.to_code(kBiasShiftVolts * a_));
    b_ = d_.bias.to_physical(std::int64_t{b_code_});
    noise_code_ = static_cast<std::uint32_t>(d_.noise.to_code(kStdVolts * kStdVolts * a_));
    noise_ = d_.noise.to_physical(std::int64_t{noise_code_});
    lsb_ = d_.adc.lsb;
    dt_us_ = d_.sample_period_s() * 1e6;
    if (d_.resonator)
      imp_ = d_.resonator->imperfections;
  }

  void run() {
    detail::check_link(board_.device(), recorder_, options_);
    if (!detail::guarded(recorder_, "registers", [&] { check_registers(); }))
      return;
    CellStats base;
    CellStats biased;
    const bool measured = detail::guarded(recorder_, "noise", [&] {
      base = measure(diagonal(), std::vector<std::int16_t>(n_, 0));
      biased = measure(diagonal(), std::vector<std::int16_t>(n_, b_code_));
    });
    if (!measured)
      return;
    check_cells(base, biased);
    detail::guarded(recorder_, "coupling", [&] { check_pairs(base); });
    detail::check_counters(runs_, recorder_);
    detail::guarded(recorder_, "stream",
                    [&] { detail::check_stream(board_, options_, recorder_); });
  }

 private:
  common::Deadline deadline() const { return common::Deadline::after(options_.timeout); }

  driver::SymmetricCodes diagonal() const {
    driver::SymmetricCodes codes(n_);
    for (std::uint32_t i = 0; i < n_; ++i)
      codes.set(i, i, a_code_);
    return codes;
  }

  void check_registers() {
    const auto start = std::chrono::steady_clock::now();
    int writes = 0;
    board_.program_couplings(diagonal(), deadline());
    ++writes;
    board_.program_biases(std::vector<std::int16_t>(n_, 0), deadline());
    ++writes;
    board_.set_noise(noise_code_, deadline());
    ++writes;
    if (d_.has_capability(driver::capability::kQuartic)) {
      board_.set_quartic(std::vector<std::uint16_t>(n_, 0), deadline());
      ++writes;
    }
    recorder_.pass("registers", "board",
                   fmt::format("{} register writes acknowledged (couplings a = {:.4g} 1/us, "
                               "biases 0, noise D = {:.4g} V^2/us{})",
                               writes, a_, noise_, writes == 4 ? ", J4 0" : ""),
                   detail::seconds_since(start));
  }

  // Programs the couplings and biases, settles from x = 0, then measures every cell's mean and
  // variance over options.samples samples.
  CellStats measure(const driver::SymmetricCodes& couplings, const std::vector<std::int16_t>& b) {
    const auto start = std::chrono::steady_clock::now();
    board_.program_couplings(couplings, deadline());
    board_.program_biases(b, deadline());
    driver::RunRequest settle;
    settle.samples = kSettleSamples;
    settle.reset_state = true;
    mark(board_.run(settle, deadline()));
    driver::RunRequest request;
    request.samples = options_.samples;
    request.accumulate_products = true;
    const driver::RunResult r = board_.run(request, deadline());
    mark(r);
    CellStats stats;
    const double samples = static_cast<double>(r.sample_count);
    for (std::uint32_t i = 0; i < n_; ++i) {
      const double m = r.mean_code(i);
      stats.mean.push_back(m);
      stats.variance.push_back(
          std::max(0.0, static_cast<double>(r.product_sum(i, i)) / samples - m * m));
    }
    stats.time_s = detail::seconds_since(start);
    return stats;
  }

  void mark(const driver::RunResult& r) {
    detail::RunMark m;
    m.first_tick = r.first_tick;
    m.overflow_count = r.overflow_count;
    if (!runs_.empty())
      m.expected_first_tick = last_first_tick_ + last_duration_ticks_;
    runs_.push_back(m);
    last_first_tick_ = r.first_tick;
    last_duration_ticks_ = r.sample_count * d_.ticks_per_sample;
  }

  // Standard error of a mean of options.samples AR(1) samples of variance `variance` whose
  // correlation per sample is rho.
  double mean_error(double variance, double rho) const {
    return std::sqrt(variance * (1.0 + rho) / (1.0 - rho) / static_cast<double>(options_.samples));
  }

  void check_cells(const CellStats& base, const CellStats& biased) {
    const double rho = std::exp(-a_ * dt_us_);
    const double k = options_.sigmas;
    // Stationary variance D / a (the exact discretization keeps it) plus the ADC's rounding.
    const double var_expected = noise_ / a_ / (lsb_ * lsb_) + 1.0 / 12.0;
    const double var_error = var_expected * std::sqrt(2.0 * (1.0 + rho * rho) / (1.0 - rho * rho) /
                                                      static_cast<double>(options_.samples));
    const double var_allowance =
        (2.0 * imp_.noise + imp_.capacitance + imp_.coupling_dac_gain + 2.0 * imp_.adc_gain) *
        var_expected;
    const double shift_expected = b_ / a_ / lsb_;
    const double gain_allowance =
        (imp_.adc_gain + imp_.coupling_dac_gain) * std::abs(shift_expected);
    for (std::uint32_t i = 0; i < n_; ++i) {
      const std::string cell = fmt::format("cell {}", i);
      const double t = base.time_s + biased.time_s;
      recorder_.judge("noise", cell, base.variance[i], var_expected, k * var_error + var_allowance,
                      "codes^2", t, i);
      if (recorder_.broken(i)) {
        skip_rest(cell, {"adc_offset", "dac_gain"});
        continue;
      }
      const double e0 = mean_error(base.variance[i], rho);
      recorder_.judge("adc_offset", cell, base.mean[i], 0.0, k * e0 + imp_.adc_offset_codes + 0.5,
                      "codes", t, i);
      if (recorder_.broken(i)) {
        skip_rest(cell, {"dac_gain"});
        continue;
      }
      const double e1 = mean_error(biased.variance[i], rho);
      recorder_.judge("dac_gain", cell, biased.mean[i] - base.mean[i], shift_expected,
                      k * std::hypot(e0, e1) + gain_allowance + 1.0, "codes", t, i);
    }
  }

  void skip_rest(const std::string& cell, std::initializer_list<const char*> checks) {
    for (const char* check : checks)
      recorder_.skip(check, cell, "not tested: the cell failed an earlier check");
  }

  void check_pairs(const CellStats& base) {
    summary_.pairs_total = std::uint64_t{n_} * (n_ - 1) / 2;
    if (n_ < 2) {
      recorder_.skip("coupling", "board", "one cell: no pairs");
      return;
    }
    // Cell J of a pair coupled by c, with only I biased: mean -c b / (a^2 - c^2); the slowest
    // mode decays at a - |c|.
    const double expected = -c_ * b_ / (a_ * a_ - c_ * c_) / lsb_;
    const double rho = std::exp(-(a_ - std::abs(c_)) * dt_us_);
    const double rho_base = std::exp(-a_ * dt_us_);
    const double allowance = (imp_.adc_gain + imp_.coupling_dac_gain) * std::abs(expected) + 1.0;
    for (const auto& round : detail::pair_rounds(n_, options_.max_pair_rounds)) {
      driver::SymmetricCodes codes = diagonal();
      std::vector<std::int16_t> biases(n_, 0);
      std::vector<std::pair<std::uint32_t, std::uint32_t>> tested;
      for (const auto& [i, j] : round) {
        const std::string pair = fmt::format("pair {}-{}", i, j);
        if (recorder_.broken(i) || recorder_.broken(j)) {
          recorder_.skip("coupling", pair,
                         fmt::format("not tested: cell {} failed an earlier check",
                                     recorder_.broken(i) ? i : j));
          continue;
        }
        codes.set(i, j, c_code_);
        biases[i] = b_code_;
        tested.emplace_back(i, j);
      }
      if (tested.empty())
        continue;
      const CellStats stats = measure(codes, biases);
      for (const auto& [i, j] : tested) {
        const double error =
            std::hypot(mean_error(stats.variance[j], rho), mean_error(base.variance[j], rho_base));
        recorder_.judge("coupling", fmt::format("pair {}-{}", i, j), stats.mean[j] - base.mean[j],
                        expected, options_.sigmas * error + allowance, "codes", stats.time_s);
        ++summary_.pairs_tested;
      }
    }
  }

  driver::ResonatorBoard& board_;
  const Options& options_;
  Summary& summary_;
  Recorder recorder_;
  const driver::DeviceDescription& d_;
  std::uint32_t n_;
  std::int16_t a_code_ = 0, c_code_ = 0, b_code_ = 0;
  std::uint32_t noise_code_ = 0;
  double a_ = 0, c_ = 0, b_ = 0, noise_ = 0, lsb_ = 0, dt_us_ = 1.0;
  driver::ImperfectionSpec imp_;
  std::vector<detail::RunMark> runs_;
  std::uint64_t last_first_tick_ = 0;
  std::uint64_t last_duration_ticks_ = 0;
};

}  // namespace

Summary run_resonator_selftest(driver::ResonatorBoard& board, const Options& options) {
  options.validate();
  const auto start = std::chrono::steady_clock::now();
  const driver::BoardActivity before = board.activity();
  Summary summary;
  summary.family = "resonator";
  summary.serial = board.description().serial;
  summary.cells = board.cells();
  summary.sigmas = options.sigmas;
  summary.false_alarm_per_check = detail::two_sided_tail(options.sigmas);
  ResonatorSelftest(board, options, summary).run();
  const driver::BoardActivity used = board.activity() - before;
  summary.device_time_s = static_cast<double>(used.cell_sample_periods) /
                          std::max(1u, board.cells()) * board.description().sample_period_s();
  summary.wall_time_s = detail::seconds_since(start);
  return summary;
}

}  // namespace kelvin::runtime::selftest
