// sample_partitioned(): the phases (board runs of the active ranks), the boundary exchanges and
// the moments' sums; the plan and layout are in partition_plan.cpp, the summary's report in
// partitioned_sampling_summary.cpp.
#include "kelvin/runtime/pbit/partitioned_sampling.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <span>

#include <fmt/format.h>

#include "boltzmann_detail.hpp"
#include "kelvin/common/error.hpp"
#include "kelvin/common/logging.hpp"
#include "partition_plan.hpp"
#include "pbit_job.hpp"

namespace kelvin::runtime {

using common::Error;
using common::ErrorKind;

namespace {

// FNV-1a over everything every rank must agree on.
class InputHash {
 public:
  template <typename T>
  void add(const T& v) {
    const auto* p = reinterpret_cast<const unsigned char*>(&v);
    for (std::size_t k = 0; k < sizeof(T); ++k)
      h_ = (h_ ^ p[k]) * 0x100000001b3ULL;
  }
  std::uint64_t value() const noexcept { return h_; }

 private:
  std::uint64_t h_ = 0xcbf29ce484222325ULL;
};

void check_replicated(Collective& group, const IsingModel& model, const std::vector<int>& owner,
                      const PartitionedSamplingOptions& o, common::Deadline deadline) {
  InputHash h;
  h.add(model.nodes);
  for (const auto& [i, j, w] : model.edges) {
    h.add(i);
    h.add(j);
    h.add(w);
  }
  for (const int b : model.bias)
    h.add(b);
  for (const int r : owner)
    h.add(r);
  h.add(o.sweeps);
  h.add(o.burn_in_sweeps);
  h.add(o.chains);
  h.add(o.beta);
  h.add(o.exchange_interval);
  h.add(o.schedule);
  const std::uint64_t mine[] = {h.value()};
  const auto all = group.gather_all(std::span<const std::uint64_t>(mine), deadline,
                                    "partitioned sampling: inputs");
  for (std::size_t r = 1; r < all.size(); ++r) {
    if (all[r] != all[0]) {
      throw Error(ErrorKind::kInvalidArgument,
                  fmt::format("partitioned sampling: rank {} was given a different model, owner "
                              "vector or options than rank 0 (every rank must pass the same)",
                              r));
    }
  }
}

// One rank's state through the job.
class PartitionedRun {
 public:
  PartitionedRun(Collective& group, driver::PbitBoard& board, const IsingModel& model,
                 const PartitionedSamplingOptions& o, common::Deadline deadline)
      : group_(group), board_(board), model_(model), o_(o), deadline_(deadline) {}

  void prepare(const std::vector<int>& owner) {
    // A phase keeps every sweep's spins of every chain (one byte per global node) on the host.
    constexpr std::uint64_t kMaxFrameBytes = std::uint64_t{1} << 28;
    if (std::uint64_t{o_.chains} * o_.exchange_interval * model_.nodes > kMaxFrameBytes) {
      throw Error(ErrorKind::kInvalidArgument,
                  fmt::format("partitioned sampling: chains x exchange_interval x nodes = {} x {} "
                              "x {} bytes per phase exceeds {} MiB: use a shorter interval",
                              o_.chains, o_.exchange_interval, model_.nodes, kMaxFrameBytes >> 20));
    }
    plan_ = detail::plan_partition(model_, owner, group_.size(), group_.rank(), o_.schedule);
    layout_ = detail::lay_out_part(model_, plan_, board_, o_.chains);
    beta_code_ = board_.beta_code(o_.beta);
    if (beta_code_ == 0) {
      throw Error(ErrorKind::kInvalidArgument,
                  fmt::format("partitioned sampling: beta = {:g} rounds to code 0", o_.beta));
    }
    const std::uint32_t codes[] = {beta_code_};
    board_.set_beta_schedule(codes, deadline_);
    held_.assign(std::size_t{o_.chains} * model_.nodes, 0);
    sums_.assign(std::size_t{o_.chains} * (model_.nodes + model_.edges.size()), 0);
  }

