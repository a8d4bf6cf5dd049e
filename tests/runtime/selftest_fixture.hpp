// Shared by the self-test tests: run `kelvin selftest`'s library part on an emulated board by URI
// and list what failed as "check[subject]".
//
// Thread contract: plain functions.
#pragma once

#include <set>
#include <string>

#include "kelvin/driver/backends/backends.hpp"
#include "kelvin/runtime/selftest/selftest.hpp"

namespace kelvin::runtime::selftest::testing {

// Reduced run lengths for many boards in one test; the tolerances follow the sample counts.
inline Options quick_options() {
  Options o;
  o.samples = 16384;
  o.stream_samples = 2000;
  o.max_edge_rounds = 64;  // every edge of the small test lattices
  return o;
}

inline Summary run_selftest(const std::string& uri, const Options& options = quick_options()) {
  auto device = driver::backends::open(uri);
  if (device->description().family == driver::BoardFamily::kPbit) {
    driver::PbitBoard board(std::move(device));
    return run_pbit_selftest(board, options);
  }
  driver::ResonatorBoard board(std::move(device));
  return run_resonator_selftest(board, options);
}

inline std::set<std::string> failed_checks(const Summary& s) {
  std::set<std::string> out;
  for (const CheckResult& c : s.checks) {
    if (c.outcome == Outcome::kFail)
      out.insert(c.name());
  }
  return out;
}

}  // namespace kelvin::runtime::selftest::testing
