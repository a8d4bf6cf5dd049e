// Parallel tempering (replica exchange) on p-bit boards, one or many, and the plain-Gibbs
// baseline it is measured against.
//
// A cold Gibbs chain on a frustrated Ising model gets stuck in local minima: a single-spin move
// out of one costs exp(-beta dE). Parallel tempering runs R replicas of the model at an
// ascending ladder of inverse temperatures beta_0 < ... < beta_{R-1} (the last one is the
// target) and, every few sweeps, proposes to exchange the states of temperature-adjacent
// replicas, accepting with
//     min(1, exp((beta_k - beta_{k+1}) (E_k - E_{k+1}))),
// E_k the energy of the state at beta_k. That keeps the product of the Boltzmann laws invariant
// (detailed balance), so the replica at beta_{R-1} still samples exp(-beta_{R-1} E), while hot
// replicas carry states over barriers down the ladder.
//
// On the board (capability per_chain_beta, since protocol v4): replicas are chains of one run, and
// StartSampling.chain_beta_codes tells each chain its beta. One run is sweeps_per_exchange
// sweeps of every chain, recording each chain's final state (sample_every = the run's sweeps;
// reset_state only on the first run, so the chains keep their states between runs). The host
// computes each state's energy (ising_energy.hpp), proposes swaps on the even pairs (0,1),
// (2,3), ... after even-numbered runs and on the odd pairs after odd-numbered ones, and a swap
// permutes which chain holds which beta code in the next run: no state is uploaded. The swap
// rule uses the REALIZED betas, code / 256 (Q8.8), because those are what the chains sample.
//
// Distributed (the overloads taking a Collective, collective.hpp; MPI in production): the R
// replicas (chains) of the GLOBAL ladder options.betas are dealt to the P ranks in contiguous
// ranges, rank r running chains [first_chain, first_chain + local_chains) on its own board (the
// first R mod P ranks one more; P > R is refused, and so is a share above a board's max_chains).
// After every run the ranks gather all R energies (one gather of 8 R bytes), so every rank holds
// the same values and makes the same swap and stop decisions with the same generator
// (swap_seed): a swap between chains on different ranks only changes which beta code each of
// those chains gets in the next run. No state crosses the network; only the best state, once, at
// the end (broadcast by the rank that holds it). Every board must realize the ladder with the
// same beta codes (checked at the start: a board with another beta step is refused, naming its
// rank). The samples at the target beta are the coldest replica's states, one per run, taken by
// whichever rank holds it then; their spin sums are added over the ranks at the end. It is ONE
// Markov chain over the product of the R replicas, exactly the single-board algorithm: its
// error bars are those of one chain (batch means of the coldest trace, or independent repeats
// over seeds), not R or P independent ones. With one rank (LocalCollective) it is the
// single-board job: the single-board functions are that case of the same code.
//
// Energies are those of the job's model (the program before any calibration correction), so
// every rank's energies of one state agree whatever its board's calibration.
//
// Sweeps are counted per chain, burn-in included; all chains sweep together, so a job of S
// sweeps on R chains costs S R node sweeps whatever the method. run_plain_gibbs() runs the same
// number of chains, all at the target beta, in the same runs, with the same budget, stop rule
// and energy checks, so the two compare apples to apples.
//
// Thread contract: the functions use their board exclusively while they run; one thread at a
// time may use a board. The distributed overloads are collective over `group`: every rank calls
// them with the same model (or program) and options, and its own board; a mismatch is refused
// (kInvalidArgument naming the first rank that differs from rank 0), and one rank's board failure
// becomes the same error on every rank, naming the rank and its board (Collective::checked),
// within options.timeout. Results and options are plain value types.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kelvin/driver/pbit/pbit_board.hpp"
#include "kelvin/runtime/calibration/board_calibration.hpp"
#include "kelvin/runtime/collective.hpp"
#include "kelvin/runtime/job_summary.hpp"
#include "kelvin/runtime/pbit/ising_model.hpp"
#include "kelvin/runtime/scale_out.hpp"

