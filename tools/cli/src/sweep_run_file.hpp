// What `kelvin sweep -o FILE.h5` puts under /data of its run file (docs/run-files.md), one row
// per measured point in grid order: set_values and set_codes [points x axes]; mean, mean_stderr
// and (resonator) variance, variance_stderr [points x observed cells]; (p-bit) magnetization,
// magnetization_stderr [points]; samples, device_time_s, wall_s [points]; and every write in
// order (ramp steps and the restore included): applied_codes, applied_values, applied_point
// [writes] (applied_point -1: a ramp step or the restore). An interrupted sweep has fewer rows
// than points_planned (the summary says so).
//
// Thread contract: a pure function of its arguments (it writes to the file given).
#pragma once

#include "kelvin/runtime/sweep/sweep.hpp"
#include "kelvin/tools/run_file/run_file.hpp"

namespace kelvin::tools::cli {

void write_sweep_data(run_file::RunFile& file, const runtime::sweep::SweepSummary& summary);

}  // namespace kelvin::tools::cli
