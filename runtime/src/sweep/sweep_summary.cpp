// SweepSummary's reports and field lists (sweep/sweep.hpp).
#include <fmt/format.h>

#include "kelvin/runtime/sweep/sweep.hpp"

namespace kelvin::runtime::sweep {

std::string SweepSummary::brief_report() const {
  std::string axes;
  for (std::size_t k = 0; k < settings.size(); ++k) {
    axes += fmt::format("{}{} ({} points, {})", k == 0 ? "" : " x ", settings[k], axis_points[k],
                        units[k]);
  }
  return fmt::format("sweep of {} on {}: {} of {} points{}, {} writes ({} ramp steps), {}", axes,
                     serial, points_done, points_planned, interrupted ? " (interrupted)" : "",
                     writes, ramp_writes,
                     restored ? "settings restored" : "settings left at the last point") +
         warnings_suffix();
}

ReportFields SweepSummary::fields() const {
  return with_job_fields({
      field("family", "board family", family),
      field("settings", "swept settings", settings, "", "axis 1 is the outer loop"),
      field("units", "their units", units),
      field("axis_points", "points per axis", axis_points),
      field("observed", "cells measured", observed),
      field("points_planned", "points planned", points_planned),
      field("points_done", "points measured", points_done),
      field("interrupted", "interrupted", interrupted, "", "stopped before the last point"),
      field("restored", "settings restored", restored, "", "back at the base configuration"),
      field("settle", "settle per point", settle, "", "samples (p-bit: sweeps) discarded"),
      field("samples_per_point", "samples per point", samples_per_point, "",
            "p-bit: sweeps of each chain"),
      field("batches", "batches per point", batches, "", "standard errors by batch means"),
      field("writes", "setting writes", writes, "", "ramp steps and restore included"),
      field("ramp_writes", "ramp steps", ramp_writes, "", "intermediate values of a step limit"),
      field("started_unix_s", "started", started_unix_s, "s", "Unix time", 13),
  });
}

ReportFields SweepSummary::point_fields(std::size_t k) const {
  const SweepPoint& p = points.at(k);
  ReportFields out{field("index", "index", p.index)};
  for (std::size_t a = 0; a < p.set_values.size(); ++a) {
    out.push_back(
        field(fmt::format("set_value_{}", a + 1), settings[a], p.set_values[a], units[a]));
    out.push_back(field(fmt::format("set_code_{}", a + 1), settings[a] + " code", p.set_codes[a]));
  }
  const bool pbit = family == "pbit";
  out.push_back(field("mean", "mean", p.mean, pbit ? "" : "V"));
  out.push_back(field("mean_stderr", "its standard error", p.mean_stderr, pbit ? "" : "V"));
  if (pbit) {
    out.push_back(field("magnetization", "magnetization", p.magnetization));
    out.push_back(field("magnetization_stderr", "its standard error", p.magnetization_stderr));
  } else {
    out.push_back(field("variance", "variance", p.variance, "V^2"));
    out.push_back(field("variance_stderr", "its standard error", p.variance_stderr, "V^2"));
    out.push_back(field("clipped_samples", "clipped samples", p.clipped_samples));
  }
  out.push_back(field("samples", "samples", p.samples));
  out.push_back(field("wall", "wall time", p.wall_s, "s", "since the sweep started"));
  out.push_back(field("device_tick", "device tick", p.device_tick));
  out.push_back(field("device_time", "device time", p.device_time_s, "s"));
  return out;
}

ReportFields SweepSummary::write_fields(std::size_t k) const {
  const AppliedWrite& w = applied.at(k);
  return {field("setting", "setting", w.setting), field("code", "code", w.code),
          field("value", "value", w.value), field("point", "point", w.point, "", "-1: a ramp step"),
          field("wall", "wall time", w.wall_s, "s")};
}

std::string SweepSummary::full_report() const {
  std::string out = render_report("Sweep summary", fields());
  for (std::size_t k = 0; k < points.size(); ++k)
    out += render_report(fmt::format("Point {}", points[k].index), point_fields(k));
  return out;
}

}  // namespace kelvin::runtime::sweep
