// The asynchronous, double-buffered hybrid loop (docs/hybrid-loop.md, "Asynchronous pipeline"):
// while the board integrates step k's natural gradient, the host computes step k+1's gradient
// and curvature, and step k+1's problem is already staged so that the board starts it the moment
// step k is read out.
//
// HybridPipeline is the board worker: one Boost.Asio io_context run by one worker thread, which
// owns a NaturalGradientEstimator and, through it, the board. submit() hands a problem to the
// worker and returns a std::future of its NaturalGradientResult. The pipeline owns at most two
// problems at once, the one the board is running and one staged (double buffering); a third
// submit() waits for a slot, up to options.timeout (then Error(kTimeout)). Steps run one at a
// time in the order their submit() calls took a slot, so warm start and upload delay see the
// same sequence of problems as a loop calling the estimator by hand.
//
// run_pipelined() is a training driver on top of it. Sequential mode (overlap = false) is the
// plain loop: gradient at theta_k, estimate, update, and it gives bit for bit what calling the
// estimator by hand gives. Pipelined mode (overlap = true) computes step k+1's gradient and
// curvature at theta_k, while the board works on step k, so every gradient after step 0 is ONE
// STEP STALE: step k+1's estimate is applied to theta_{k+1} but was computed at theta_k, as in
// pipelined / asynchronous (delayed-gradient) training. The cost is convergence per step: on a
// quadratic, a delayed Newton step at rate eta gives the error recursion
//     e_{k+1} = e_k - eta e_{k-1},   characteristic roots r^2 - r + eta = 0,
// which converges only for eta < 1 (rate 1, exact Newton without delay, oscillates forever with
// |r| = 1 once delayed) and at best contracts by |r| = 1/2 per step (eta = 1/4), where the
// undelayed Newton step converges in one. So pipelined TNGD needs a smaller rate and more steps
// for the same loss; it pays only where the wall time saved per step (at most the smaller of the
// host's and the board's time per step) outweighs that. docs/hybrid-loop.md has the measured
// trade-off on the logistic-regression task.
//
// Thread contract: submit() is thread-safe, but the board runs steps in the order the submit()
// calls took their slots, so a training loop submits from one producer thread. Each returned
// future may be read (get(), or wait() below) from any thread, once. stats() and is_open() may
// be called from any thread at any time. shutdown() may be called from any thread, any number
// of times, also concurrently; it returns after the worker thread has joined. From construction
// to shutdown the worker uses the board and the estimator exclusively: the caller must not
// touch the board in between. run_pipelined() calls both callbacks on the calling thread only,
// never concurrently.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>

#include <Eigen/Core>

#include "kelvin/driver/resonator/resonator_board.hpp"
#include "kelvin/runtime/natural_gradient.hpp"

namespace kelvin::runtime {

struct HybridPipelineOptions {
  // Total deadline of one submit() waiting for a free slot while both slots (running + staged)
  // are taken; then submit() throws Error(kTimeout). Default 60 s, the estimator's own default
  // deadline per step, so a healthy board always frees a slot in time.
  std::chrono::milliseconds timeout = std::chrono::seconds(60);

  // Throws common::Error(kInvalidArgument) naming the first bad field.
  void validate() const;
};

// What the worker measured. Times are wall-clock seconds on the steady clock.
struct HybridPipelineStats {
  std::uint64_t submitted = 0;
  std::uint64_t steps_run = 0;        // estimates that returned a result
  std::uint64_t steps_failed = 0;     // estimates that threw (the exception is in the future)
  std::uint64_t steps_cancelled = 0;  // staged at shutdown, never run
  // The worker inside estimate(): the board busy.
  double board_busy_s = 0.0;
  // From the end of the first step on, the board not busy: waiting for the host to submit.
  double board_idle_s = 0.0;
  // The host blocked on the board: in submit() waiting for a slot or in
  // HybridPipeline::wait() waiting for a result (a plain future.get() is not seen).
  double host_wait_s = 0.0;
  // Board busy time during which the host thread provably computed at the same time: for each
  // of the host's working windows (from the end of one of its waits to the start of the next),
  // max(0, host CPU time + board busy time - window length), since more CPU time than the
  // board left free in the window can only have been used while the board was busy. A lower
  // bound that counts real host work only: a host thread that was runnable but descheduled
  // (more busy threads than free cores) does not pass for overlap. Needs the one producer
  // thread of the thread contract (windows of other threads are not counted).
  double overlap_s = 0.0;

