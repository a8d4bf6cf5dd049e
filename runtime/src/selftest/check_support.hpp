// What the per-family check runners share: judging a measurement against its expectation,
// timing, the link and counter checks, and the schedule of disjoint pairs.
//
// Thread contract: plain functions and values; a Recorder belongs to one run.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "kelvin/driver/device.hpp"
#include "kelvin/runtime/selftest/selftest.hpp"

namespace kelvin::runtime::selftest::detail {

// Collects the results of one run, and which subjects failed (not to be tested further).
class Recorder {
 public:
  explicit Recorder(Summary& summary) : summary_(summary) {}

  // Pass when |measured - expected| <= tolerance; the message says by how much it is off. A
  // failure marks `index` (the subject's cell or p-bit, if it has one) as broken.
  void judge(std::string check, std::string subject, double measured, double expected,
             double tolerance, std::string unit, double time_s,
             std::optional<std::uint32_t> index = std::nullopt);
  void fail(std::string check, std::string subject, std::string message, double time_s = 0.0);
  void pass(std::string check, std::string subject, std::string message, double time_s = 0.0);
  void skip(std::string check, std::string subject, std::string message);
  // Appends `note` to the last result's message.
  void annotate(const std::string& note) {
    if (!summary_.checks.empty())
      summary_.checks.back().message += note;
  }
  // Whether cell (p-bit) i failed a check so far: it is not tested further.
  bool broken(std::uint32_t i) const { return broken_.count(i) != 0; }

 private:
  void add(CheckResult result);

  Summary& summary_;
  std::set<std::uint32_t> broken_;
};

// Seconds since `start`.
double seconds_since(std::chrono::steady_clock::time_point start);

// The link check: a ping with a pattern payload (skipped on boards older than Ping, since protocol
// v5).
void check_link(driver::Device& device, Recorder& recorder, const Options& options);

// Two-sided standard normal tail beyond `sigmas`.
double two_sided_tail(double sigmas);

// Rounds of disjoint pairs of 0..n-1 by the circle method: round r holds n/2 pairs (n even) and
// the n - 1 rounds hold every pair once. At most `max_rounds` rounds.
std::vector<std::vector<std::pair<std::uint32_t, std::uint32_t>>> pair_rounds(
    std::uint32_t n, std::uint32_t max_rounds);

// A run's place on the board's clock, for the counters check.
struct RunMark {
  std::uint64_t first_tick = 0;
  std::uint64_t expected_first_tick = 0;  // what the run before it implies (0: first run)
  std::uint64_t overflow_count = 0;
};
// The counters check over the runs of a self-test.
void check_counters(const std::vector<RunMark>& runs, Recorder& recorder);

// Runs `measure`; a kelvin::common::Error fails check `check` on the board and returns false.
bool guarded(Recorder& recorder, const std::string& check, const std::function<void()>& measure);

}  // namespace kelvin::runtime::selftest::detail
