// Sampling an Ising model partitioned over several p-bit boards (one per rank of a Collective):
// a model larger than one lattice, or one spread for speed. Every rank passes the same global
// model (integer J and b in board units, as IsingModel) and the same `owner` (rank per node);
// each rank samples its own nodes on its own board, and the spins on the partition's boundary
// are exchanged between sweeps every `exchange_interval` sweeps. With one rank (a
// LocalCollective, owner all 0) it is plain Gibbs sampling of the whole model on one board.
//
// Boundary fields. An edge (i, j, J) whose endpoints live on different ranks acts on i as an
// extra bias J s_j, s_j the neighbour's latest exchanged spin. It is an integer, so the bias code
// b_i + sum_j J_ij s_j is exact; it must fit the board's bias range for every sign pattern
// (|b_i| + sum_j |J_ij| <= bias max), checked up front (kOutOfRange naming the node).
//
// Chains side by side. The board's program (weights, biases, clamps) is shared by all of a
// run's chains, but every chain sees its own neighbours' spins, so needs its own boundary biases.
// So the job does not use the board's chains: it places `chains` copies of the rank's part side
// by side on the lattice (one placement, found by embed_model() or as written, translated by its
// bounding box; unused lattice nodes and edges get 0 and couple nothing), runs board chain 0 and
// writes every copy's boundary biases before each phase. The job's chains must all fit (refused
// otherwise, kInvalidArgument naming the rank and how many copies fit): a part that fills its
// lattice runs one chain (no between-chain error bars; a warning says so).
//
// Schedules (one phase = `exchange_interval` sweeps of the active ranks, then one exchange):
//   alternating (exact; the default): ranks are coloured by rank parity; colour 0 sweeps its
//     parts with colour 1's spins held, they exchange, then colour 1 sweeps with colour 0's held.
//     Two ranks of one colour may not share an edge (refused, naming the edge). Each phase is a
//     Gibbs update of one block from its exact conditional, so the chain's law converges to the
//     model's at any interval, at half the boards' utilization.
//   concurrent (the distributed p-computer way): every board sweeps at once with its
//     neighbours' spins up to `exchange_interval` sweeps stale. Full utilization, but the chain
//     is not a Gibbs sampler of the model: its law carries a bias that grows with the interval
//     and is NOT in the error bars (the summary warns). Even at interval 1 the two sides of a
//     cut update at once from each other's previous spins (a synchronous update across the
//     cut), which biases the cross-edge correlations measurably; the means suffer less.
//
// Estimates. A sample is the joint state after every sweep of a phase (held parts included), so
// a chain gives (alternating) 2 x or (concurrent) 1 x `sweeps` samples, `sweeps` rounded up to
// the interval. Exchanges carry each active rank's boundary spins after every sweep of the phase
// (int8, chains x sweeps x boundary nodes), so cross-edge correlations are those of the chain's
// true joint state. Each rank sums its own nodes, its internal edges and the cross edges whose
// first endpoint it owns, per chain; the sums are added over the ranks (bit-identical on every
// rank). Standard errors: the spread of the chain means, Student-t with chains - 1 dof (none with
// one chain or for a quantity that never changed).
//
// Thread contract: uses its board exclusively; collective over `group`: every rank calls it with
// the same model, owner and options. Options, results and summaries are plain value types.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "kelvin/driver/pbit/pbit_board.hpp"
#include "kelvin/runtime/collective.hpp"
#include "kelvin/runtime/job_summary.hpp"
#include "kelvin/runtime/pbit/ising_model.hpp"
#include "kelvin/runtime/scale_out.hpp"

namespace kelvin::runtime {

enum class PartitionSchedule { kAlternating, kConcurrent };
const char* to_string(PartitionSchedule schedule) noexcept;  // "alternating", "concurrent"

struct PartitionedSamplingOptions {
  // Sweeps per chain of every node after the burn-in, rounded up to a multiple of
  // exchange_interval. Default 1000; range [1, 2^32].
  std::uint64_t sweeps = 1000;
  // Sweeps before sampling starts (rounded up likewise; one more sweep draws the initial
  // states). Default 100; range [0, 2^32].
  std::uint64_t burn_in_sweeps = 100;
  // Independent chains, as copies side by side on every rank's lattice (see above). Default 4;
  // range [1, 100000], and at most the copies that fit (checked with the boards).
  std::uint32_t chains = 4;
  // Inverse temperature in coupling units, rounded to the board's beta code. Default 1; > 0.
  double beta = 1.0;
  // Sweeps between two boundary exchanges. Default 1; range [1, 10^6].
  std::uint32_t exchange_interval = 1;
  // Default kAlternating (exact).
  PartitionSchedule schedule = PartitionSchedule::kAlternating;
  // Total deadline: board work and collectives. Default 60 s.
  std::chrono::milliseconds timeout = std::chrono::seconds(60);

