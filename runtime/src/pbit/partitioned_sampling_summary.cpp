// PartitionedSamplingOptions::validate() and the summary's report (partitioned_sampling.hpp).
#include <fmt/format.h>

#include "kelvin/runtime/pbit/partitioned_sampling.hpp"
#include "option_checks.hpp"

namespace kelvin::runtime {

const char* to_string(PartitionSchedule schedule) noexcept {
  switch (schedule) {
    case PartitionSchedule::kAlternating:
      return "alternating";
    case PartitionSchedule::kConcurrent:
      return "concurrent";
  }
  return "?";
}

void PartitionedSamplingOptions::validate() const {
  const detail::OptionChecks check("PartitionedSamplingOptions");
  check.in_range("sweeps", sweeps, std::uint64_t{1}, std::uint64_t{1} << 32);
  check.in_range("burn_in_sweeps", burn_in_sweeps, std::uint64_t{0}, std::uint64_t{1} << 32);
  check.in_range("chains", chains, 1u, 100000u);
  check.positive("beta", beta);
  check.in_range("exchange_interval", exchange_interval, 1u, 1000000u);
  if (schedule != PartitionSchedule::kAlternating && schedule != PartitionSchedule::kConcurrent)
    check.fail("schedule is neither alternating nor concurrent");
  check.timeout(timeout);
}

ReportFields PartitionedSamplingSummary::fields() const {
  return with_job_fields({
      field("nodes", "model nodes", nodes, "", "all ranks'"),
      field("edges", "model edges", edges, "", "all ranks'"),
      field("schedule", "schedule", schedule, "",
            schedule == "alternating" ? "exact: one colour sweeps, the other is held"
                                      : "every board at once, boundary up to an interval stale"),
      field("exchange_interval", "exchange interval", exchange_interval, "sweeps"),
      field("local_nodes", "nodes on this rank", local_nodes),
      field("boundary_nodes", "boundary nodes", boundary_nodes, "",
            "all ranks': nodes with a neighbour on another rank"),
      field("cross_edges", "cross edges", cross_edges, "", "edges between ranks"),
      field("copies_fit", "copies that fit", copies_fit, "",
            "of this rank's part, side by side on its lattice"),
      field("chains", "chains", chains, "", "one copy each"),
      field("sweeps", "sweeps per chain", sweeps, "", "after the burn-in, rounded up"),
      field("burn_in", "burn-in sweeps", burn_in_sweeps, "", "rounded up"),
      field("sweeps_run", "sweeps run", sweeps_run, "", "by this rank's board"),
      field("schedule_device_time_s", "device time along the schedule", schedule_device_time_s, "s",
            "every phase at the sweep rate, held phases included"),
      field("samples_per_chain", "samples per chain", samples_per_chain, "",
            "joint states after every sweep of a phase"),
      field("exchanges", "exchanges", exchanges, "", "boundary gathers"),
      field("exchange_bytes", "exchange bytes", exchange_bytes, "", "sent by all ranks"),
      field("beta_used", "beta used", beta_used),
      field("stderr_method", "stderr", stderr_method),
      field("stderr_dof", "stderr degrees of freedom", stderr_dof),
      group("scale_out", "scale-out", scale_out.fields()),
  });
}

std::string PartitionedSamplingSummary::brief_report() const {
  return fmt::format(
             "{} nodes over {} ranks ({} here, {} on the boundary, {} cross edges), {} "
             "schedule, exchange every {} sweeps: {} chains x {} samples, {} exchanges of {} "
             "bytes in all; {}",
             nodes, scale_out.ranks, local_nodes, boundary_nodes, cross_edges, schedule,
             exchange_interval, chains, samples_per_chain, exchanges, exchange_bytes,
             scale_out.brief()) +
         warnings_suffix();
}

std::string PartitionedSamplingSummary::full_report() const {
  return render_report("Partitioned sampling summary", fields());
}

}  // namespace kelvin::runtime
