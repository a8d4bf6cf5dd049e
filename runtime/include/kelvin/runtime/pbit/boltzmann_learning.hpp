// Boltzmann learning with the p-bit board in the loop: stochastic ascent on the log-likelihood
// of a Boltzmann machine (boltzmann_model.hpp), the gradient measured on the board as
//   d log L / d w_ij = beta (<s_i s_j>_clamped - <s_i s_j>_free),
//   d log L / d b_i  = beta (<s_i>_clamped - <s_i>_free).
//
// Weights and biases live on the host as doubles in the board's coupling units. Every step they
// are rounded to the board's codes (nearest, or stochastic rounding seeded by (seed, step)), the
// weight cap (|J| <= the board's weight max, 6 on the emulator) and the bias range honoured;
// after each update the host parameters are clipped to the representable range (the clipping is
// counted in the step's summary).
//
// Layout on the lattice: copy 0 of the model is placed with the model's placement or with
// embed_model(); copies 1.. are translations of copy 0 across the lattice (a translation keeps
// every lattice edge valid while all nodes stay inside the grid). One board run per step holds
// both phases:
//   * `batch` clamped copies: visible and input nodes clamped to the batch's examples (one
//     example per copy), hidden nodes sampled;
//   * the free copies: unconditional models: `free_copies` persistent chains, never clamped and
//     warm-started from the previous step (persistent contrastive divergence, PCD); conditional
//     models (input nodes): free_copies == batch, free copy k gets example k's inputs clamped.
// The run accumulates moments over every chain; a copy's means and edge correlations come from
// the spin and edge sums of its own lattice nodes and edges. The positive (clamped) moments are
// the mean over clamped copies, the negative (free) moments the mean over free copies; their
// standard errors are the spread over copies (copies - 1 degrees of freedom).
//
// Models with no hidden and no input nodes still run their clamped phase on the board (the
// clamped copies are then fully clamped, so their moments are exactly the data's; the board
// costs nothing extra since the free copies run in the same run).
//
// Thread contract: a BoltzmannTrainer uses its board exclusively during step(), estimate() and
// sample_visible() (program, clamps, beta schedule, sampling in sequence); one thread at a time
// per trainer and per board. model(), options(), steps_done(), program() and save_checkpoint()
// are const and may be called from any thread while no mutating call runs. Plain value types
// otherwise.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "kelvin/driver/device_description.hpp"
#include "kelvin/driver/pbit/pbit_board.hpp"
#include "kelvin/runtime/job_summary.hpp"
#include "kelvin/runtime/pbit/boltzmann_model.hpp"
#include "kelvin/runtime/pbit/model_embedding.hpp"

