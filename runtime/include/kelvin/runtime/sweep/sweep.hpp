// Sweeps of one or two board settings (what `kelvin sweep` runs): program a base configuration,
// then for every point of a 1-D or 2-D grid apply the settings, let the board settle and measure,
// recording every point (the codes and physical values applied, the measurement with standard
// errors, wall and device time). Settings (setting.hpp names them):
//   resonator  bias:C (V/us), coupling:I-J (1/us, sets A_ij and A_ji), noise (V^2/us);
//   p-bit      bias:C (coupling units J), beta (1/J).
// Values are physical (value = offset + lsb * code, kelvin/driver/code_scale.hpp) and rounded to
// the nearest code; each point records both.
//
// Safety, enforced here and not only by the CLI:
//   hard limits  a setting may only take values inside the board's own DAC range (its
//                description), narrowed by SweepOptions::limits. Every grid point and the base
//                value are checked before anything is written: a point outside refuses the
//                whole sweep with common::Error(kOutOfRange) naming the setting and the point.
//   step limits  SweepOptions::max_steps bounds the change of a setting between two consecutive
//                writes. A larger change is RAMPED: the library writes intermediate values in
//                equal steps no larger than the limit (from the base to the first point, between
//                points, and back to the base at the end). Every write is in the result's
//                `applied` log, ramp steps included.
//   restore      with SweepOptions::restore (default true) the sweep ends by ramping the swept
//                settings back to the base configuration, also after a cancel or an error in a
//                measurement (best effort: a failing restore is logged and reported).
//
// Measurement: `batches` consecutive board runs per point (warm start, after `settle` discarded
// samples or sweeps), each the mean of samples/batches samples; a point's mean is the mean of the
// batch means and its standard error their spread / sqrt(batches) (batch means: valid when a
// batch is much longer than the correlation time, 1/A_ii samples on a resonator, one sweep on an
// uncoupled p-bit). A resonator point also has each cell's variance (pooled within batches) and
// its standard error from the batch variances; a p-bit point has the magnetization (mean spin of
// the observed nodes) and its standard error.
//
// Cancellation: `stop` is polled before every write, every batch and every point; a sweep asked
// to stop returns the points it finished with `interrupted` set (then restores).
//
// Thread contract: a sweep uses the board exclusively for its duration; one thread at a time per
// board. `stop` may be requested from any thread (or a signal handler through std::stop_source's
// thread-safe request_stop()). Options, results and summaries are plain value types.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <stop_token>
#include <string>
#include <vector>

#include "kelvin/driver/pbit/pbit_board.hpp"
#include "kelvin/driver/resonator/resonator_board.hpp"
#include "kelvin/runtime/job_summary.hpp"
#include "kelvin/runtime/sweep/setting.hpp"

namespace kelvin::runtime::sweep {

// One swept setting: `points` values from `start` to `stop` inclusive, evenly spaced (points = 1:
// start only). Set either points (>= 1) or step (> 0, then points = floor(|stop - start| / step
// + 1e-9) + 1, the last value may fall short of stop).
struct Axis {
  std::string setting;  // "bias:0", "coupling:0-1", "noise", "beta" (setting.hpp)
  double start = 0.0;
  double stop = 0.0;
  std::uint32_t points = 0;  // default 0: from step
  double step = 0.0;         // default 0: from points

  std::uint32_t point_count() const;  // after validate()
  std::vector<double> values() const;
};

// The user's hard limit of a setting, in physical units: [min, max] within the board's range.
struct Limit {
  std::string setting;
  double min = 0.0;
  double max = 0.0;
};

// The largest change of a setting between consecutive writes, in physical units (> 0).
struct StepLimit {
  std::string setting;
  double max_step = 0.0;
};

// The configuration the sweep programs first and returns to. Resonator: every coupling, bias and
// the noise code; p-bit: the lattice program and beta.
struct ResonatorBase {
  driver::SymmetricCodes couplings{0};
  std::vector<std::int16_t> biases;
  std::uint32_t noise = 0;
  // Independent relaxing cells: diagonal `diagonal_code`, no off-diagonal coupling, biases 0.
  static ResonatorBase independent_cells(std::uint32_t cells, std::int16_t diagonal_code,
                                         std::uint32_t noise_code);
};
struct PbitBase {
  driver::LatticeProgram lattice;  // empty: all weights and biases 0
  std::uint32_t beta_code = 256;   // default beta 1
};

// Where a sweep is after each point (for progress bars).
struct SweepProgress {
  std::uint64_t points_done = 0;
  std::uint64_t points_total = 0;
};

struct SweepOptions {
  // One or two axes; with two, axis 0 is the outer loop (its value changes least often).
  std::vector<Axis> axes;
  // User hard limits (each setting at most once; need not be swept). Default none: the board's
  // DAC range alone.
  std::vector<Limit> limits;
  // Step limits (each setting at most once). Default none: values are written directly.
  std::vector<StepLimit> max_steps;
  // Samples (resonator: output samples; p-bit: sweeps of each chain) discarded after a point's
  // settings are written, before measuring. Default 1000; range [0, 2^32].
  std::uint64_t settle = 1000;
  // Samples measured per point (resonator: output samples; p-bit: sweeps of each chain), split
  // into `batches` runs. Default 20000; range [batches, 2^32].
  std::uint64_t samples = 20000;
  // Batches per point for the standard errors. Default 20; range [2, 1000].
  std::uint32_t batches = 20;
  // p-bit chains per run (more chains: more samples per sweep). Default 8; [1, board max].
  std::uint32_t chains = 8;
  // Cells (nodes) measured; empty (default): every cell of the board.
  std::vector<std::uint32_t> observe;
  // Ramp the swept settings back to the base configuration at the end. Default true.
  bool restore = true;
  // Deadline of each board request (a write or one batch). Default 10 s.
  std::chrono::milliseconds request_timeout = std::chrono::seconds(10);
  // Called after every finished point (default empty: nothing). Results do not depend on it.
  std::function<void(const SweepProgress&)> on_point;

