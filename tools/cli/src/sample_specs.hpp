// The beta specifications of `kelvin sample`:
//   --beta-schedule "b0,b1,..." (sweep k uses entry min(k, size - 1), so the last one holds) or
//     "FROM:TO:SWEEPS", a linear anneal whose sweep k < SWEEPS uses
//     FROM + (TO - FROM) k / (SWEEPS - 1), then TO;
//   --tempering BMIN:BMAX:R, R replicas on a geometric ladder from BMIN to BMAX;
//   --error-bars auto|chains|batches|none (runtime::ErrorBars).
// Malformed specifications are usage errors (exit code 2).
//
// Thread contract: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "kelvin/runtime/pbit/ising_sampling.hpp"

namespace kelvin::tools::cli {

// The geometric ladder of --tempering BMIN:BMAX:R.
std::vector<double> parse_tempering(const std::string& spec);
// The beta of every sweep of --beta-schedule, at most max_length of them.
std::vector<double> parse_beta_schedule(const std::string& spec, std::size_t max_length);
// --error-bars: "auto", "chains", "batches" or "none".
runtime::ErrorBars parse_error_bars(const std::string& name);

}  // namespace kelvin::tools::cli