  // `sweeps` sweeps of the active ranks, then one exchange; sums the joint states if asked.
  void phase(bool active, std::uint64_t sweeps, bool accumulate) {
    const std::uint32_t n = model_.nodes;
    const std::uint32_t chains = o_.chains;
    frame_.assign(std::size_t{chains} * sweeps * n, 0);
    const auto& mine = plan_.nodes_of[static_cast<std::size_t>(group_.rank())];
    group_.checked("partitioned sampling: sweep", deadline_, [&] {
      if (active)
        sweep(sweeps, mine);
    });
    if (!active)
      hold(mine, sweeps);
    // The active ranks' boundary spins after every sweep, [chain][sweep][boundary node].
    const auto& boundary = plan_.boundary_of[static_cast<std::size_t>(group_.rank())];
    std::vector<std::int8_t> out;
    if (active) {
      out.reserve(std::size_t{chains} * sweeps * boundary.size());
      for (std::size_t ct = 0; ct < std::size_t{chains} * sweeps; ++ct) {
        for (const std::uint32_t g : boundary)
          out.push_back(frame_[ct * n + g]);
      }
    }
    std::vector<std::size_t> counts;
    const auto all = group_.gather_all(std::span<const std::int8_t>(out), deadline_,
                                       "partitioned sampling: exchange", &counts);
    ++exchanges_;
    bytes_sent_ += out.size();
    std::size_t at = 0;
    for (int r = 0; r < group_.size(); ++r) {
      const std::size_t count = counts[static_cast<std::size_t>(r)];
      if (r != group_.rank()) {
        const auto& theirs = plan_.boundary_of[static_cast<std::size_t>(r)];
        if (count > 0) {
          for (std::size_t ct = 0; ct < std::size_t{chains} * sweeps; ++ct) {
            for (std::size_t b = 0; b < theirs.size(); ++b)
              frame_[ct * n + theirs[b]] = all[at + ct * theirs.size() + b];
          }
        } else {
          hold(theirs, sweeps);
        }
      }
      at += count;
    }
    if (accumulate)
      add_moments(sweeps);
    for (std::uint32_t c = 0; c < chains; ++c)
      std::memcpy(held_.data() + std::size_t{c} * n,
                  frame_.data() + (std::size_t{c} * sweeps + sweeps - 1) * n, n);
    samples_per_chain_ += accumulate ? sweeps : 0;
    schedule_sweeps_ += sweeps;
  }

  // The moments over every rank, and their between-chain standard errors.
  PhaseMoments moments() {
    std::vector<std::int64_t> totals = sums_;
    totals.push_back(static_cast<std::int64_t>(bytes_sent_));
    group_.sum(std::span<std::int64_t>(totals), deadline_, "partitioned sampling: moments");
    exchange_bytes_ = static_cast<std::uint64_t>(totals.back());
    totals.pop_back();
    std::vector<double> x(totals.size());
    for (std::size_t k = 0; k < totals.size(); ++k)
      x[k] = static_cast<double>(totals[k]) / static_cast<double>(samples_per_chain_);
    PhaseMoments m =
        detail::reduce_copies(x, o_.chains, model_.nodes, model_.edges.size(), samples_per_chain_);
    const auto never_changed = [](std::vector<double>& se, const std::vector<double>& v) {
      for (std::size_t k = 0; k < v.size(); ++k) {
        if (std::abs(v[k]) == 1.0)
          se[k] = std::numeric_limits<double>::quiet_NaN();
      }
    };
    never_changed(m.mean_stderr, m.mean);
    never_changed(m.correlation_stderr, m.correlation);
    return m;
  }

  const detail::PartitionPlan& plan() const noexcept { return plan_; }
  const detail::PartLayout& layout() const noexcept { return layout_; }
  std::uint32_t beta_code() const noexcept { return beta_code_; }
  std::uint64_t sweeps_run() const noexcept { return sweeps_run_; }
  std::uint64_t programs() const noexcept { return programs_; }
  std::uint64_t values_read() const noexcept { return values_read_; }
  std::uint64_t samples_per_chain() const noexcept { return samples_per_chain_; }
  std::uint64_t exchanges() const noexcept { return exchanges_; }
  std::uint64_t exchange_bytes() const noexcept { return exchange_bytes_; }
  std::uint64_t schedule_sweeps() const noexcept { return schedule_sweeps_; }

