// What a block solve reports (block_solve.hpp): the shared job block plus the outer iteration's
// figures. Apart from block_solve.hpp so that SolveSummary (solve.hpp), which carries it on the
// block path, does not need the block solver's interface.
//
// Thread contract: plain value types; safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kelvin/runtime/job_summary.hpp"
#include "kelvin/runtime/scale_out.hpp"

namespace kelvin::runtime {

struct BlockSolveSummary : JobSummary {
  std::size_t unknowns = 0;
  std::uint32_t block_size = 0;
  std::size_t blocks = 0;
  std::string backend;  // "board" or "digital"
  int iterations = 0;
  bool converged = false;
  double relative_residual = 0.0;        // ||b - A x|| / ||b||, computed digitally
  std::vector<double> residual_history;  // after each iteration, starting with 1 at x = 0
  std::uint64_t block_solves = 0;
  // Each block solve's acquisition as used (board backend): batches of so many relaxation
  // times, auto-ranging on or off.
  int block_batches = 0;
  double block_batch_relaxation_times = 0.0;
  bool block_auto_range = false;
  // A solve spread over ranks (block_solve(group, ...)): the group's figures (ranks, boards,
  // slowest board's device time, communication, all boards' energy). The fields above that
  // count block work (block_solves, the job block's device time and energy) are this rank's;
  // unknowns, blocks, iterations and residuals are the whole system's, equal on every rank.
  std::optional<ScaleOutSummary> scale_out;

  // The block solve's own fields (without the shared job block).
  ReportFields block_fields() const;
  // block_fields() and the job block.
  ReportFields fields() const;
  std::string brief_report() const;
  std::string full_report() const;
};

}  // namespace kelvin::runtime
