// Sweeps on a p-bit board (sweep/sweep.hpp): the base lattice and beta, writes of bias:C and
// beta, and per-point mean spins and magnetization from batches of warm-started sampling runs.
#include <fmt/format.h>

#include "batch_means.hpp"
#include "kelvin/common/error.hpp"
#include "kelvin/runtime/energy.hpp"
#include "sweep_engine.hpp"

namespace kelvin::runtime::sweep {

namespace {

class PbitTarget final : public detail::Target {
 public:
  PbitTarget(driver::PbitBoard& board, const PbitBase& base)
      : board_(board), base_(base), bytes_before_(board.device().stats().bytes_received) {
    if (base_.lattice.weights.empty() && base_.lattice.biases.empty()) {
      base_.lattice.weights.assign(board.pbit().edge_count, 0);
      base_.lattice.biases.assign(board.nodes(), 0);
    }
  }

  const driver::DeviceDescription& description() const override { return board_.description(); }
  std::uint32_t cells() const override { return board_.nodes(); }

  void check(const SweepOptions& options) const override {
    if (base_.lattice.weights.size() != board_.pbit().edge_count ||
        base_.lattice.biases.size() != board_.nodes()) {
      throw common::Error(common::ErrorKind::kInvalidArgument,
                          fmt::format("PbitBase: {} weights and {} biases for a lattice of {} "
                                      "edges and {} nodes",
                                      base_.lattice.weights.size(), base_.lattice.biases.size(),
                                      board_.pbit().edge_count, board_.nodes()));
    }
    if (options.chains > board_.pbit().max_chains) {
      throw common::Error(common::ErrorKind::kInvalidArgument,
                          fmt::format("SweepOptions: chains = {} (this board runs at most {})",
                                      options.chains, board_.pbit().max_chains));
    }
  }

  std::int64_t base_code(const Setting& s) const override {
    return s.kind == SettingKind::kBias ? std::int64_t{base_.lattice.biases[s.i]}
                                        : std::int64_t{base_.beta_code};
  }

  void program_base(common::Deadline deadline) override {
    state_ = base_;
    board_.program_lattice(state_.lattice, deadline);
    const std::uint32_t beta[] = {state_.beta_code};
    board_.set_beta_schedule(beta, deadline);
    codes_written_ += state_.lattice.weights.size() + state_.lattice.biases.size() + 1;
  }

  void write(const Setting& s, std::int64_t code, common::Deadline deadline) override {
    if (s.kind == SettingKind::kBias) {
      state_.lattice.biases[s.i] = static_cast<std::int8_t>(code);
      board_.program_lattice(state_.lattice, deadline);
      codes_written_ += state_.lattice.weights.size() + state_.lattice.biases.size();
    } else {
      state_.beta_code = static_cast<std::uint32_t>(code);
      const std::uint32_t beta[] = {state_.beta_code};
      board_.set_beta_schedule(beta, deadline);
      ++codes_written_;
    }
  }

  bool measure(const SweepOptions& options, const std::vector<std::uint32_t>& observed,
               std::stop_token stop, SweepPoint& point) override {
    detail::BatchMeans means(observed.size());
    detail::BatchMeans magnetization(1);
    std::vector<double> m(observed.size());
    for (std::uint32_t b = 0; b < options.batches; ++b) {
      if (stop.stop_requested())
        return false;
      driver::SamplingRequest request;
      request.sweeps = options.samples / options.batches;
      request.chains = options.chains;
      request.burn_in_sweeps = b == 0 ? options.settle : 0;  // the settle: discarded sweeps
      const driver::SamplingResult r =
          board_.sample(request, common::Deadline::after(options.request_timeout));
      sweeps_ += request.sweeps + request.burn_in_sweeps;
      node_updates_ += (request.sweeps + request.burn_in_sweeps) * request.chains * board_.nodes();
      values_read_ += board_.nodes();
      if (b == 0)
        point.device_tick = r.first_tick;
      point.samples += r.sample_count;
      double total = 0.0;
      for (std::size_t k = 0; k < observed.size(); ++k) {
        m[k] = r.mean(observed[k]);
        total += m[k];
      }
      means.add(m);
      magnetization.add({total / static_cast<double>(observed.size())});
    }
    point.device_time_s = static_cast<double>(point.device_tick) / board_.pbit().sweep_rate_hz;
    point.mean = means.means();
    point.mean_stderr = means.stderrs();
    point.magnetization = magnetization.mean(0);
    point.magnetization_stderr = magnetization.stderr_of(0);
    return true;
  }

  void finish(SweepSummary& summary) override {
    summary.family = "pbit";
    summary.device_time_s = static_cast<double>(sweeps_) / board_.pbit().sweep_rate_hz;
    summary.energy = make_pbit_ledger(node_updates_, codes_written_, values_read_,
                                      board_.device().stats().bytes_received - bytes_before_,
                                      board_.pbit().degree);
  }

 private:
  driver::PbitBoard& board_;
  PbitBase base_;
  PbitBase state_;
  std::uint64_t bytes_before_ = 0;
  std::uint64_t sweeps_ = 0;
  std::uint64_t node_updates_ = 0;
  std::uint64_t codes_written_ = 0;
  std::uint64_t values_read_ = 0;
};

}  // namespace

SweepSummary run_sweep(driver::PbitBoard& board, const PbitBase& base, const SweepOptions& options,
                       std::stop_token stop) {
  PbitTarget target(board, base);
  return detail::run(target, options, stop);
}

}  // namespace kelvin::runtime::sweep
