// Sampling an Ising model on a p-bit board: program its codes (ising_model.hpp), set one beta or
// a per-sweep beta schedule, run the chains and return the model's means and the correlation
// of every model edge, estimated over every sample_every-th sweep of every chain. What
// `kelvin sample` runs (without --tempering; parallel_tempering.hpp is the other job).
//
// Thread contract: sample_ising() uses the board exclusively for its duration; one thread at a
// time per board. Options, results and summaries are plain value types.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "kelvin/driver/pbit/pbit_board.hpp"
#include "kelvin/runtime/job_summary.hpp"
#include "kelvin/runtime/pbit/ising_model.hpp"

namespace kelvin::runtime {

struct IsingSamplingOptions {
  // Gibbs sweeps per chain after the burn-in. Default 1000; range [1, 2^32].
  std::uint64_t sweeps = 1000;
  // About this many samples in total: sample_every = max(1, floor(sweeps * chains / samples)),
  // capped at sweeps. 0 (default): every sweep of every chain.
  std::uint64_t samples = 0;
  // Sweeps before sampling starts. Default 100; at most 2^32.
  std::uint64_t burn_in_sweeps = 100;
  // Independent chains. Default 1; range [1, the board's max_chains].
  std::uint32_t chains = 1;
  // Inverse temperature in the board's coupling units (rounded to its beta code). Default 1.
  double beta = 1.0;
  // Beta per sweep, burn-in included (the last one holds); empty (default): `beta` throughout.
  std::vector<double> beta_schedule;
  // Total deadline. Default 60 s.
  std::chrono::milliseconds timeout = std::chrono::seconds(60);

  // Throws common::Error(kInvalidArgument) naming the first bad field.
  void validate() const;
};

struct IsingSamplingSummary : JobSummary {
  std::uint32_t nodes = 0;  // the model's
  std::uint64_t sweeps = 0;
  std::uint64_t burn_in_sweeps = 0;
  std::uint32_t chains = 0;
  std::uint32_t sample_every = 0;
  double beta = 0.0;  // realized (the beta that holds at the end of a schedule)
  std::uint32_t beta_code = 0;
  std::uint64_t schedule_length = 0;  // 1 without a schedule
  double schedule_first_beta = 0.0;   // realized
  std::uint64_t samples = 0;          // over all chains

  ReportFields fields() const;
  std::string brief_report() const;
  std::string full_report() const;
};

struct IsingSamplingResult {
  std::vector<double> mean;  // <s_i> per model node
  // (i, j, <s_i s_j>) per model edge, in the model's order.
  std::vector<std::tuple<std::uint32_t, std::uint32_t, double>> edge_correlations;
  IsingSamplingSummary summary;
};

// Throws common::Error: kInvalidArgument for bad options or a model map_to_lattice() refuses,
// kNotSupported/kOutOfRange as map_to_lattice() and the board do, kTimeout at the deadline.
IsingSamplingResult sample_ising(driver::PbitBoard& board, const IsingModel& model,
                                 const IsingSamplingOptions& options = {});

}  // namespace kelvin::runtime
