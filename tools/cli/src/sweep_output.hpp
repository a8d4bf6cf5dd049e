// What `kelvin sweep` prints and writes: the JSON object (the summary's fields, "brief", every
// point and every write), the text (the brief report and a table of the points) and the CSV
// file (one row per point; the same keys as the JSON points, a vector field becoming one column
// per observed cell, "mean_c3").
//
// Thread contract: pure functions (write_sweep_csv writes one file); safe from any thread.
#pragma once

#include <string>

#include "kelvin/runtime/sweep/sweep.hpp"
#include "kelvin/tools/cli/json_writer.hpp"

namespace kelvin::tools::cli {

Json sweep_json(const runtime::sweep::SweepSummary& summary);
std::string sweep_text(const runtime::sweep::SweepSummary& summary);
// Throws std::runtime_error naming the file if it cannot be written.
void write_sweep_csv(const std::string& path, const runtime::sweep::SweepSummary& summary);

}  // namespace kelvin::tools::cli
