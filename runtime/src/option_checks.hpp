// The checks the jobs' Options::validate() make, in one wording: the first bad field throws
// common::Error(kInvalidArgument) "<Owner>: <field> = <value> (<what is allowed>)", for example
// "InverseOptions: batches = 2 (allowed 4..100000)".
//
// Thread contract: a plain value; its members are const and safe from any thread.
#pragma once

#include <chrono>
#include <cmath>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "kelvin/common/error.hpp"
#include "kelvin/runtime/system_checks.hpp"

namespace kelvin::runtime::detail {

class OptionChecks {
 public:
  explicit OptionChecks(std::string_view owner) : owner_(owner) {}

  [[noreturn]] void fail(const std::string& what) const {
    throw common::Error(common::ErrorKind::kInvalidArgument, fmt::format("{}: {}", owner_, what));
  }
  // An integer in [lo, hi].
  template <typename T>
  void in_range(std::string_view name, T value, T lo, T hi) const {
    if (value < lo || value > hi)
      fail(fmt::format("{} = {} (allowed {}..{})", name, value, lo, hi));
  }
  // A finite number in (lo, hi] (open_below) or [lo, hi].
  void in_interval(std::string_view name, double value, double lo, double hi,
                   bool open_below) const {
    const bool ok = std::isfinite(value) && (open_below ? value > lo : value >= lo) && value <= hi;
    if (!ok)
      fail(fmt::format("{} = {} (allowed {}{}, {}])", name, value, open_below ? "(" : "[", lo, hi));
  }
  // A finite number >= lo.
  void at_least(std::string_view name, double value, double lo) const {
    if (!(value >= lo) || !std::isfinite(value))
      fail(fmt::format("{} = {} (finite, >= {})", name, value, lo));
  }
  // A finite number > 0.
  void positive(std::string_view name, double value) const {
    if (!(value > 0.0) || !std::isfinite(value))
      fail(fmt::format("{} = {} (finite, > 0)", name, value));
  }
  void timeout(std::chrono::milliseconds value) const {
    if (value.count() <= 0)
      fail(fmt::format("timeout = {} ms (> 0)", value.count()));
  }

 private:
  std::string_view owner_;
};

// symmetry_tolerance, the same option of every resonator job: [0, kMaxSymmetryTolerance]
// (system_checks.hpp says why the bound).
inline void check_symmetry_tolerance(const OptionChecks& check, double symmetry_tolerance) {
  check.in_interval("symmetry_tolerance", symmetry_tolerance, 0.0, kMaxSymmetryTolerance, false);
}

// The block path's iteration options (SolveOptions and BlockSolveOptions share them).
inline void check_iteration(const OptionChecks& check, double tolerance, int max_iterations) {
  check.in_interval("tolerance", tolerance, 0.0, 1.0, true);
  if (tolerance >= 1.0)
    check.fail(fmt::format("tolerance = {} (allowed (0, 1))", tolerance));
  check.in_range("max_iterations", max_iterations, 1, 1000000);
}

}  // namespace kelvin::runtime::detail
