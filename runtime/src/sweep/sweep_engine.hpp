// The loop every sweep shares (sweep/sweep.hpp): the plan of each axis (codes, hard limits, step
// limits), writes with ramps, points, cancellation and the restore. A board family supplies a
// Target: how to program its base, write one setting and measure one point.
//
// Thread contract: as run_sweep(): one thread per board for the sweep's duration.
#pragma once

#include <cstdint>
#include <stop_token>
#include <vector>

#include "kelvin/common/deadline.hpp"
#include "kelvin/runtime/sweep/sweep.hpp"

namespace kelvin::runtime::sweep::detail {

class Target {
 public:
  virtual ~Target() = default;
  virtual const driver::DeviceDescription& description() const = 0;
  // The cells (nodes) a point can measure.
  virtual std::uint32_t cells() const = 0;
  // Checks the options against the board before any write (throws kInvalidArgument).
  virtual void check(const SweepOptions& options) const = 0;
  // The base configuration's code of `setting`.
  virtual std::int64_t base_code(const Setting& setting) const = 0;
  virtual void program_base(common::Deadline deadline) = 0;
  virtual void write(const Setting& setting, std::int64_t code, common::Deadline deadline) = 0;
  // Settles and measures the observed cells into `point` (mean, variance, samples, device
  // tick and time); false if `stop` was requested before it finished (the point is dropped).
  virtual bool measure(const SweepOptions& options, const std::vector<std::uint32_t>& observed,
                       std::stop_token stop, SweepPoint& point) = 0;
  // The job's totals: family, device time and energy.
  virtual void finish(SweepSummary& summary) = 0;
};

// The intermediate codes and the target written to go from `from` to `to` in equal steps of at
// most `max_step` codes (0: no limit, `to` alone); empty if from == to.
std::vector<std::int64_t> ramp(std::int64_t from, std::int64_t to, std::int64_t max_step);

SweepSummary run(Target& target, const SweepOptions& options, std::stop_token stop);

}  // namespace kelvin::runtime::sweep::detail
