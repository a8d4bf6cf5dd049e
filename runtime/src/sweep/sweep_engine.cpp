// The loop every sweep shares (sweep_engine.hpp): plan, hard limits, ramps, points, restore.
#include "sweep_engine.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "kelvin/common/error.hpp"
#include "kelvin/common/logging.hpp"

namespace kelvin::runtime::sweep::detail {

namespace {

using Clock = std::chrono::steady_clock;

std::shared_ptr<spdlog::logger> logger() {
  return common::logger("kelvin.runtime");
}

// One axis, planned against the board: its grid in codes, limits and step.
struct AxisPlan {
  Setting setting;
  driver::CodeScale scale;
  std::vector<std::int64_t> codes;  // per grid value
  std::int64_t base = 0;
  std::int64_t max_step = 0;  // codes; 0: no limit
};

template <typename T>
const T* find_for(const std::vector<T>& list, const Setting& setting) {
  for (const T& entry : list) {
    if (Setting::parse(entry.setting) == setting)
      return &entry;
  }
  return nullptr;
}

AxisPlan plan_axis(const Axis& axis, const Target& target, const SweepOptions& options) {
  AxisPlan plan;
  plan.setting = Setting::parse(axis.setting);
  plan.scale = scale_of(plan.setting, target.description());
  const driver::CodeScale& s = plan.scale;
  const std::string name = plan.setting.name();
  double lo = s.min_value();
  double hi = s.max_value();
  std::string which = fmt::format("the board's range [{}, {}] {}", lo, hi, s.unit);
  if (const Limit* limit = find_for(options.limits, plan.setting)) {
    lo = std::max(lo, limit->min);
    hi = std::min(hi, limit->max);
    which = fmt::format(
        "the hard limit [{}, {}] {} (the board's range [{}, {}] narrowed by the "
        "limit [{}, {}])",
        lo, hi, s.unit, s.min_value(), s.max_value(), limit->min, limit->max);
  }
  const auto code_lo = static_cast<std::int64_t>(std::ceil((lo - s.offset) / s.lsb - 1e-9));
  const auto code_hi = static_cast<std::int64_t>(std::floor((hi - s.offset) / s.lsb + 1e-9));
  if (lo > hi || code_lo > code_hi) {
    throw common::Error(common::ErrorKind::kOutOfRange,
                        fmt::format("{}: {} holds no code", name, which));
  }
  const std::vector<double> values = axis.values();
  for (std::size_t k = 0; k < values.size(); ++k) {
    if (!(values[k] >= lo && values[k] <= hi)) {
      throw common::Error(common::ErrorKind::kOutOfRange,
                          fmt::format("{} = {} {} (value {} of {}) is outside {}; nothing was "
                                      "applied",
                                      name, values[k], s.unit, k + 1, values.size(), which));
    }
    plan.codes.push_back(std::clamp(s.to_code(values[k]), code_lo, code_hi));
  }
  plan.base = target.base_code(plan.setting);
  if (plan.base < code_lo || plan.base > code_hi) {
    throw common::Error(common::ErrorKind::kOutOfRange,
                        fmt::format("{}: the base configuration's value {} {} is outside {} (the "
                                    "sweep starts and ends there); nothing was applied",
                                    name, s.to_physical(plan.base), s.unit, which));
  }
  if (const StepLimit* step = find_for(options.max_steps, plan.setting)) {
    plan.max_step = static_cast<std::int64_t>(std::floor(step->max_step / s.lsb + 1e-9));
    if (plan.max_step < 1) {
      throw common::Error(common::ErrorKind::kInvalidArgument,
                          fmt::format("{}: max step {} {} is below one code ({} {})", name,
                                      step->max_step, s.unit, s.lsb, s.unit));
    }
  }
  return plan;
}

class Writer {
 public:
  Writer(Target& target, const SweepOptions& options, SweepSummary& summary, Clock::time_point t0)
      : target_(target), options_(options), summary_(summary), t0_(t0) {}

  // Ramps `plan`'s setting from `current` to `to`; false if stopped first (`current` is what the
  // board holds then).
  bool go(const AxisPlan& plan, std::int64_t& current, std::int64_t to, std::int64_t point,
          const std::stop_token* stop) {
    const std::vector<std::int64_t> steps = ramp(current, to, plan.max_step);
    for (std::size_t k = 0; k < steps.size(); ++k) {
      if (stop != nullptr && stop->stop_requested())
        return false;
      target_.write(plan.setting, steps[k], common::Deadline::after(options_.request_timeout));
      current = steps[k];
      const bool last = k + 1 == steps.size();
      summary_.applied.push_back({plan.setting.name(), steps[k], plan.scale.to_physical(steps[k]),
                                  last ? point : -1,
                                  std::chrono::duration<double>(Clock::now() - t0_).count()});
      ++summary_.writes;
      if (!last)
        ++summary_.ramp_writes;
    }
    return true;
  }

