// Chained denoising on a p-bit board (denoising thermodynamic models, DTM: Extropic, arXiv
// 2510.23972). Generation runs T denoising steps, each its own energy-based model on
// the lattice: step t is programmed, its input nodes are clamped to x_t, the board runs Gibbs
// sweeps, and the output nodes of the final state are x_{t-1}, which becomes the clamped input
// of step t-1. After step 1 the output is the generated sample x_0.
//
// One step = one lattice program (weights, biases), a beta schedule, and two equally long,
// disjoint lists of lattice nodes: where x_t is clamped and where x_{t-1} is read. Latent nodes
// (neither input nor output) are sampled along and discarded. Clamps are global on the board, so
// independent chains run one after the other (chain-by-chain; each chain runs all T steps).
//
// Randomness: the board draws the Gibbs updates from its own seed (the device URI) and its global
// sweep counter, so successive steps and chains never reuse random numbers; a fresh board with
// the same seed replays a job bit for bit. The host draws only x_T when the caller does not give
// it (uniform +-1 noise, the fully noised state), from DenoisingOptions::noise_seed.
//
// Thread contract: run_denoising_chain() uses the board exclusively for the whole job (it
// programs, clamps and samples in sequence); one thread at a time per board. Plain value types
// otherwise.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "kelvin/driver/pbit/pbit_board.hpp"
#include "kelvin/runtime/job_summary.hpp"
#include "kelvin/runtime/pbit/model_embedding.hpp"

namespace kelvin::runtime {

struct DenoisingStep {
  driver::LatticeProgram program;
  // Per-sweep beta codes (burn-in included; the last repeats), e.g. DTM's ramp 0.8 -> 1.2.
  // Default [256] (beta = 1).
  std::vector<std::uint32_t> beta_schedule = {256};
  std::vector<std::uint32_t> input_nodes;   // lattice nodes clamped to x_t
  std::vector<std::uint32_t> output_nodes;  // lattice nodes read as x_{t-1}
};

// A step from an embedded model: the embedding's program and beta, with the input and output
// given as model nodes (mapped through the placement). Throws common::Error(kInvalidArgument) for
// a model node outside the embedding.
DenoisingStep make_denoising_step(const ModelEmbedding& embedding,
                                  std::span<const std::uint32_t> model_inputs,
                                  std::span<const std::uint32_t> model_outputs);

struct DenoisingOptions {
  // Sweeps per step after the burn-in; the state after the last one is the step's output.
  // Default 1000 (DTM uses 400 to 1,200). Range [1, 2^32 - 1].
  std::uint64_t sweeps = 1000;
  // Sweeps per step before those (they also advance the beta schedule). Default 0; at most 2^32.
  std::uint64_t burn_in_sweeps = 0;
  // Independent chains, run one after the other. Default 1; range [1, 100000].
  std::uint32_t chains = 1;
  // Randomize the free (unclamped) nodes at the start of every step. Default true: each step
  // starts from noise, as a fresh EBM would. false: warm start from the board's previous state.
  bool reset_state = true;
  // Seed of the host's draw of x_T when run_denoising_chain() gets an empty x_T (chain c uses
  // noise_seed + c). Default 1.
  std::uint64_t noise_seed = 1;
  // Total deadline of the job, all chains and steps. Default 60 s; must be positive.
  std::chrono::milliseconds timeout = std::chrono::seconds(60);

  // Throws common::Error(kInvalidArgument) naming the first bad field.
  void validate() const;
};

struct DenoisingSummary : JobSummary {
  std::size_t steps = 0;
  std::uint32_t chains = 0;
  std::size_t width = 0;               // nodes per x_t
  std::uint64_t sweeps_per_step = 0;   // burn-in included
  std::uint64_t programs_written = 0;  // ProgramLattice calls (skipped when already loaded)
  std::uint64_t codes_written = 0;     // weights + biases + beta codes + clamps
  std::uint64_t runs = 0;
  // device_time_s (JobSummary): sweeps at the board's nominal sweep rate. energy: node updates
  // of unclamped nodes, codes written (reprogramming included), node values read out, link
  // bytes (make_pbit_ledger).

  ReportFields fields() const;
  std::string brief_report() const;
  std::string full_report() const;
};

struct DenoisingResult {
  // states[c][k]: chain c after k steps: states[c][0] = x_T, states[c][k] = the output of
  // steps[k - 1], that is x_{T-k}; states[c].back() is the generated x_0.
  std::vector<std::vector<std::vector<int>>> states;
  // run_ids[c][k]: the board's run of chain c, step k.
  std::vector<std::vector<std::uint64_t>> run_ids;
  DenoisingSummary summary;
};

// Runs `steps` (ordered T .. 1) from x_T on every chain. x_T empty: each chain draws its own
// uniform +-1 x_T. Throws common::Error: kInvalidArgument for bad options, no steps, input and
// output lists of different or inconsistent sizes, a node listed twice or both as input and
// output, an x_T of the wrong size or with a value other than +-1, or a program of the wrong
// size (each message names the step and the defect); kOutOfRange for a node outside the board
// or codes outside its ranges; kTimeout when the deadline passes; board errors as they come.
DenoisingResult run_denoising_chain(driver::PbitBoard& board, std::span<const DenoisingStep> steps,
                                    std::span<const int> x_T, const DenoisingOptions& options = {});

}  // namespace kelvin::runtime
