// Bring-up self-test of a board (`kelvin selftest`): checks, per board family, that says which
// part of a new board is broken, naming the cell, p-bit, pair or edge and by how much.
//
// Resonator boards (run_resonator_selftest), in this order:
//   link        Ping echoes its payload unchanged (since protocol v5).
//   registers   every register write (couplings, biases, noise, J4) is acknowledged.
//   noise       per cell: the variance of the ADC codes at b = 0 against D / a of the board's own
//               description (+ 1/12 code^2 of rounding).
//   adc_offset  per cell: the mean code at b = 0 against 0.
//   dac_gain    per cell: the mean's shift for a bias code against b / a (in ADC codes).
//   coupling    per pair: cell J's mean shift when pair I-J is coupled (A_IJ = c) and only I is
//               biased, against -c b / (a^2 - c^2). All pairs on boards up to 2 max_pair_rounds
//               cells (rounds of disjoint pairs, the circle method), else the pairs of the first
//               max_pair_rounds rounds: the summary says how many of how many.
//   counters    the runs' first ticks follow each other without a gap, no result was dropped.
//   stream      a stream through SampleStream (decimated by 8, averaged): contiguous sequence
//               numbers and ticks, nothing lost, produced == received + lost + buffered at the
//               end.
// p-bit boards (run_pbit_selftest), uncoupled unless stated:
//   link, registers as above.
//   readout       per p-bit: mean spin at h = 0 (beta = 1) against 0.
//   bias_dac      per p-bit: the swing of the mean spin between bias codes -40 and +40 at
//                 beta = 1/4 (2 tanh(10) = 2 on a healthy p-bit); below a swing of 1 (half) the
//                 bias DAC does not drive the p-bit (a functional threshold, plus 6 sigma).
//   noise         per p-bit: the bias response curve, mean spin at bias codes -4, -2, 2, 4
//                 (beta = 1/4) against tanh(beta b), the sigmoid the description implies; its
//                 width is the p-bit's noise (a noisy p-bit's curve is flatter). The level
//                 furthest off is reported.
//   coupling      per edge: <s_i s_j> of isolated edges of weight 6 against tanh(6 beta), on
//                 rounds of disjoint edges (all edges up to max_edge_rounds rounds).
//   counters      the runs' sweep indices follow each other, no result was dropped.
//   stream        skipped: p-bit boards do not stream.
// A cell (p-bit) that fails a check is not tested further, nor are its pairs: the failure names
// the broken part once.
//
// Tolerances: every statistical check passes when |measured - expected| <= sigmas x the standard
// error of the estimate (from the measured variance and the AR(1) correlation the programmed
// couplings imply; for p-bits the binomial error of independent sweeps) plus the allowance the
// board's description gives (ADC offset and gain, DAC gain and component spreads of
// imperfections=typical) plus half a code of rounding. At sigmas = 6 a Gaussian estimate falls
// outside by chance with probability 2e-9 per check (false_alarm_per_check).
//
// Thread contract: the run functions use the board from the calling thread only (the board's
// own thread contract applies); Summary and CheckResult are plain values.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kelvin/driver/pbit/pbit_board.hpp"
#include "kelvin/driver/resonator/resonator_board.hpp"
#include "kelvin/runtime/job_summary.hpp"
#include "kelvin/runtime/report.hpp"

namespace kelvin::runtime::selftest {

enum class Outcome { kPass, kFail, kSkip };
const char* to_string(Outcome outcome) noexcept;  // "pass", "fail", "skip"

struct CheckResult {
  std::string check;    // "noise", "dac_gain", "coupling", ...
  std::string subject;  // "board", "cell 3", "pair 1-2", "p-bit 5", "edge 4-5"
  Outcome outcome = Outcome::kSkip;
  std::optional<double> measured;
  std::optional<double> expected;
  std::optional<double> tolerance;  // pass when |measured - expected| <= tolerance
  std::string unit;                 // of measured, expected and tolerance
  std::string message;              // what was wrong and by how much, or why skipped
  double time_s = 0.0;              // wall time of the measurement behind the check

  // "noise[cell 3]"
  std::string name() const;
  // "FAIL noise[cell 3]: measured ..., expected ... +- ...: <message>"
  std::string line() const;
};

struct Options {
  // Resonator: ADC samples per measurement run (each run after a 1024-sample settle). Default
  // 65536: 0.07 s of board time; the standard error of a cell's variance is then 2.2%.
  std::uint64_t samples = 65536;
  // Resonator: rounds of disjoint pairs for the coupling check. Default 15: every pair of a
  // board up to 16 cells; larger boards test 15 rounds of cells / 2 pairs.
  std::uint32_t max_pair_rounds = 15;
  // Resonator: output samples the stream check receives (decimated by 8 where the board can,
  // so that its ring lasts 8x longer). Default 10000 (80 ms at 1 MS/s).
  std::uint64_t stream_samples = 10000;
  // p-bit: chains and sweeps per chain of each run (2 burn-in sweeps before). Defaults 16 and
  // 100: 1600 independent samples per p-bit, a mean spin's standard error at most 0.025.
  std::uint32_t chains = 16;
  std::uint64_t sweeps = 100;
  // p-bit: rounds of disjoint edges for the coupling check. Default 4 (every edge of a small
  // lattice; about a third of the default 70x70 degree-12 board's edges).
  std::uint32_t max_edge_rounds = 4;
  // Standard errors a statistical check may be off (before the allowances). Default 6.
  double sigmas = 6.0;
  // Deadline of each board request. Default 30 s.
  std::chrono::milliseconds timeout{30000};

  // Throws std::invalid_argument naming the field.
  void validate() const;
};

// The most checks a full report lists one by one.
inline constexpr std::size_t kMaxListedChecks = 200;

struct Summary : JobSummary {
  std::string family;  // "resonator", "pbit"
  std::vector<CheckResult> checks;
  std::uint64_t pairs_tested = 0;  // coupling checks run (pairs or edges)
  std::uint64_t pairs_total = 0;   // pairs (or edges) the board has
  double sigmas = 0.0;
  double false_alarm_per_check = 0.0;  // two-sided Gaussian tail at `sigmas`

  std::size_t count(Outcome outcome) const noexcept;
  bool passed() const noexcept { return count(Outcome::kFail) == 0; }
  // The failed checks' lines.
  std::vector<std::string> failures() const;

  ReportFields fields() const;
  // "selftest of S (resonator, 8 cells): PASS, 52 checks: 52 passed, 0 failed, 0 skipped"
  // (failures appended).
  std::string brief_report() const;
  // The fields, then one line per check (only those that did not pass when there are more
  // than kMaxListedChecks).
  std::string full_report() const;
};

// Throw std::invalid_argument for bad options; a board request that fails makes the checks
// that needed it fail with its error (the run goes on where it can).
Summary run_resonator_selftest(driver::ResonatorBoard& board, const Options& options = {});
Summary run_pbit_selftest(driver::PbitBoard& board, const Options& options = {});

}  // namespace kelvin::runtime::selftest