 private:
  // This rank's board: the boundary biases, then `sweeps` sweeps (in runs within the board's
  // record limit), every sweep's spins of every copy into the frame.
  void sweep(std::uint64_t sweeps, const std::vector<std::uint32_t>& mine) {
    const std::uint32_t n = model_.nodes;
    detail::write_boundary_biases(layout_, plan_, held_, n);
    board_.program_lattice(layout_.program, deadline_);
    ++programs_;
    const std::uint64_t per_run =
        std::max<std::uint64_t>(1, board_.pbit().max_record_bits / board_.nodes());
    for (std::uint64_t done = 0; done < sweeps;) {
      driver::SamplingRequest r;
      r.sweeps = std::min(per_run, sweeps - done);
      r.chains = 1;
      r.sample_every = 1;
      r.record_samples = true;
      r.reset_state = sweeps_run_ == 0;
      const driver::SamplingResult result = board_.sample(r, deadline_);
      for (std::uint64_t t = 0; t < r.sweeps; ++t) {
        for (std::uint32_t c = 0; c < o_.chains; ++c) {
          std::int8_t* f = frame_.data() + (std::size_t{c} * sweeps + done + t) * n;
          for (std::size_t k = 0; k < mine.size(); ++k)
            f[mine[k]] = static_cast<std::int8_t>(result.recorded_spin(t, layout_.place[c][k]));
        }
      }
      sweeps_run_ += r.sweeps;
      values_read_ += r.sweeps * board_.nodes();
      done += r.sweeps;
    }
  }

  // `nodes` keep their held values through the phase.
  void hold(const std::vector<std::uint32_t>& nodes, std::uint64_t sweeps) {
    const std::uint32_t n = model_.nodes;
    for (std::uint32_t c = 0; c < o_.chains; ++c) {
      for (std::uint64_t t = 0; t < sweeps; ++t) {
        std::int8_t* f = frame_.data() + (std::size_t{c} * sweeps + t) * n;
        for (const std::uint32_t g : nodes)
          f[g] = held_[std::size_t{c} * n + g];
      }
    }
  }

  void add_moments(std::uint64_t sweeps) {
    const std::uint32_t n = model_.nodes;
    const std::size_t stats = n + model_.edges.size();
    const auto& mine = plan_.nodes_of[static_cast<std::size_t>(group_.rank())];
    for (std::uint32_t c = 0; c < o_.chains; ++c) {
      std::int64_t* sum = sums_.data() + c * stats;
      for (std::uint64_t t = 0; t < sweeps; ++t) {
        const std::int8_t* f = frame_.data() + (std::size_t{c} * sweeps + t) * n;
        for (const std::uint32_t g : mine)
          sum[g] += f[g];
        for (const auto* list : {&plan_.internal_edges, &plan_.owned_cross}) {
          for (const std::uint32_t e : *list) {
            const auto& [i, j, w] = model_.edges[e];
            sum[n + e] += f[i] * f[j];
          }
        }
      }
    }
  }

