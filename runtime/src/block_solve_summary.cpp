#include <fmt/format.h>

#include "kelvin/runtime/block_solve_summary.hpp"

namespace kelvin::runtime {

ReportFields BlockSolveSummary::block_fields() const {
  return {
      field("unknowns", "unknowns", unknowns),
      field("block_size", "block size", block_size, "unknowns"),
      field("blocks", "blocks", blocks),
      field("backend", "block backend", backend, "", "board or digital"),
      field("iterations", "iterations", iterations),
      field("converged", "converged", converged),
      field("relative_residual", "relative residual", relative_residual, "", "||b - A x|| / ||b||"),
      field("residual_history", "residual history", residual_history, "", "", 2),
      field("block_solves", "block solves", block_solves),
      field("block_batches", "batches per block", block_batches),
      field("block_batch_relaxation_times", "batch length per block", block_batch_relaxation_times,
            "relaxation times"),
      field("block_auto_range", "auto-range per block", block_auto_range),
  };
}

ReportFields BlockSolveSummary::fields() const {
  ReportFields f = with_job_fields(block_fields());
  if (scale_out)
    f.push_back(group("scale_out", "scale-out", scale_out->fields()));
  return f;
}

std::string BlockSolveSummary::brief_report() const {
  return fmt::format(
             "n={} in {} blocks of {} ({}): {} iterations, relative residual {:.3g}{}, {} block "
             "solves, {:.3g} ms device time",
             unknowns, blocks, block_size, backend, iterations, relative_residual,
             converged ? "" : " (NOT converged)", block_solves, device_time_s * 1e3) +
         (scale_out ? "; " + scale_out->brief() : std::string()) + warnings_suffix();
}

std::string BlockSolveSummary::full_report() const {
  return render_report("Block solve summary", fields());
}

}  // namespace kelvin::runtime