  // overlap_s / board_busy_s (0 when nothing ran). A sequential loop (submit, then wait)
  // scores 0 up to clock resolution: its host computes only while the board is idle.
  double overlap_fraction() const noexcept;
  std::string brief_report() const;
  std::string full_report() const;
};

class HybridPipeline {
 public:
  // Starts the worker thread. The board must outlive the pipeline and stay untouched by the
  // caller until shutdown(). Throws common::Error(kInvalidArgument) for bad options (either).
  HybridPipeline(driver::ResonatorBoard& board, NaturalGradientOptions estimator_options = {},
                 HybridPipelineOptions options = {});
  // shutdown(); never throws.
  ~HybridPipeline();
  HybridPipeline(const HybridPipeline&) = delete;
  HybridPipeline& operator=(const HybridPipeline&) = delete;

  // Hands step `step` (a label for logs and errors; any value) to the board: with a dense
  // curvature F, or with GGN factors J and H (F = J^T H J), exactly as
  // NaturalGradientEstimator::estimate(). Blocks while two problems are owned, up to
  // options.timeout: then throws Error(kTimeout). Throws Error(kDisconnected) after shutdown()
  // began. Bad problems (sizes, non-finite values, F + lambda I not positive definite) and board
  // errors are not thrown here: they reach the future, as the estimator's common::Error.
  std::future<NaturalGradientResult> submit(std::int64_t step, Eigen::VectorXd g,
                                            Eigen::MatrixXd F);
  std::future<NaturalGradientResult> submit(std::int64_t step, Eigen::VectorXd g, Eigen::MatrixXd J,
                                            Eigen::MatrixXd H);

  // result.get(), with the time spent blocked counted as host wait time in stats().
  NaturalGradientResult wait(std::future<NaturalGradientResult>& result);

  // Stops accepting work (later and waiting submit() calls throw Error(kDisconnected)), lets the
  // step the board is running finish (its future gets its result; it cannot be interrupted, so
  // this waits at most for the estimator's own deadline, NaturalGradientOptions::timeout), and
  // cancels every step the board has not started (normally the staged one): its future throws
  // Error(kDisconnected, "... step N was cancelled before the board started it: the pipeline
  // shut down"). Then joins the worker thread.
  void shutdown();

  // False once shutdown() has begun (submit() then throws Error(kDisconnected)).
  bool is_open() const;
  HybridPipelineStats stats() const;

 private:
  struct Job;
  struct State;
  std::future<NaturalGradientResult> enqueue(std::shared_ptr<Job> job);
  std::unique_ptr<State> state_;
};

// One step's problem from the host: the gradient and either a dense curvature F
// (`curvature`, with `h` empty) or GGN factors (`curvature` = J, `h` = H, F = J^T H J).
struct StepProblem {
  Eigen::VectorXd gradient;
  Eigen::MatrixXd curvature;
  std::optional<Eigen::MatrixXd> h;
};

// Host work of step `step` at parameters theta: the gradient and curvature of that step's batch.
using ComputeGradientAndCurvature =
    std::function<StepProblem(const Eigen::VectorXd& theta, std::int64_t step)>;
// Applies an estimate to theta in place (for example theta += tngd_update(estimate, ...)).
using ApplyUpdate =
    std::function<void(Eigen::VectorXd& theta, const NaturalGradientResult& estimate)>;

struct PipelinedTrainingOptions {
  // Training steps (board estimates). Default 100; range [1, 10^9].
  std::int64_t steps = 100;
  // true: pipelined (host computes step k+1's gradient at theta_k while the board runs step k;
  // one step stale, see the top of this file). false: sequential, identical to the estimator
  // called by hand. Default true.
  bool overlap = true;
  HybridPipelineOptions pipeline;

  // Throws common::Error(kInvalidArgument) naming the first bad field.
  void validate() const;
};

struct PipelinedTrainingResult {
  Eigen::VectorXd theta;  // after the last update
  std::int64_t steps = 0;
  bool overlap = false;
  HybridPipelineStats stats;  // of this run's pipeline
  double wall_time_s = 0.0;

  std::string brief_report() const;
  std::string full_report() const;
};

// Trains from theta0 on `board` (a fresh pipeline and estimator for this run; the board must be
// free). Callbacks run on the calling thread. An exception from a callback or from the board
// (through its future) ends the run and propagates; a step already staged is then cancelled.
PipelinedTrainingResult run_pipelined(
    driver::ResonatorBoard& board, const NaturalGradientOptions& estimator_options,
    Eigen::VectorXd theta0, const ComputeGradientAndCurvature& compute_gradient_and_curvature,
    const ApplyUpdate& apply_update, const PipelinedTrainingOptions& options = {});

}  // namespace kelvin::runtime