  // Throws common::Error(kInvalidArgument) naming the first bad field.
  void validate() const;
};

struct PartitionedSamplingSummary : JobSummary {
  std::uint32_t nodes = 0;  // the global model's
  std::uint32_t edges = 0;
  std::string schedule;
  std::uint32_t exchange_interval = 0;
  std::uint32_t local_nodes = 0;     // this rank's
  std::uint32_t boundary_nodes = 0;  // all ranks': nodes with a neighbour on another rank
  std::uint32_t cross_edges = 0;     // edges between ranks
  std::uint32_t copies_fit = 0;      // copies of this rank's part its lattice holds
  std::uint32_t chains = 0;
  std::uint64_t sweeps = 0;          // per node after the burn-in (rounded up)
  std::uint64_t burn_in_sweeps = 0;  // rounded up
  std::uint64_t sweeps_run = 0;      // by this rank's board, burn-in included
  // Modelled device time along the schedule: every phase's sweeps at the nominal sweep rate,
  // held phases included (alternating: twice the boards' busy time; concurrent: the same).
  double schedule_device_time_s = 0.0;
  std::uint64_t samples_per_chain = 0;
  std::uint64_t exchanges = 0;       // boundary gathers
  std::uint64_t exchange_bytes = 0;  // boundary bytes all ranks sent, over the job
  double beta_used = 0.0;
  std::string stderr_method;
  std::optional<std::uint64_t> stderr_dof;
  ScaleOutSummary scale_out;

  ReportFields fields() const;
  std::string brief_report() const;
  std::string full_report() const;
};

struct PartitionedSamplingResult {
  std::vector<double> mean;  // <s_i> per global node
  // (i, j, <s_i s_j>) per global edge, in the model's order (cross edges included).
  std::vector<std::tuple<std::uint32_t, std::uint32_t, double>> edge_correlations;
  // Between-chain standard errors; NaN with one chain or for a quantity that never changed.
  std::vector<double> mean_stderr;
  std::vector<double> edge_correlation_stderr;
  PartitionedSamplingSummary summary;
};

// A rows x cols grid (nearest neighbours, node r * cols + c) with J uniform in
// {-coupling, ..., -1, 1, ..., coupling} and b uniform in [-bias, bias], drawn from `seed`: the
// model `kelvin-mpi sample` and the tests partition. Throws common::Error(kInvalidArgument) for
// rows or cols 0 or above 4096, coupling < 1 or bias < 0.
IsingModel grid_model(std::uint32_t rows, std::uint32_t cols, int coupling, int bias,
                      std::uint64_t seed);
// Owner vector of a rows x cols grid cut into `ranks` bands of whole rows (rank r gets rows
// [r rows / ranks, (r + 1) rows / ranks)): neighbouring bands have neighbouring ranks, so the
// alternating schedule accepts it. Throws common::Error(kInvalidArgument) for ranks > rows.
std::vector<int> strip_owner(std::uint32_t rows, std::uint32_t cols, int ranks);

// Throws common::Error on every rank alike: kInvalidArgument for bad options, an owner vector of
// the wrong size or naming a rank outside the group, a rank without nodes, inputs that differ
// between ranks (naming the rank), same-colour neighbours under the alternating schedule, more
// chains than copies fit, chains x exchange_interval x nodes above 256 MiB (a phase's spins on
// the host); kOutOfRange for a boundary field beyond the bias range (naming the
// node) or a weight beyond the cap; kNotSupported for a part that does not embed; the failing
// rank's error (naming it and its board) for a board failure; kTimeout at the deadline.
PartitionedSamplingResult sample_partitioned(Collective& group, driver::PbitBoard& board,
                                             const IsingModel& model, const std::vector<int>& owner,
                                             const PartitionedSamplingOptions& options = {});

}  // namespace kelvin::runtime
