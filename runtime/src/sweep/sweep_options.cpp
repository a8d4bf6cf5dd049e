// SweepOptions and Axis (sweep/sweep.hpp): grids and the checks made before any board work.
#include <algorithm>
#include <cmath>
#include <set>

#include <fmt/format.h>

#include "../option_checks.hpp"
#include "kelvin/runtime/sweep/sweep.hpp"

namespace kelvin::runtime::sweep {

namespace {
constexpr std::uint32_t kMaxAxisPoints = 100000;
constexpr std::uint64_t kMaxPoints = 1000000;
}  // namespace

std::uint32_t Axis::point_count() const {
  if (points > 0)
    return points;
  if (!(step > 0.0))
    return 0;
  const double n = std::floor(std::abs(stop - start) / step + 1e-9) + 1.0;
  return n > kMaxAxisPoints ? kMaxAxisPoints + 1 : static_cast<std::uint32_t>(n);
}

std::vector<double> Axis::values() const {
  const std::uint32_t n = point_count();
  std::vector<double> out(n);
  if (n == 1) {
    out[0] = start;
    return out;
  }
  const double direction = stop >= start ? 1.0 : -1.0;
  const double spacing = points > 0 ? (stop - start) / (n - 1) : direction * step;
  for (std::uint32_t k = 0; k < n; ++k)
    out[k] = start + spacing * k;
  if (points > 0)
    out[n - 1] = stop;  // exactly, whatever the rounding of the spacing
  return out;
}

std::uint64_t SweepOptions::point_count() const {
  std::uint64_t n = axes.empty() ? 0 : 1;
  for (const Axis& axis : axes)
    n *= axis.point_count();
  return n;
}

void SweepOptions::validate() const {
  const detail::OptionChecks check("SweepOptions");
  if (axes.empty() || axes.size() > 2)
    check.fail(fmt::format("axes holds {} axes (allowed 1 or 2)", axes.size()));
  std::set<std::string> swept;
  for (std::size_t k = 0; k < axes.size(); ++k) {
    const Axis& a = axes[k];
    const std::string name = Setting::parse(a.setting).name();
    if (!swept.insert(name).second)
      check.fail(fmt::format("axes[{}].setting = {} (swept twice)", k, name));
    if (!std::isfinite(a.start) || !std::isfinite(a.stop))
      check.fail(fmt::format("axes[{}] runs from {} to {} (finite values)", k, a.start, a.stop));
    if ((a.points > 0) == (a.step > 0.0))
      check.fail(
          fmt::format("axes[{}]: points = {}, step = {} (set exactly one)", k, a.points, a.step));
    if (a.step > 0.0 && !std::isfinite(a.step))
      check.fail(fmt::format("axes[{}].step = {} (finite)", k, a.step));
    check.in_range(fmt::format("axes[{}].points", k), a.point_count(), 1u, kMaxAxisPoints);
  }
  if (point_count() > kMaxPoints)
    check.fail(fmt::format("the grid has {} points (at most {})", point_count(), kMaxPoints));
  std::set<std::string> limited;
  for (std::size_t k = 0; k < limits.size(); ++k) {
    const Limit& l = limits[k];
    if (!limited.insert(Setting::parse(l.setting).name()).second)
      check.fail(fmt::format("limits[{}].setting = {} (limited twice)", k, l.setting));
    if (!std::isfinite(l.min) || !std::isfinite(l.max) || l.min > l.max)
      check.fail(fmt::format("limits[{}] = [{}, {}] (finite, min <= max)", k, l.min, l.max));
  }
  std::set<std::string> stepped;
  for (std::size_t k = 0; k < max_steps.size(); ++k) {
    const StepLimit& s = max_steps[k];
    if (!stepped.insert(Setting::parse(s.setting).name()).second)
      check.fail(fmt::format("max_steps[{}].setting = {} (given twice)", k, s.setting));
    check.positive(fmt::format("max_steps[{}].max_step", k), s.max_step);
  }
  check.in_range<std::uint64_t>("settle", settle, 0, std::uint64_t{1} << 32);
  check.in_range<std::uint32_t>("batches", batches, 2, 1000);
  check.in_range<std::uint64_t>("samples", samples, batches, std::uint64_t{1} << 32);
  check.in_range<std::uint32_t>("chains", chains, 1, 100000);
  check.timeout(request_timeout);
  std::vector<std::uint32_t> sorted = observe;
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
    check.fail("observe lists a cell twice");
}

}  // namespace kelvin::runtime::sweep
