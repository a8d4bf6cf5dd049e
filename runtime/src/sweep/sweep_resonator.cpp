// Sweeps on a resonator board (sweep/sweep.hpp): the base configuration, writes of bias:C,
// coupling:I-J and noise, and per-point means and variances from batches of warm-started runs.
#include <algorithm>

#include <fmt/format.h>

#include "batch_means.hpp"
#include "kelvin/common/error.hpp"
#include "kelvin/runtime/energy.hpp"
#include "sweep_engine.hpp"

namespace kelvin::runtime::sweep {

ResonatorBase ResonatorBase::independent_cells(std::uint32_t cells, std::int16_t diagonal_code,
                                               std::uint32_t noise_code) {
  ResonatorBase base;
  base.couplings = driver::SymmetricCodes(cells);
  for (std::uint32_t i = 0; i < cells; ++i)
    base.couplings.set(i, i, diagonal_code);
  base.biases.assign(cells, 0);
  base.noise = noise_code;
  return base;
}

namespace {

class ResonatorTarget final : public detail::Target {
 public:
  ResonatorTarget(driver::ResonatorBoard& board, const ResonatorBase& base)
      : board_(board), base_(base), state_(base), before_(BoardSnapshot::of(board)) {}

  const driver::DeviceDescription& description() const override { return board_.description(); }
  std::uint32_t cells() const override { return board_.cells(); }

  void check(const SweepOptions& options) const override {
    const std::uint32_t n = board_.cells();
    if (base_.couplings.size() != n || base_.biases.size() != n) {
      throw common::Error(common::ErrorKind::kInvalidArgument,
                          fmt::format("ResonatorBase: {} couplings and {} biases for {} cells",
                                      base_.couplings.size(), base_.biases.size(), n));
    }
    const std::uint64_t per_batch = options.samples / options.batches;
    const std::uint64_t most = board_.description().max_samples_per_run;
    if (most > 0 && per_batch > most) {
      throw common::Error(common::ErrorKind::kInvalidArgument,
                          fmt::format("SweepOptions: samples / batches = {} is more than one run "
                                      "of this board takes ({}); raise batches",
                                      per_batch, most));
    }
  }

  std::int64_t base_code(const Setting& s) const override {
    switch (s.kind) {
      case SettingKind::kBias:
        return base_.biases[s.i];
      case SettingKind::kCoupling:
        return base_.couplings.get(s.i, s.j);
      default:
        return base_.noise;
    }
  }

  void program_base(common::Deadline deadline) override {
    state_ = base_;
    board_.program_couplings(state_.couplings, deadline);
    board_.program_biases(state_.biases, deadline);
    board_.set_noise(state_.noise, deadline);
  }

  void write(const Setting& s, std::int64_t code, common::Deadline deadline) override {
    switch (s.kind) {
      case SettingKind::kBias:
        state_.biases[s.i] = static_cast<std::int16_t>(code);
        board_.program_biases(state_.biases, deadline);
        break;
      case SettingKind::kCoupling:
        state_.couplings.set(s.i, s.j, static_cast<std::int16_t>(code));
        board_.program_couplings(state_.couplings, deadline);
        break;
      default:
        state_.noise = static_cast<std::uint32_t>(code);
        board_.set_noise(state_.noise, deadline);
        break;
    }
  }

  bool measure(const SweepOptions& options, const std::vector<std::uint32_t>& observed,
               std::stop_token stop, SweepPoint& point) override {
    const driver::DeviceDescription& d = board_.description();
    const std::uint64_t most = d.max_samples_per_run > 0 ? d.max_samples_per_run : 1u << 20;
    for (std::uint64_t left = options.settle; left > 0;) {
      if (stop.stop_requested())
        return false;
      driver::RunRequest settle;
      settle.samples = std::min(left, most);
      board_.run(settle, common::Deadline::after(options.request_timeout));
      samples_run_ += settle.samples;
      left -= settle.samples;
    }
    const bool moments = d.has_capability(driver::capability::kSecondMoments);
    detail::BatchMeans means(observed.size());
    detail::BatchMeans variances(observed.size());
    std::vector<double> m(observed.size());
    std::vector<double> v(observed.size());
    for (std::uint32_t b = 0; b < options.batches; ++b) {
      if (stop.stop_requested())
        return false;
      driver::RunRequest request;
      request.samples = options.samples / options.batches;
      request.accumulate_products = moments;
      const driver::RunResult r =
          board_.run(request, common::Deadline::after(options.request_timeout));
      samples_run_ += request.samples;
      if (b == 0)
        point.device_tick = r.first_tick;
      point.samples += r.sample_count;
      point.clipped_samples += r.clipped_samples;
      const double n = static_cast<double>(r.sample_count);
      for (std::size_t k = 0; k < observed.size(); ++k) {
        const std::uint32_t c = observed[k];
        const double mean_code = r.mean_code(c);
        m[k] = r.mean_physical(c);
        if (moments) {
          const double square = static_cast<double>(r.product_sum(c, c)) / n;
          v[k] = std::max(0.0, square - mean_code * mean_code) * r.adc.lsb * r.adc.lsb;
        }
      }
      means.add(m);
      if (moments)
        variances.add(v);
    }
    point.device_time_s = static_cast<double>(point.device_tick) / d.tick_rate_hz;
    point.mean = means.means();
    point.mean_stderr = means.stderrs();
    if (moments) {
      point.variance = variances.means();
      point.variance_stderr = variances.stderrs();
    }
    return true;
  }

  void finish(SweepSummary& summary) override {
    summary.family = "resonator";
    summary.device_time_s =
        static_cast<double>(samples_run_) * board_.description().sample_period_s();
    summary.energy = ledger_since(board_, before_, 0.0, 0.0);
    if (!board_.description().has_capability(driver::capability::kSecondMoments))
      summary.warnings.push_back("the board cannot accumulate second moments: no variances");
  }

 private:
  driver::ResonatorBoard& board_;
  const ResonatorBase& base_;
  ResonatorBase state_;
  BoardSnapshot before_;
  std::uint64_t samples_run_ = 0;
};

}  // namespace

SweepSummary run_sweep(driver::ResonatorBoard& board, const ResonatorBase& base,
                       const SweepOptions& options, std::stop_token stop) {
  ResonatorTarget target(board, base);
  return detail::run(target, options, stop);
}

}  // namespace kelvin::runtime::sweep