namespace kelvin::runtime {

// One training example: +-1 per visible node and per input node, each in nodes_with() order.
struct BoltzmannExample {
  std::vector<int> visible;
  std::vector<int> input;
};

enum class Rounding { kNearest, kStochastic };
enum class LearningRateSchedule { kConstant, kInverseTime, kCosine };
const char* to_string(Rounding rounding) noexcept;              // "nearest", "stochastic"
const char* to_string(LearningRateSchedule schedule) noexcept;  // "constant", "inverse-time",
                                                                // "cosine"

struct BoltzmannOptions {
  // Board inverse temperature (code = round(256 beta)). Default 1; must realize a positive code.
  double beta = 1.0;
  // Per sweep, burn-in included (the last entry repeats); empty (default): beta throughout. The
  // gradient's factor beta is the schedule's last entry (the law the samples are drawn from).
  std::vector<double> beta_schedule;
  // Clamped copies per step (examples per step). Default 8; range [1, 4096].
  std::uint32_t batch = 8;
  // Unconditional models: persistent free copies, default 8, range [2, 4096]. Models with input
  // nodes: must equal batch (each free copy carries one example's inputs).
  std::uint32_t free_copies = 8;
  // Board chains per run. Default 4; range [1, the board's max_chains].
  std::uint32_t chains = 4;
  // Sweeps per step before sampling. Default 20.
  std::uint64_t burn_in_sweeps = 20;
  // Sampled sweeps per step. Default 40; >= 1.
  std::uint64_t sweeps = 40;
  // One sample per chain every this many sweeps. Default 2; range [1, sweeps].
  std::uint32_t sample_every = 2;
  // Step size of the ascent (coupling units per unit gradient). Default 0.05; > 0, finite.
  double learning_rate = 0.05;
  // Default kConstant.
  LearningRateSchedule schedule = LearningRateSchedule::kConstant;
  // kInverseTime: lr / (1 + t / decay_steps); kCosine: lr (1 + cos(pi (t mod P) / P)) / 2 with
  // period P = decay_steps. Default 100; >= 1.
  std::uint64_t decay_steps = 100;
  // Heavy-ball momentum: v = momentum v + g, theta += lr v. Default 0; range [0, 1).
  double momentum = 0.0;
  // L2 decay of trainable weights and biases: g -= weight_decay theta. Default 0; >= 0.
  double weight_decay = 0.0;
  // How host parameters become codes each step. Default kNearest. kStochastic: round up with
  // probability frac(x), seeded by (seed, step, parameter): unbiased over steps.
  Rounding rounding = Rounding::kNearest;
  // Seed of stochastic rounding. Default 1. (The chains' random numbers come from the board's
  // own seed, the device URI; the persistent chains start from a random state the board draws.)
  std::uint64_t seed = 1;
  // Deadline of each call (step, estimate, sample_visible). Default 60 s; must be positive.
  std::chrono::milliseconds timeout = std::chrono::seconds(60);

  // Throws common::Error(kInvalidArgument) naming the first bad field ("BoltzmannOptions.batch
  // ...").
  void validate() const;
  // The same, and against the board: chains, beta codes, schedule length, record limits.
  void validate(const driver::PbitDescription& board) const;
};

// Moments of one phase, in model order.
struct PhaseMoments {
  std::vector<double> mean, mean_stderr;                // per node
  std::vector<double> correlation, correlation_stderr;  // per model edge
  std::uint64_t samples = 0;                            // per copy: chains x recorded sweeps
  std::uint32_t copies = 0;
  std::uint32_t dof = 0;  // stderr over copies: copies - 1 dof
};

struct BoltzmannStepSummary : JobSummary {
  std::uint64_t step = 0;             // steps done after this call (estimate(): unchanged)
  bool updated = false;               // false for estimate()
  double learning_rate = 0.0;         // used this step (after the schedule)
  double gradient_norm = 0.0;         // ||g||_2 over trainable parameters (decay included)
  double beta = 0.0;                  // realized beta of the sampled law (board code / 256)
  std::uint64_t weights_clipped = 0;  // host weights clipped to the cap after the update
  std::uint64_t biases_clipped = 0;   // host biases clipped to the bias range
  std::uint64_t codes_changed = 0;    // copy-0 codes that differ from the previous step's
  std::uint32_t clamped_copies = 0;
  std::uint32_t free_copies = 0;
  std::uint32_t chains = 0;
  std::uint64_t sweeps = 0;  // per run, burn-in included
  std::uint64_t samples_per_copy = 0;
  std::uint64_t runs = 0;
  std::string rounding;   // "nearest" / "stochastic"
  std::string placement;  // "given" / "embedded"

  ReportFields fields() const;
  std::string brief_report() const;
  std::string full_report() const;
};

struct BoltzmannStepResult {
  PhaseMoments clamped, free;
  BoltzmannStepSummary summary;
};

class BoltzmannTrainer {
 public:
  // Validates the model and options (against the board), places copy 0 (the model's placement
  // or embed_model()) and lays out the copies. Throws common::Error: kInvalidArgument for a bad
  // model or options, kNotSupported for a model that does not place or when the copies do not
  // fit ("24 copies needed, 9 fit on 12x12"), board errors as they come.
  BoltzmannTrainer(driver::PbitBoard& board, BoltzmannModel model, BoltzmannOptions options = {});

