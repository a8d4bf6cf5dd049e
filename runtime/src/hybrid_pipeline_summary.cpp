// Options checks and reports of the hybrid pipeline (hybrid_pipeline.hpp), apart from the worker
// so that this file does not pay for Asio.
#include <algorithm>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "kelvin/common/error.hpp"
#include "kelvin/runtime/hybrid_pipeline.hpp"

namespace kelvin::runtime {

using common::Error;
using common::ErrorKind;

void HybridPipelineOptions::validate() const {
  if (timeout.count() <= 0) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("HybridPipelineOptions: timeout = {} ms (> 0)", timeout.count()));
  }
}

void PipelinedTrainingOptions::validate() const {
  if (steps < 1 || steps > 1'000'000'000) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("PipelinedTrainingOptions: steps = {} (allowed 1..1e9)", steps));
  }
  pipeline.validate();
}

double HybridPipelineStats::overlap_fraction() const noexcept {
  if (board_busy_s <= 0.0)
    return 0.0;
  return std::clamp(overlap_s / board_busy_s, 0.0, 1.0);
}

std::string HybridPipelineStats::brief_report() const {
  return fmt::format(
      "{} steps run ({} failed, {} cancelled); board busy {:.3g} s, idle {:.3g} s; host waited "
      "{:.3g} s; overlap {:.0f}%",
      steps_run, steps_failed, steps_cancelled, board_busy_s, board_idle_s, host_wait_s,
      100.0 * overlap_fraction());
}

std::string HybridPipelineStats::full_report() const {
  std::string r;
  auto line = [&r](std::string_view name, const std::string& value) {
    r += fmt::format("  {:<28} {}\n", name, value);
  };
  r += "Hybrid pipeline\n";
  line("submitted", fmt::format("{}", submitted));
  line("steps run", fmt::format("{}", steps_run));
  line("steps failed", fmt::format("{} (the error is in the step's future)", steps_failed));
  line("steps cancelled", fmt::format("{} (staged at shutdown)", steps_cancelled));
  line("board busy", fmt::format("{:.6g} s (inside the estimator)", board_busy_s));
  line("board idle", fmt::format("{:.6g} s (between steps, waiting for the host)", board_idle_s));
  line("host wait", fmt::format("{:.6g} s (blocked in submit() or wait())", host_wait_s));
  line("overlap", fmt::format("{:.6g} s = {:.3f} of busy (board busy, host not blocked)", overlap_s,
                              overlap_fraction()));
  return r;
}

std::string PipelinedTrainingResult::brief_report() const {
  const double per_step = steps > 0 ? wall_time_s / static_cast<double>(steps) : 0.0;
  return fmt::format("{} steps {} in {:.3g} s ({:.3g} ms per step); {}", steps,
                     overlap ? "pipelined (gradients one step stale)" : "sequential", wall_time_s,
                     per_step * 1e3, stats.brief_report());
}

std::string PipelinedTrainingResult::full_report() const {
  std::string r = "Pipelined training\n";
  r += fmt::format("  {:<28} {}\n", "steps", steps);
  r += fmt::format("  {:<28} {}\n", "mode",
                   overlap ? "pipelined: step k+1's gradient at theta_k (one step stale)"
                           : "sequential: gradient at theta_k");
  r += fmt::format("  {:<28} {:.6g} s\n", "wall time", wall_time_s);
  r += stats.full_report();
  return r;
}

}  // namespace kelvin::runtime
