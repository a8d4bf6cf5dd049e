#include "kelvin/runtime/hybrid_pipeline.hpp"

// Asio stays in this file (pimpl): it costs about 3 s of compile time per translation unit, and
// the header is included by training code that does not need it.
#include <utility>  // before Asio: Boost 1.74's Asio uses std::exchange without including it

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "kelvin/common/deadline.hpp"
#include "kelvin/common/error.hpp"
#include "kelvin/common/logging.hpp"

namespace kelvin::runtime {

using common::Deadline;
using common::Error;
using common::ErrorKind;
namespace asio = boost::asio;

namespace {

constexpr std::size_t kSlots = 2;  // the step on the board + one staged: double buffering

double seconds(Deadline::Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

// CPU time of the calling thread (Linux/POSIX), for the guaranteed-overlap bound.
double thread_cpu_s() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

}  // namespace

struct HybridPipeline::Job {
  std::int64_t step = 0;
  Eigen::VectorXd g;
  Eigen::MatrixXd curvature;  // F, or J when h is set
  std::optional<Eigen::MatrixXd> h;
  std::promise<NaturalGradientResult> promise;
};

struct HybridPipeline::State {
  State(driver::ResonatorBoard& board, const NaturalGradientOptions& estimator_options,
        const HybridPipelineOptions& pipeline_options)
      : estimator(board, estimator_options),
        options(pipeline_options),
        work(asio::make_work_guard(context)),
        log(common::logger("kelvin.runtime")) {}

  void run(Job& job);
  // Advances the time accounting to `now` under the state the pipeline was in since the last
  // event (board busy or not, host blocked or not). Called with `mutex` held, at every change.
  void account(Deadline::Clock::time_point now);
  // The host thread stops working (blocks on the board) / starts working again: closes / opens
  // its working window. Called with `mutex` held, after account(now).
  void host_blocks(Deadline::Clock::time_point now);
  void host_resumes(Deadline::Clock::time_point now);

  // Used by the worker thread only (the thread contract's "exclusively").
  NaturalGradientEstimator estimator;
  const HybridPipelineOptions options;
  // One thread runs the context, so handlers run one at a time, in the order they were posted:
  // the board sees the steps in submit() order.
  asio::io_context context;
  asio::executor_work_guard<asio::io_context::executor_type> work;
  std::thread worker;
  std::shared_ptr<spdlog::logger> log;

  // Guards everything below.
  mutable std::mutex mutex;
  std::condition_variable slot_freed;
  std::deque<std::int64_t> owned;  // steps owned by the pipeline, oldest (running) first
  bool closing = false;
  HybridPipelineStats stats;
  // Time accounting: every change of these is an event, taken under `mutex` with its time
  // read under it too, so the intervals between events have one state each and sum exactly.
  Deadline::Clock::time_point last_event = Deadline::Clock::now();
  bool board_busy = false;
  bool board_has_run = false;  // idle time counts from the end of the first step
  int hosts_waiting = 0;       // threads blocked in submit() or wait()
  // The host's working window: from the end of one of its waits (or its first submit) to the
  // start of the next, with its thread's CPU time and the board's busy time inside it.
  struct HostWindow {
    std::thread::id thread;
    Deadline::Clock::time_point start;
    double cpu_s = 0.0;
    double board_busy_s = 0.0;
  };
  std::optional<HostWindow> window;