 private:
  Target& target_;
  const SweepOptions& options_;
  SweepSummary& summary_;
  Clock::time_point t0_;
};

}  // namespace

std::vector<std::int64_t> ramp(std::int64_t from, std::int64_t to, std::int64_t max_step) {
  if (from == to)
    return {};
  const std::int64_t distance = to - from;
  const std::int64_t size = distance < 0 ? -distance : distance;
  const std::int64_t n = max_step > 0 ? (size + max_step - 1) / max_step : 1;
  std::vector<std::int64_t> codes;
  codes.reserve(static_cast<std::size_t>(n));
  // Rounding is monotone, so consecutive codes differ by at most ceil(size / n) <= max_step.
  for (std::int64_t k = 1; k <= n; ++k) {
    codes.push_back(from + static_cast<std::int64_t>(
                               std::llround(static_cast<double>(distance) * static_cast<double>(k) /
                                            static_cast<double>(n))));
  }
  return codes;
}

SweepSummary run(Target& target, const SweepOptions& options, std::stop_token stop) {
  options.validate();
  target.check(options);
  const auto t0 = Clock::now();
  SweepSummary summary;
  summary.started_unix_s =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  summary.serial = target.description().serial;
  summary.cells = target.cells();
  summary.settle = options.settle;
  summary.batches = options.batches;
  summary.samples_per_point = options.samples / options.batches * options.batches;
  summary.points_planned = options.point_count();
  std::vector<AxisPlan> plans;
  for (const Axis& axis : options.axes) {
    plans.push_back(plan_axis(axis, target, options));
    summary.settings.push_back(plans.back().setting.name());
    summary.units.push_back(plans.back().scale.unit);
    summary.axis_points.push_back(static_cast<std::uint32_t>(plans.back().codes.size()));
  }
  summary.observed = options.observe;
  if (summary.observed.empty()) {
    summary.observed.resize(target.cells());
    std::iota(summary.observed.begin(), summary.observed.end(), 0u);
  }
  for (const std::uint32_t c : summary.observed) {
    if (c >= target.cells()) {
      throw common::Error(
          common::ErrorKind::kInvalidArgument,
          fmt::format("SweepOptions: observe lists cell {} (the board has {})", c, target.cells()));
    }
  }

  // Nothing was written until here: every refusal above leaves the board untouched.
  target.program_base(common::Deadline::after(options.request_timeout));
  std::vector<std::int64_t> current;
  for (const AxisPlan& plan : plans)
    current.push_back(plan.base);
  Writer writer(target, options, summary, t0);
  const auto restore = [&] {
    for (std::size_t k = 0; k < plans.size(); ++k)
      writer.go(plans[k], current[k], plans[k].base, -1, nullptr);
    summary.restored = true;
  };
  try {
    const std::size_t inner = plans.size() == 2 ? plans[1].codes.size() : 1;
    for (std::uint64_t p = 0; p < summary.points_planned && !summary.interrupted; ++p) {
      SweepPoint point;
      point.index = p;
      const std::size_t at[2] = {p / inner, p % inner};
      for (std::size_t k = 0; k < plans.size() && !summary.interrupted; ++k) {
        const std::int64_t code = plans[k].codes[at[k]];
        summary.interrupted =
            !writer.go(plans[k], current[k], code, static_cast<std::int64_t>(p), &stop);
        point.set_codes.push_back(code);
        point.set_values.push_back(plans[k].scale.to_physical(code));
      }
      if (summary.interrupted)
        break;
      point.wall_s = std::chrono::duration<double>(Clock::now() - t0).count();
      if (!target.measure(options, summary.observed, stop, point)) {
        summary.interrupted = true;
        break;
      }
      summary.points.push_back(std::move(point));
      summary.points_done = summary.points.size();
      logger()->debug("point {} of {} measured", summary.points_done, summary.points_planned);
      if (options.on_point)
        options.on_point(SweepProgress{summary.points_done, summary.points_planned});
    }
    if (summary.interrupted)
      logger()->info("sweep stopped after {} of {} points", summary.points_done,
                     summary.points_planned);
  } catch (...) {
    if (options.restore) {
      try {
        restore();
      } catch (const std::exception& e) {
        logger()->error("restoring the base configuration after a failure failed too: {}",
                        e.what());
      }
    }
    throw;
  }
  if (options.restore) {
    try {
      restore();
    } catch (const std::exception& e) {
      summary.warnings.push_back(
          fmt::format("the swept settings could not be restored to the base: {}", e.what()));
    }
  }
  target.finish(summary);
  if (summary.interrupted) {
    summary.warnings.push_back(fmt::format("interrupted: {} of {} points measured",
                                           summary.points_done, summary.points_planned));
  }
  summary.wall_time_s = std::chrono::duration<double>(Clock::now() - t0).count();
  return summary;
}

}  // namespace kelvin::runtime::sweep::detail
