// What a job spread over several ranks (collective.hpp) adds to its Summary: how many ranks and
// boards took part, the job's modelled device time (the slowest board's: the boards run side by
// side), the time and bytes spent in collective operations, and the energy of all boards
// together. Each rank's Summary keeps its own board's JobSummary fields (serial, device time,
// energy, warnings); its `scale_out` block holds the group's.
//
// Thread contract: plain value types; gather_scale_out() is a collective operation (every rank
// calls it, once, at the end of the job).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kelvin/common/deadline.hpp"
#include "kelvin/runtime/collective.hpp"
#include "kelvin/runtime/job_summary.hpp"

namespace kelvin::runtime {

struct ScaleOutSummary {
  int ranks = 1;
  int rank = 0;
  std::vector<std::string> boards;  // each rank's label (Collective::label()), by rank
  // Modelled device time of the job: the largest over the ranks' boards (they run concurrently),
  // and their sum (board-seconds).
  double device_time_s = 0.0;
  double device_time_sum_s = 0.0;
  // Wall time inside collective operations: this rank's, and the largest over the ranks. It
  // includes waiting for slower ranks (load imbalance), not only moving bytes.
  double communication_time_s = 0.0;
  double communication_time_max_s = 0.0;
  std::uint64_t collective_operations = 0;  // this rank's (the same on every rank)
  std::uint64_t collective_bytes = 0;       // contributed by all ranks together
  // Every board's ledger summed (the rank's own is in JobSummary::energy).
  EnergyLedger energy;

  ReportFields fields() const;
  // "4 ranks, device 1.2 ms (slowest board), communication 0.3 ms (max over ranks)"
  std::string brief() const;
};

// The group's block from every rank's JobSummary (this rank's `job`) and the collective's stats
// up to now. Collective: every rank calls it once, at the end.
ScaleOutSummary gather_scale_out(Collective& group, const JobSummary& job,
                                 common::Deadline deadline);

}  // namespace kelvin::runtime