  Collective& group_;
  driver::PbitBoard& board_;
  const IsingModel& model_;
  const PartitionedSamplingOptions& o_;
  common::Deadline deadline_;
  detail::PartitionPlan plan_;
  detail::PartLayout layout_;
  std::uint32_t beta_code_ = 0;
  std::vector<std::int8_t> held_;   // [chain][global node]: latest spins (own and neighbours')
  std::vector<std::int8_t> frame_;  // [chain][sweep][global node] of the current phase
  std::vector<std::int64_t> sums_;  // [chain][node, then edge]
  std::uint64_t sweeps_run_ = 0, programs_ = 0, values_read_ = 0;
  std::uint64_t samples_per_chain_ = 0, exchanges_ = 0, bytes_sent_ = 0, exchange_bytes_ = 0;
  std::uint64_t schedule_sweeps_ = 0;
};

std::uint64_t rounded_up(std::uint64_t sweeps, std::uint32_t interval) {
  return (sweeps + interval - 1) / interval * interval;
}

}  // namespace

PartitionedSamplingResult sample_partitioned(Collective& group, driver::PbitBoard& board,
                                             const IsingModel& model, const std::vector<int>& owner,
                                             const PartitionedSamplingOptions& options) {
  options.validate();
  const detail::PbitJob job(board, options.timeout);
  const common::Deadline deadline = job.deadline();
  if (group.label().empty())
    group.set_label(fmt::format("board {}", board.description().serial));
  check_replicated(group, model, owner, options, deadline);

  PartitionedRun run(group, board, model, options, deadline);
  group.checked("partitioned sampling: plan", deadline, [&] { run.prepare(owner); });
  const std::uint32_t interval = options.exchange_interval;
  const bool alternating = options.schedule == PartitionSchedule::kAlternating;
  const int colours = alternating ? std::min(group.size(), 2) : 1;
  const int colour = group.rank() % 2;
  run.phase(true, 1, false);  // the initial states, exchanged
  const std::uint64_t burn_rounds = rounded_up(options.burn_in_sweeps, interval) / interval;
  const std::uint64_t rounds = rounded_up(options.sweeps, interval) / interval;
  for (std::uint64_t round = 0; round < burn_rounds + rounds; ++round) {
    for (int active = 0; active < colours; ++active)
      run.phase(!alternating || active == colour, interval, round >= burn_rounds);
  }
  const PhaseMoments m = run.moments();

  PartitionedSamplingResult out;
  out.mean = m.mean;
  out.mean_stderr = m.mean_stderr;
  out.edge_correlation_stderr = m.correlation_stderr;
  for (std::size_t e = 0; e < model.edges.size(); ++e) {
    const auto& [i, j, w] = model.edges[e];
    out.edge_correlations.emplace_back(i, j, m.correlation[e]);
  }
  PartitionedSamplingSummary& s = out.summary;
  const detail::PartitionPlan& plan = run.plan();
  const detail::PartLayout& layout = run.layout();
  s.nodes = model.nodes;
  s.edges = static_cast<std::uint32_t>(model.edges.size());
  s.schedule = to_string(options.schedule);
  s.exchange_interval = interval;
  s.local_nodes = static_cast<std::uint32_t>(plan.nodes_of[std::size_t(group.rank())].size());
  s.boundary_nodes = plan.boundary_nodes;
  s.cross_edges = plan.cross_edges;
  s.copies_fit = layout.copies_fit;
  s.chains = options.chains;
  s.sweeps = rounds * interval;
  s.burn_in_sweeps = burn_rounds * interval;
  s.sweeps_run = run.sweeps_run();
  s.samples_per_chain = run.samples_per_chain();
  const double rate = board.pbit().sweep_rate_hz;
  s.schedule_device_time_s = rate > 0.0 ? static_cast<double>(run.schedule_sweeps()) / rate : 0.0;
  s.exchanges = run.exchanges();
  s.exchange_bytes = run.exchange_bytes();
  s.beta_used = board.pbit().beta.to_physical(std::int64_t{run.beta_code()});
  if (options.chains >= 2) {
    s.stderr_dof = options.chains - 1;
    s.stderr_method = fmt::format("spread of the {} chain means (Student-t, {} degrees of freedom)",
                                  options.chains, options.chains - 1);
  } else {
    s.stderr_method = "none: one chain";
    s.warnings.push_back(
        "one chain: no error bars (only one copy of a part fits its lattice, or chains = 1)");
  }
  if (!alternating && group.size() > 1) {
    s.warnings.push_back(fmt::format(
        "concurrent schedule: every board sweeps with its neighbours' spins up to {} sweep{} "
        "stale, which biases the law sampled; that bias grows with the interval and is not in "
        "the error bars (the alternating schedule is exact)",
        interval, interval == 1 ? "" : "s"));
  }
  const std::uint64_t local_edges = plan.internal_edges.size() + plan.owned_cross.size();
  PbitWork work;
  work.node_updates = std::uint64_t{board.nodes()} * run.sweeps_run();
  work.codes_written = run.programs() * (layout.program.weights.size() + board.nodes()) + 1;
  work.values_read = run.values_read();
  work.gpu_node_updates = std::uint64_t{s.local_nodes} * options.chains * run.sweeps_run();
  work.gpu_coupling_reads = 2 * local_edges * options.chains * run.sweeps_run();
  job.finish(s, run.sweeps_run(), work, 0.0);
  s.scale_out = gather_scale_out(group, s, deadline);
  auto log = common::logger("kelvin.runtime");
  log->info("partitioned sampling: {}", s.brief_report());
  for (const std::string& warning : s.warnings)
    log->warn("partitioned sampling: {}", warning);
  return out;
}

}  // namespace kelvin::runtime
