// Sampling an Ising model on a p-bit board: program its codes (ising_model.hpp), set one beta or
// a per-sweep beta schedule, run the chains and return the model's means and the correlation
// of every model edge, estimated over every sample_every-th sweep of every chain, each with a
// standard error, and mixing diagnostics (split R-hat, effective sample size) that say when
// those error bars cannot be trusted. What `kelvin sample` runs (without --tempering;
// parallel_tempering.hpp is the other job).
//
// Error bars. The board returns sums over all chains, so the job records every sample (bits of
// the whole lattice, ceil(lattice nodes / 8) bytes each, in as many board runs as the record
// limit needs; the chains' trajectories are the same as in one run) and reduces them on the host
// to per-chain sums (runtime/src/pbit/chain_statistics.hpp has the formulas):
//   chains >= 2 (ErrorBars::kAuto, kBetweenChains): the spread of the chains' means, Student-t
//     with chains - 1 degrees of freedom;
//   one chain (kAuto, kBatchMeans): batch means, `batches` per chain, batches - 1 dof (with C
//     chains and kBatchMeans: pooled within chains, C (batches - 1) dof);
//   kNone, a board without sample_record, or more than max_record_bytes to record: no error bars
//     and no diagnostics (one run, as before; a warning says why).
// A mean or correlation that never changed in any chain has no error bar (see the summary's
// `frozen`).
//
// Mixing. Split R-hat over the chains' halves (over one chain's quarters) and the batch-means
// effective sample size (ESS) of every mean and correlation; the summary reports the worst and
// warns above kSplitRhatLimit or below kEssPerChainLimit per chain (Vehtari, Gelman, Simpson,
// Carpenter and Buerkner, "Rank-normalization, folding, and localization: an improved R-hat",
// Bayesian Analysis 16(2), 2021: R-hat < 1.01 and ESS > 100 per chain). A chain that never left
// one mode cannot be seen by any within-chain check: only more chains (or tempering) can.
//
// Thread contract: sample_ising() uses the board exclusively for its duration; one thread at a
// time per board. Options, results and summaries are plain value types.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "kelvin/driver/device_description.hpp"
#include "kelvin/driver/pbit/pbit_board.hpp"
#include "kelvin/runtime/calibration/board_calibration.hpp"
#include "kelvin/runtime/job_summary.hpp"
#include "kelvin/runtime/pbit/ising_model.hpp"

namespace kelvin::runtime {

// Where the standard errors come from (see above).
enum class ErrorBars { kAuto, kBetweenChains, kBatchMeans, kNone };
const char* to_string(ErrorBars error_bars) noexcept;  // "auto", "chains", "batches", "none"

// Warning thresholds of the summary (Vehtari et al. 2021, cited above), and the relative error
// of a realized beta (code * step) beyond which the summary warns.
inline constexpr double kSplitRhatLimit = 1.01;
inline constexpr double kEssPerChainLimit = 100.0;
inline constexpr double kBetaRelativeErrorLimit = 0.01;

struct IsingSamplingOptions {
  // Gibbs sweeps per chain after the burn-in. Default 1000; range [1, 2^32].
  std::uint64_t sweeps = 1000;
  // About this many samples in total: sample_every = max(1, floor(sweeps * chains / samples)),
  // capped at sweeps. 0 (default): every sweep of every chain.
  std::uint64_t samples = 0;
  // Sweeps before sampling starts. Default 100; at most 2^32.
  std::uint64_t burn_in_sweeps = 100;
  // Independent chains, side by side on the board. Default 1; range [1, 100000] here, and at
  // most the board's max_chains (64 on the emulator), checked by validate(board) before any
  // device work.
  std::uint32_t chains = 1;
  // Inverse temperature in the board's coupling units, rounded to its beta code (step: the
  // board's beta lsb, 1/256 on the emulator). Default 1. A beta > 0 that rounds to code 0 (the
  // uniform law) is refused; one realized more than kBetaRelativeErrorLimit off is warned about.
  double beta = 1.0;
  // Beta per sweep, burn-in included (the last one holds); empty (default): `beta` throughout.
  // Each entry is checked as `beta` is. At most the board's max_schedule_length entries.
  std::vector<double> beta_schedule;
  // Where the error bars come from. Default kAuto (between chains with >= 2 chains, else batch
  // means). kBetweenChains needs chains >= 2.
  ErrorBars error_bars = ErrorBars::kAuto;
  // Batches per chain, for batch-means error bars and for the ESS. Default 20 (19 dof with one
  // chain); range [2, 1000]; fewer when a chain has fewer samples.
  std::uint32_t batches = 20;
  // Most bytes of recorded samples the job may move over the link for its error bars
  // (samples * ceil(lattice nodes / 8)); above it the job runs without error bars and warns.
  // Default 64 MiB (about 1.6 s at USB 2.0's 40 MB/s); range [0, 2^40].
  std::uint64_t max_record_bytes = std::uint64_t{64} << 20;
  // Total deadline. Default 60 s.
  std::chrono::milliseconds timeout = std::chrono::seconds(60);
  // Which calibration applies (calibration/board_calibration.hpp): the p-bits' sigmoid offsets
  // and gains correct the bias codes (AppliedCalibration::correct_pbit_biases; couplings are
  // not corrected). Default: looked up by serial.
  runtime::calibration::CalibrationSelection calibration;