  // Serializes shutdown()'s join, which may be called from several threads.
  std::mutex join_mutex;
};

void HybridPipeline::State::account(Deadline::Clock::time_point now) {
  const double dt = seconds(now - last_event);
  last_event = now;
  if (board_busy) {
    stats.board_busy_s += dt;
    if (hosts_waiting == 0 && window)
      window->board_busy_s += dt;
  } else if (board_has_run && !closing) {  // after shutdown() the board is not waiting
    stats.board_idle_s += dt;
  }
}

// Within a window of length L the host thread used c seconds of CPU and the board was busy for
// b; if c + b > L, they must have run at the same time for at least c + b - L. This counts only
// work the host really did (CPU time), not time it sat descheduled, which on a machine with
// fewer free cores than busy threads would otherwise pass for overlap.
void HybridPipeline::State::host_blocks(Deadline::Clock::time_point now) {
  if (window && window->thread == std::this_thread::get_id()) {
    const double length = seconds(now - window->start);
    const double cpu = thread_cpu_s() - window->cpu_s;
    stats.overlap_s += std::clamp(cpu + window->board_busy_s - length, 0.0, window->board_busy_s);
  }
  window.reset();
}

void HybridPipeline::State::host_resumes(Deadline::Clock::time_point now) {
  if (hosts_waiting == 0)
    window = HostWindow{std::this_thread::get_id(), now, thread_cpu_s(), 0.0};
}

void HybridPipeline::State::run(Job& job) {
  {
    std::lock_guard lock(mutex);
    if (closing) {
      owned.pop_front();
      ++stats.steps_cancelled;
      slot_freed.notify_all();
      log->warn("hybrid pipeline: step {} cancelled at shutdown", job.step);
      job.promise.set_exception(std::make_exception_ptr(
          Error(ErrorKind::kDisconnected,
                fmt::format("hybrid pipeline: step {} was cancelled before the board started it: "
                            "the pipeline shut down",
                            job.step))));
      return;
    }
    account(Deadline::Clock::now());
    board_busy = true;
  }
  std::optional<NaturalGradientResult> result;
  std::exception_ptr failure;
  try {
    result = job.h ? estimator.estimate(job.g, job.curvature, *job.h)
                   : estimator.estimate(job.g, job.curvature);
  } catch (...) {
    failure = std::current_exception();
  }
  {
    // The slot is free before the future is ready, so a host that reads the future and submits
    // at once never waits for a slot that is about to free.
    std::lock_guard lock(mutex);
    account(Deadline::Clock::now());
    board_busy = false;
    board_has_run = true;
    owned.pop_front();
    ++(failure ? stats.steps_failed : stats.steps_run);
  }
  slot_freed.notify_all();
  if (failure) {
    log->debug("hybrid pipeline: step {} failed on the board", job.step);
    job.promise.set_exception(failure);
  } else {
    job.promise.set_value(std::move(*result));
  }
}

HybridPipeline::HybridPipeline(driver::ResonatorBoard& board,
                               NaturalGradientOptions estimator_options,
                               HybridPipelineOptions options) {
  options.validate();
  state_ = std::make_unique<State>(board, estimator_options, options);
  State* s = state_.get();
  // Handlers never throw (run() catches into the promise), so run() returns only when the work
  // guard is released and the queue has drained.
  s->worker = std::thread([s] { s->context.run(); });
}

HybridPipeline::~HybridPipeline() {
  try {
    shutdown();
  } catch (...) {
    // Destructors never throw; shutdown() only throws if joining fails (std::system_error).
  }
}

std::future<NaturalGradientResult> HybridPipeline::submit(std::int64_t step, Eigen::VectorXd g,
                                                          Eigen::MatrixXd F) {
  auto job = std::make_shared<Job>();
  job->step = step;
  job->g = std::move(g);
  job->curvature = std::move(F);
  return enqueue(std::move(job));
}

std::future<NaturalGradientResult> HybridPipeline::submit(std::int64_t step, Eigen::VectorXd g,
                                                          Eigen::MatrixXd J, Eigen::MatrixXd H) {
  auto job = std::make_shared<Job>();
  job->step = step;
  job->g = std::move(g);
  job->curvature = std::move(J);
  job->h = std::move(H);
  return enqueue(std::move(job));
}

std::future<NaturalGradientResult> HybridPipeline::enqueue(std::shared_ptr<Job> job) {
  State& s = *state_;
  const Deadline deadline = Deadline::after(s.options.timeout);
  std::unique_lock lock(s.mutex);
  const auto slot_or_closed = [&s] { return s.closing || s.owned.size() < kSlots; };
  if (!s.window) {  // the producer's first submit: its working window starts here
    const auto now = Deadline::Clock::now();
    s.account(now);
    s.host_resumes(now);
  }
  bool free = true;
  if (!slot_or_closed()) {
    // Both slots taken: the host is blocked on the board from here.
    const auto start = Deadline::Clock::now();
    s.account(start);
    s.host_blocks(start);
    ++s.hosts_waiting;
    free = s.slot_freed.wait_until(lock, deadline.when(), slot_or_closed);
    const auto end = Deadline::Clock::now();
    s.account(end);
    --s.hosts_waiting;
    s.host_resumes(end);
    s.stats.host_wait_s += seconds(end - start);
  }
  if (s.closing) {
    throw Error(ErrorKind::kDisconnected,
                fmt::format("hybrid pipeline: submit(step {}) after shutdown", job->step));
  }
  if (!free) {
    throw Error(ErrorKind::kTimeout,
                fmt::format("hybrid pipeline: submit(step {}) waited {} ms (options.timeout) for "
                            "a slot; steps {} (on the board) and {} (staged) still own both",
                            job->step, s.options.timeout.count(), s.owned.front(), s.owned.back()));
  }
  s.owned.push_back(job->step);
  ++s.stats.submitted;
  auto future = job->promise.get_future();
  // Posted under the lock: shutdown() sets `closing` under it too, so every job that got a slot
  // is in the context's queue before the work guard is released, and is run or cancelled, never
  // dropped with its promise unset. post() never runs the handler inline.
  asio::post(s.context, [&s, job] { s.run(*job); });
  return future;
}

NaturalGradientResult HybridPipeline::wait(std::future<NaturalGradientResult>& result) {
  State& s = *state_;
  Deadline::Clock::time_point start;
  {
    std::lock_guard lock(s.mutex);
    start = Deadline::Clock::now();
    s.account(start);
    s.host_blocks(start);
    ++s.hosts_waiting;
  }
  result.wait();
  {
    std::lock_guard lock(s.mutex);
    const auto end = Deadline::Clock::now();
    s.account(end);
    --s.hosts_waiting;
    s.host_resumes(end);
    s.stats.host_wait_s += seconds(end - start);
  }
  return result.get();
}

void HybridPipeline::shutdown() {
  State& s = *state_;
  {
    std::lock_guard lock(s.mutex);
    s.account(Deadline::Clock::now());
    s.closing = true;
  }
  s.slot_freed.notify_all();
  std::lock_guard join_lock(s.join_mutex);
  if (!s.worker.joinable())
    return;
  s.work.reset();
  s.worker.join();
  s.log->debug("hybrid pipeline shut down: {}", stats().brief_report());
}

bool HybridPipeline::is_open() const {
  std::lock_guard lock(state_->mutex);
  return !state_->closing;
}

HybridPipelineStats HybridPipeline::stats() const {
  std::lock_guard lock(state_->mutex);
  state_->account(Deadline::Clock::now());
  return state_->stats;
}

PipelinedTrainingResult run_pipelined(
    driver::ResonatorBoard& board, const NaturalGradientOptions& estimator_options,
    Eigen::VectorXd theta0, const ComputeGradientAndCurvature& compute_gradient_and_curvature,
    const ApplyUpdate& apply_update, const PipelinedTrainingOptions& options) {
  options.validate();
  if (!compute_gradient_and_curvature)
    throw Error(ErrorKind::kInvalidArgument,
                "run_pipelined: compute_gradient_and_curvature is empty");
  if (!apply_update)
    throw Error(ErrorKind::kInvalidArgument, "run_pipelined: apply_update is empty");
  const auto start = Deadline::Clock::now();
  HybridPipeline pipeline(board, estimator_options, options.pipeline);
  const auto submit = [&pipeline](std::int64_t step, StepProblem p) {
    if (p.h)
      return pipeline.submit(step, std::move(p.gradient), std::move(p.curvature), std::move(*p.h));
    return pipeline.submit(step, std::move(p.gradient), std::move(p.curvature));
  };

  Eigen::VectorXd theta = std::move(theta0);
  if (!options.overlap) {
    // The plain loop: the same calls, in the same order, as the estimator by hand.
    for (std::int64_t k = 0; k < options.steps; ++k) {
      auto estimate = submit(k, compute_gradient_and_curvature(theta, k));
      apply_update(theta, pipeline.wait(estimate));
    }
  } else {
    // Step k+1's problem is computed at theta_k (one step stale) while the board runs step k,
    // and staged at once, so the board starts it as soon as step k is done (the second slot).
    auto current = submit(0, compute_gradient_and_curvature(theta, 0));
    for (std::int64_t k = 0; k < options.steps; ++k) {
      std::future<NaturalGradientResult> next;
      if (k + 1 < options.steps)
        next = submit(k + 1, compute_gradient_and_curvature(theta, k + 1));
      apply_update(theta, pipeline.wait(current));
      current = std::move(next);
    }
  }
  pipeline.shutdown();

  PipelinedTrainingResult out;
  out.theta = std::move(theta);
  out.steps = options.steps;
  out.overlap = options.overlap;
  out.stats = pipeline.stats();
  out.wall_time_s = seconds(Deadline::Clock::now() - start);
  common::logger("kelvin.runtime")->info("training: {}", out.brief_report());
  return out;
}

}  // namespace kelvin::runtime