namespace kelvin::runtime {

// `replicas` inverse temperatures from beta_min to beta_max (both included) in constant
// ratio: beta_k = beta_min (beta_max / beta_min)^(k / (replicas - 1)). Constant ratios give
// roughly constant swap acceptance when the heat capacity varies slowly. Throws
// common::Error(kInvalidArgument) unless 0 < beta_min < beta_max (finite) and replicas >= 2.
std::vector<double> geometric_ladder(double beta_min, double beta_max, int replicas);

struct ParallelTemperingOptions {
  // Inverse temperatures (1/J, the board's coupling units), strictly ascending, >= 0, one
  // replica (chain) each, at least 2 and at most the board's max_chains (64 on the emulator)
  // per board (distributed: the global ladder; each rank runs its share). The last is the
  // target beta. Each is rounded to the board's nearest beta code; two that
  // round to the same code are refused. Default geometric_ladder(0.1, 1.0, 8).
  std::vector<double> betas = geometric_ladder(0.1, 1.0, 8);
  // Sweeps of every chain between exchange attempts (one board run). Default 10; range
  // [1, 2^20].
  std::uint32_t sweeps_per_exchange = 10;
  // Sweep budget per chain, burn-in included: the job stops once it is spent. Default 10,000;
  // range [1, 2^40].
  std::uint64_t max_sweeps = 10000;
  // Stop as soon as any replica's state has energy <= target_energy (board integer units, E as
  // in ising_energy.hpp), checked after every run. Default: none (run the whole budget).
  std::optional<std::int64_t> target_energy;
  // Count only the replica at the target beta (the last) for target_energy, not any replica:
  // then reaching the target means a low state arrived where it is sampled at the target
  // temperature. Plain Gibbs has every chain at the target beta, so it is unaffected.
  // Default false (any replica: the time-to-solution view).
  bool target_in_coldest_only = false;
  // Seed of the host's swap decisions (the board's own noise is keyed by the board's seed);
  // distributed, every rank draws the same numbers. Default 1.
  std::uint64_t swap_seed = 1;
  // Sweeps before the first exchange interval, in the first run (counted in max_sweeps; must
  // leave at least one sweep). Default 0; at most 2^32.
  std::uint64_t burn_in_sweeps = 0;
  // Deadline of the whole job, board work and collectives. Default 60 s.
  std::chrono::milliseconds timeout = std::chrono::seconds(60);
  // Which calibration applies (calibration/board_calibration.hpp): the p-bits' sigmoid offsets
  // and gains correct the bias codes (AppliedCalibration::correct_pbit_biases; couplings are
  // not corrected). Default: looked up by serial.
  runtime::calibration::CalibrationSelection calibration;

