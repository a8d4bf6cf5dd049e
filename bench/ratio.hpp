// Same-run ratios for kelvin_bench: each bench file names the pairs (measured benchmark, baseline
// benchmark) whose ratio it wants printed and written to the JSON report, next to the benchmarks
// themselves. ratio_main.cpp reads the list after the run.
//
// Thread contract: registration happens during static initialization (one thread); ratios() is
// read by main() after that. Not for concurrent use.
#pragma once

#include <string>
#include <vector>

namespace kelvin::bench {

// `measured` and `baseline` are benchmark name prefixes; an argument suffix ("/64", "/64/2") is
// matched on both sides, so one entry covers every size. A baseline without the suffix is used
// when no suffixed one exists. `what` says in a few words what the ratio shows.
struct RatioPair {
  std::string measured;
  std::string baseline;
  std::string what;
};

std::vector<RatioPair>& ratio_pairs();

bool add_ratio(std::string measured, std::string baseline, std::string what);

}  // namespace kelvin::bench

#define KELVIN_BENCH_CONCAT_INNER(a, b) a##b
#define KELVIN_BENCH_CONCAT(a, b) KELVIN_BENCH_CONCAT_INNER(a, b)
// Registers a ratio at namespace scope: KELVIN_BENCH_RATIO("BM_X", "BM_BaselineX", "what").
#define KELVIN_BENCH_RATIO(measured, baseline, what)                                      \
  [[maybe_unused]] static const bool KELVIN_BENCH_CONCAT(kelvin_bench_ratio_, __LINE__) = \
      ::kelvin::bench::add_ratio(measured, baseline, what)