  // One stochastic-gradient step (ascent on the log-likelihood) on `batch` (exactly
  // options.batch examples). Throws common::Error(kInvalidArgument) for a batch of the wrong
  // size or an example of the wrong size or with a value other than +-1; kTimeout; board errors.
  BoltzmannStepResult step(std::span<const BoltzmannExample> batch);
  // The same moments without an update (for checks and diagnostics).
  BoltzmannStepResult estimate(std::span<const BoltzmannExample> batch);
  // `count` samples of the visible nodes from the current model on the board (free copies x
  // chains, recorded); with inputs (conditional model) one input per sample.
  std::vector<std::vector<int>> sample_visible(std::uint64_t count,
                                               std::span<const std::vector<int>> inputs = {});

  const BoltzmannModel& model() const noexcept { return model_; }
  const BoltzmannOptions& options() const noexcept { return options_; }
  std::uint64_t steps_done() const noexcept { return steps_done_; }
  // Lattice node of every model node in copy 0 (the realized placement).
  const std::vector<std::uint32_t>& placement() const noexcept { return placement_; }
  // How many copies of the model fit on the lattice by translation.
  std::uint32_t copies_available() const noexcept {
    return static_cast<std::uint32_t>(offsets_.size());
  }
  // The current model's codes for ONE copy (rounded to nearest), e.g. for make_denoising_step.
  driver::LatticeProgram program() const;
  // The law the board realizes with nearest rounding: weights and biases as their codes, beta as
  // realized (for exact comparisons).
  SparseIsingModel quantized_model() const;

  // JSON, kind "kelvin.boltzmann-machine", version 1: model, options, steps_done, momentum
  // buffers, the board's lattice (rows, cols, degree). Atomic (temporary file + rename). Throws
  // common::Error(kInvalidArgument) when the file cannot be written (as calibration files do).
  void save_checkpoint(const std::string& path) const;
  // Throws common::Error: kInvalidArgument (unreadable, not JSON, another kind or version, a
  // missing or malformed field, naming it), kNotSupported (the board's lattice differs from the
  // checkpoint's).
  static BoltzmannTrainer load_checkpoint(driver::PbitBoard& board, const std::string& path);

 private:
  driver::PbitBoard* board_;
  BoltzmannModel model_;
  BoltzmannOptions options_;
  std::uint64_t steps_done_ = 0;
  std::vector<std::uint32_t> placement_;         // copy 0: model node -> lattice node
  std::vector<std::int64_t> offsets_;            // per available copy: lattice index offset
  std::vector<std::uint32_t> copy_nodes_;        // used copies x nodes: lattice node
  std::vector<std::uint32_t> copy_edges_;        // used copies x edges: lattice edge index
  std::vector<double> velocity_w_, velocity_b_;  // momentum buffers
  std::vector<std::int64_t> last_codes_;         // codes last written (weights, then biases)
  std::vector<std::uint32_t> beta_codes_;        // realized schedule
  bool placement_given_ = false;
  bool chains_started_ = false;  // the persistent chains hold a state (else randomize once)

  void lay_out();
  // One copy's codes at `step` (weights in edge order, then biases).
  std::vector<std::int64_t> codes(std::uint64_t step, Rounding rounding) const;
  driver::LatticeProgram lattice_program_of(const std::vector<std::int64_t>& codes,
                                            std::uint32_t copies) const;
  BoltzmannStepResult run(std::span<const BoltzmannExample> batch, bool update);
  // The gradient (its norm into s) and, when `apply`, the update of the trainable parameters.
  void update(const PhaseMoments& clamped, const PhaseMoments& free, BoltzmannStepSummary& s,
              bool apply);
};

}  // namespace kelvin::runtime