  // Throws common::Error(kInvalidArgument) naming the first bad field (setting names are parsed
  // here; cell indices are checked against the board by the sweep).
  void validate() const;
  std::uint64_t point_count() const;  // product of the axes' points
};

// One write of one setting.
struct AppliedWrite {
  std::string setting;
  std::int64_t code = 0;
  double value = 0.0;
  std::int64_t point = -1;  // the grid point it applies; -1: a ramp step or the restore
  double wall_s = 0.0;      // since the sweep started
};

struct SweepPoint {
  std::uint64_t index = 0;              // in grid order
  std::vector<double> set_values;       // per axis, physical (after rounding to codes)
  std::vector<std::int64_t> set_codes;  // per axis
  std::vector<double> mean;             // per observed cell: V (resonator) or spin (p-bit)
  std::vector<double> mean_stderr;      //
  std::vector<double> variance;         // resonator only: V^2
  std::vector<double> variance_stderr;  //
  double magnetization = 0.0;           // p-bit only: mean spin of the observed nodes
  double magnetization_stderr = 0.0;    //
  std::uint64_t samples = 0;            // measured (p-bit: over all chains)
  std::uint64_t clipped_samples = 0;    // resonator: samples at the ADC rails
  double wall_s = 0.0;                  // when measuring began, since the sweep started
  std::uint64_t device_tick = 0;        // the board's tick (p-bit: sweep) of the first sample
  double device_time_s = 0.0;           // device_tick in seconds
};

struct SweepSummary : JobSummary {
  std::string family;                      // "resonator" or "pbit"
  std::vector<std::string> settings;       // per axis
  std::vector<std::string> units;          // per axis
  std::vector<std::uint32_t> axis_points;  // per axis
  std::vector<std::uint32_t> observed;     // cells (nodes) measured
  std::uint64_t points_planned = 0;
  std::uint64_t points_done = 0;
  bool interrupted = false;  // stopped before the last point
  bool restored = false;     // the swept settings are back at the base configuration
  std::uint64_t settle = 0;
  std::uint64_t samples_per_point = 0;
  std::uint32_t batches = 0;
  std::uint64_t writes = 0;       // setting writes (ramp steps and restore included)
  std::uint64_t ramp_writes = 0;  // of them, intermediate values of a ramp
  double started_unix_s = 0.0;    // wall clock when the sweep started
  std::vector<SweepPoint> points;
  std::vector<AppliedWrite> applied;

  std::string brief_report() const;
  std::string full_report() const;
  // The summary's own fields (the points and the writes are tables, listed by the two below).
  ReportFields fields() const;
  // Point k as fields ("index", the axes' "set_value_<n>" and "set_code_<n>" (n = 1, 2), "mean",
  // "mean_stderr", ... in the units of the board): one row of the CLI's JSON "points" and CSV.
  ReportFields point_fields(std::size_t k) const;
  // Write k as fields: one element of the CLI's JSON "applied".
  ReportFields write_fields(std::size_t k) const;
};

// Both program `base` first (unless the options' checks fail: then nothing is written), sweep,
// and restore. Throw common::Error(kInvalidArgument) for bad options or settings the board does
// not have, Error(kOutOfRange) for a point outside the hard limits (before any write), and the
// board's errors (after restoring as far as possible).
SweepSummary run_sweep(driver::ResonatorBoard& board, const ResonatorBase& base,
                       const SweepOptions& options, std::stop_token stop = {});
SweepSummary run_sweep(driver::PbitBoard& board, const PbitBase& base, const SweepOptions& options,
                       std::stop_token stop = {});

}  // namespace kelvin::runtime::sweep