  // Throws common::Error(kInvalidArgument) naming the first bad field.
  void validate() const;
  // validate(), then what `board` allows: chains <= max_chains, at most max_schedule_length
  // schedule entries, every beta within the beta code range and not rounding to code 0 unless
  // it is 0. Throws common::Error(kInvalidArgument) naming the field and the board's limit.
  void validate(const driver::PbitDescription& board) const;
};

struct IsingSamplingSummary : JobSummary {
  std::uint32_t nodes = 0;  // the model's
  std::uint32_t edges = 0;  // the model's
  // Lattice nodes the board updates on every sweep of every chain: all of them (nodes the model
  // does not use are free, uncoupled spins), so the ledger's node updates count them all.
  std::uint32_t nodes_swept = 0;
  std::uint64_t sweeps = 0;
  std::uint64_t burn_in_sweeps = 0;
  std::uint32_t chains = 0;
  std::uint32_t sample_every = 0;
  // Beta asked for and realized (with a schedule: its last entry, the one that holds), the
  // board's beta step, and the largest |realized - asked| / asked over the schedule.
  double beta_given = 0.0;
  double beta_used = 0.0;
  std::uint32_t beta_code = 0;
  double beta_step = 0.0;
  double beta_relative_error = 0.0;
  std::uint64_t schedule_length = 0;  // 1 without a schedule
  double schedule_first_beta = 0.0;   // realized
  std::uint64_t samples = 0;          // over all chains
  std::uint64_t runs = 0;             // board runs
  std::uint64_t recorded_bytes = 0;   // of samples recorded for the error bars

  // Error bars: kAuto etc. as given ("auto") and used ("chains", "batches" or "none"), what the
  // standard errors are, their degrees of freedom and the batches per chain.
  std::string error_bars_given = "auto";
  std::string error_bars_used = "none";
  std::string stderr_method;
  std::optional<std::uint64_t> stderr_dof;
  std::uint32_t batches = 0;
  // Mixing: the largest split R-hat over every mean and correlation and which one it is (empty:
  // not computable; an infinite R-hat, every half-chain constant but not all alike, is reported
  // as absent with the reason in split_rhat_worst), the sequences it compared (chains x 2, or 4
  // quarters of one chain), the smallest ESS and which, and how many quantities never changed.
  std::optional<double> split_rhat_max;
  std::string split_rhat_worst;
  std::uint32_t split_rhat_sequences = 0;
  std::optional<double> ess_min;
  std::string ess_worst;
  std::uint64_t frozen = 0;
  // device_time_s (JobSummary): sweeps at the board's nominal sweep rate. energy: node updates
  // of every swept lattice node (nodes_swept per chain per sweep), codes written (the whole
  // lattice program, schedule reloads), node values read (nodes_swept per sample), link bytes;
  // the GPU comparison samples only the model's nodes and edges.

  ReportFields fields() const;
  std::string brief_report() const;
  std::string full_report() const;
};

struct IsingSamplingResult {
  std::vector<double> mean;  // <s_i> per model node
  // (i, j, <s_i s_j>) per model edge, in the model's order.
  std::vector<std::tuple<std::uint32_t, std::uint32_t, double>> edge_correlations;
  // Standard errors, split R-hats and ESS, one per mean and per edge correlation; NaN where
  // absent (no error bars, a frozen quantity, too few samples); R-hat +inf when every half-chain
  // was constant but not all alike.
  std::vector<double> mean_stderr;
  std::vector<double> mean_split_rhat;
  std::vector<double> mean_ess;
  std::vector<double> edge_correlation_stderr;
  std::vector<double> edge_split_rhat;
  std::vector<double> edge_ess;
  IsingSamplingSummary summary;
};

// Throws common::Error: kInvalidArgument for bad options (including chains or betas the board
// cannot run, before any device work) or a model map_to_lattice() refuses, kNotSupported/
// kOutOfRange as map_to_lattice() and the board do, kProtocol when the board's sums disagree
// with its own records, kTimeout at the deadline.
IsingSamplingResult sample_ising(driver::PbitBoard& board, const IsingModel& model,
                                 const IsingSamplingOptions& options = {});

}  // namespace kelvin::runtime