  // Throws common::Error(kInvalidArgument) naming the first bad field.
  void validate() const;
};

struct TemperingSummary : JobSummary {
  bool tempering = true;  // false: run_plain_gibbs()
  std::uint32_t nodes = 0;
  std::uint32_t chains = 0;  // replicas of the whole job, over all ranks
  // The chains this rank's board ran: global chains [first_chain, first_chain + local_chains)
  // (one rank: all of them).
  std::uint32_t first_chain = 0;
  std::uint32_t local_chains = 0;
  // Realized inverse temperatures (code / 256), ascending, and their codes. Plain Gibbs: every
  // chain at the target beta.
  std::vector<double> betas;
  std::vector<std::uint32_t> beta_codes;
  // Swap proposals and acceptances between temperatures k and k + 1 (R - 1 entries; empty for
  // plain Gibbs), and their ratio (0 where nothing was proposed).
  std::vector<std::uint64_t> swaps_proposed;
  std::vector<std::uint64_t> swaps_accepted;
  std::vector<double> acceptance;
  // Of those, the proposals whose two chains ran on different ranks' boards, and their
  // acceptances (0 on one rank).
  std::uint64_t cross_rank_swaps_proposed = 0;
  std::uint64_t cross_rank_swaps_accepted = 0;
  std::uint32_t sweeps_per_exchange = 0;
  std::uint64_t burn_in_sweeps = 0;
  std::uint64_t sweeps = 0;  // per chain, burn-in included
  std::uint64_t runs = 0;
  std::optional<std::int64_t> target_energy;
  bool target_in_coldest_only = false;
  // Sweeps per chain (burn-in included) after which some replica (or, with
  // target_in_coldest_only, the one at the target beta) first had E <= target.
  std::optional<std::uint64_t> sweeps_to_target;
  std::int64_t best_energy = 0;  // lowest E seen in any replica (any rank) after any run
  // After each run, E of the replica at the target beta (plain Gibbs: chain 0).
  std::vector<std::int64_t> coldest_energy_trace;
  // Samples at the target beta, one per run: the coldest replica's state (plain Gibbs: every
  // chain's), on whichever rank held it. Per node, the sum of s_i over them (all ranks), and
  // their number.
  std::vector<std::int64_t> coldest_spin_sums;
  std::uint64_t coldest_samples = 0;
  // device_time_s (JobSummary): sweeps / sweep_rate_hz, the chains sweep side by side. energy:
  // node updates, codes written (the lattice once, then the beta codes of every run), node
  // values read, link bytes, the host's energy evaluations; GPU: the same sweeps digitally.
  // All of this rank's board; the group's (ranks, slowest board's device time, communication,
  // all boards' energy) is in scale_out (one rank: itself).
  ScaleOutSummary scale_out;

  // <s_i> at the target beta from coldest_spin_sums (0 without samples).
  double coldest_mean(std::uint32_t node) const;
  // The coldest replica's energy trace in brief: points, first, last, min, mean_last_half.
  ReportField trace_field() const;
  ReportFields fields() const;
  std::string brief_report() const;
  std::string full_report() const;
  // One line per temperature: k, realized beta, beta code, swap acceptance with k + 1 ("-"
  // where nothing was proposed), under a header line.
  std::string ladder_table() const;
};

struct TemperingResult {
  // +1/-1 per lattice node, with E = best_energy (distributed: the same on every rank)
  std::vector<std::int8_t> best_state;
  TemperingSummary summary;
};

// Programs `program` (clamps cleared) and runs parallel tempering on it. Throws
// common::Error: kInvalidArgument for bad options, a program that does not fit the lattice or
// betas that share a code; kOutOfRange for a beta beyond the board's beta range or more
// replicas than its chains; kNotSupported when the board lacks per_chain_beta or
// sample_record; kTimeout and board errors as they come.
TemperingResult run_parallel_tempering(driver::PbitBoard& board,
                                       const driver::LatticeProgram& program,
                                       const ParallelTemperingOptions& options);
TemperingResult run_parallel_tempering(driver::PbitBoard& board, const IsingModel& model,
                                       const ParallelTemperingOptions& options);

// The same over the ranks of `group`, each with its own board (see the file comment): collective,
// every rank passes the same program or model and options. Throws as above on every rank (a
// board's error named by its rank and board), and kInvalidArgument for more ranks than replicas,
// a rank given other inputs than rank 0, or a board that realizes other beta codes than rank
// 0's; kOutOfRange when a rank's share exceeds its board's chains; kTimeout at the deadline.
TemperingResult run_parallel_tempering(Collective& group, driver::PbitBoard& board,
                                       const driver::LatticeProgram& program,
                                       const ParallelTemperingOptions& options);
TemperingResult run_parallel_tempering(Collective& group, driver::PbitBoard& board,
                                       const IsingModel& model,
                                       const ParallelTemperingOptions& options);

// The baseline: options.betas.size() chains, all at the target beta options.betas.back()
// (through the beta schedule), in the same runs of sweeps_per_exchange sweeps with the same
// budget, burn-in, stop rule and energy checks, and no exchanges. Errors as above (it does not
// need per_chain_beta).
TemperingResult run_plain_gibbs(driver::PbitBoard& board, const driver::LatticeProgram& program,
                                const ParallelTemperingOptions& options);

}  // namespace kelvin::runtime
