// The asynchronous hybrid pipeline: the worker computes what the estimator computes, overlaps the
// host's work with the board's, owns at most two problems, carries errors to the futures and
// shuts down without hanging; pipelined TNGD still trains.
#include "kelvin/runtime/hybrid_pipeline.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <Eigen/Dense>

#include "kelvin/common/error.hpp"
#include "kelvin/driver/backends/backends.hpp"
#include "kelvin/driver/inprocess_transport.hpp"
#include "kelvin/sim_backend/resonator_firmware.hpp"
#include "logistic_fixture.hpp"

namespace kelvin::runtime {
namespace {

using namespace std::chrono_literals;
using testing::LogisticBatch;
using testing::LogisticDataset;

driver::ResonatorBoard open_board(std::uint64_t seed) {
  return driver::ResonatorBoard(std::shared_ptr<driver::Device>(
      driver::backends::open("sim:resonator?cells=8&seed=" + std::to_string(seed))));
}

// The kind of the common::Error a future holds (fails the test if it holds a value).
common::ErrorKind error_kind(std::future<NaturalGradientResult>& f, std::string* what = nullptr) {
  try {
    f.get();
  } catch (const common::Error& e) {
    if (what)
      *what = e.what();
    return e.kind();
  }
  ADD_FAILURE() << "the future holds a result, not a common::Error";
  return common::ErrorKind::kDevice;
}

// An emulated 8-cell board whose firmware can be held: while held, every request frame waits
// at the board before it is handled, as a board busy with a long integration would. Powering
// the board off (closing the device) lets held frames through, so teardown never hangs.
class HoldableBoard {
 public:
  explicit HoldableBoard(std::uint64_t seed) : gate_(std::make_shared<Gate>()) {
    sim_backend::ResonatorConfig config;
    config.seed = seed;
    std::shared_ptr<sim_backend::FirmwareEndpoint> firmware =
        sim_backend::make_resonator_firmware(config);
    auto gate = gate_;
    driver::BoardHandler handler = [firmware, gate](std::span<const std::uint8_t> bytes) {
      gate->pass();
      return firmware->on_bytes(bytes);
    };
    driver::BoardIdle idle = [firmware] { return firmware->on_idle(); };
    driver::BoardPowerOff power_off = [firmware, gate]() noexcept {
      gate->release();
      firmware->power_off();
    };
    device_ = std::make_shared<driver::Device>(
        std::make_unique<driver::InProcessTransport>(handler, "holdable", idle, power_off),
        driver::DeviceAddress::parse("sim:resonator?cells=8&seed=" + std::to_string(seed)));
    board_ = std::make_unique<driver::ResonatorBoard>(device_);
  }
  ~HoldableBoard() { gate_->release(); }

  driver::ResonatorBoard& board() { return *board_; }
  driver::Device& device() { return *device_; }
  void hold() { gate_->hold(); }
  void release() { gate_->release(); }
  // Blocks until a request frame is waiting at the held gate (the worker is inside a step).
  void wait_until_a_request_is_held() { gate_->wait_for_waiter(); }

 private:
  struct Gate {
    std::mutex mutex;
    std::condition_variable cv;
    bool held = false;
    int waiting = 0;
    void pass() {
      std::unique_lock lock(mutex);
      ++waiting;
      cv.notify_all();
      cv.wait(lock, [this] { return !held; });
      --waiting;
    }
    void hold() {
      std::lock_guard lock(mutex);
      held = true;
    }
    void release() {
      std::lock_guard lock(mutex);
      held = false;
      cv.notify_all();
    }
    void wait_for_waiter() {
      std::unique_lock lock(mutex);
      cv.wait(lock, [this] { return waiting > 0; });
    }
  };
  std::shared_ptr<Gate> gate_;
  std::shared_ptr<driver::Device> device_;
  std::unique_ptr<driver::ResonatorBoard> board_;
};

// A small well-conditioned problem (F = diag(1..4) + 0.1 couplings, g = ones).
Eigen::MatrixXd small_curvature() {
  Eigen::MatrixXd f = Eigen::MatrixXd::Constant(4, 4, 0.1);
  f.diagonal() << 1.0, 2.0, 3.0, 4.0;
  return f;
}

NaturalGradientOptions tngd_options() {
  NaturalGradientOptions o;
  o.damping = 1e-4;
  o.time_us = 50.0;
  o.repeats = 2;
  return o;
}

// The logistic task's host step; odd steps send GGN factors (J = the batch's rows, H =
// diag(p (1 - p)) / batch) instead of the dense F, so that both submit() forms are exercised.
StepProblem logistic_problem(const LogisticDataset& d, const Eigen::VectorXd& w, std::int64_t step,
                             int batch) {
  const LogisticBatch b = testing::logistic_batch(d, w, static_cast<int>(step), batch);
  if (step % 2 == 0)
    return {b.gradient, b.ggn, std::nullopt};
  const auto start = static_cast<Eigen::Index>(step) * batch % d.x.rows();
  const Eigen::MatrixXd x = d.x.middleRows(start, batch);
  const Eigen::VectorXd p = testing::sigmoid(x * w);
  const Eigen::VectorXd h = p.array() * (1.0 - p.array()) / batch;
  return {b.gradient, x, Eigen::MatrixXd(h.asDiagonal())};
}

// Sequential mode is the plain loop through a worker thread: with the same board seed and
// options, every estimate equals the estimator's called by hand, bit for bit, including warm
// start and upload delay, which depend on the order of the steps.
TEST(HybridPipeline, SequentialModeGivesExactlyTheEstimatorsResults) {
  const LogisticDataset d = testing::make_logistic_dataset();
  NaturalGradientOptions options = tngd_options();
  options.warm_start = true;
  options.upload_delay_us = 3.0;
  constexpr int kSteps = 8;
  constexpr int kBatch = 128;

  auto by_hand_board = open_board(5);
  NaturalGradientEstimator estimator(by_hand_board, options);
  std::vector<Eigen::VectorXd> by_hand;
  Eigen::VectorXd w = Eigen::VectorXd::Zero(testing::kLogisticFeatures);
  for (int k = 0; k < kSteps; ++k) {
    const StepProblem p = logistic_problem(d, w, k, kBatch);
    const auto r = p.h ? estimator.estimate(p.gradient, p.curvature, *p.h)
                       : estimator.estimate(p.gradient, p.curvature);
    by_hand.push_back(r.estimate);
    w += tngd_update(r.estimate, TngdMode::kTngd, 1.0);
  }

  auto pipeline_board = open_board(5);
  std::vector<Eigen::VectorXd> pipelined;
  PipelinedTrainingOptions training;
  training.steps = kSteps;
  training.overlap = false;
  const auto result = run_pipelined(
      pipeline_board, options, Eigen::VectorXd::Zero(testing::kLogisticFeatures),
      [&](const Eigen::VectorXd& theta, std::int64_t k) {
        return logistic_problem(d, theta, k, kBatch);
      },
      [&](Eigen::VectorXd& theta, const NaturalGradientResult& r) {
        pipelined.push_back(r.estimate);
        theta += tngd_update(r.estimate, TngdMode::kTngd, 1.0);
      },
      training);

  ASSERT_EQ(pipelined.size(), by_hand.size());
  for (std::size_t k = 0; k < by_hand.size(); ++k)
    EXPECT_TRUE(pipelined[k] == by_hand[k]) << "step " << k;
  EXPECT_TRUE(result.theta == w);
  EXPECT_EQ(result.stats.steps_run, static_cast<std::uint64_t>(kSteps));
}

// Examples whose full-batch gradient and GGN take the host about half the board's time per step
// on this machine and build (measured here, so that the ratio holds in Release, Debug and
// sanitizer builds alike; the assertions do not depend on the value).
int examples_for_half_a_board_step(const Eigen::VectorXd& theta0) {
  auto board = open_board(7);
  HybridPipeline pipeline(board, tngd_options());
  const LogisticDataset probe = testing::make_logistic_dataset(4096, 98);
  const auto host_start = std::chrono::steady_clock::now();
  for (int k = 0; k < 5; ++k) {
    const LogisticBatch b = testing::logistic_batch(probe, theta0, k, 4096);
    auto f = pipeline.submit(k, b.gradient, b.ggn);
    pipeline.wait(f);
  }
  const double total =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - host_start).count();
  const auto stats = pipeline.stats();
  const double board_per_step = stats.board_busy_s / 5.0;
  const double host_per_example = std::max(total - stats.host_wait_s, 1e-9) / (5.0 * 4096.0);
  const double examples = 0.5 * board_per_step / host_per_example;
  const int rounded = static_cast<int>(std::clamp(examples / 512.0, 1.0, 512.0)) * 512;
  std::printf("[   INFO   ] board %.3g ms per step, host %.3g us per 1000 examples: %d examples\n",
              board_per_step * 1e3, host_per_example * 1e9, rounded);
  return rounded;
}

// The host's work is real arithmetic: the gradient and GGN of a whole dataset per step
// (O(examples x features^2)), sized to about half a board step. Sequentially the board waits
// for all of it every step; pipelined, the host does it while the board runs the previous step
// and stages the next problem before that step ends, so the board's idle time falls and the
// host computes during part of the board's busy time (the pipeline's overlap is a lower bound
// from the host thread's CPU time, so a sequential loop scores 0 however the threads are
// scheduled). Asserted on the pipeline's own counters only, and on sums over three sequential
// and three pipelined runs taken in turn, so that a change of load on this shared machine hits
// both modes alike. Measured over 30 repetitions on the loaded 2-core machine: overlap median
// 0.40 (min 0.05) pipelined, 0 sequential; board idle 0.03 against 0.33 ms per step.
TEST(HybridPipeline, PipelinedModeOverlapsHostWorkWithTheBoard) {
  const Eigen::VectorXd theta0 = Eigen::VectorXd::Zero(testing::kLogisticFeatures);
  const int examples = examples_for_half_a_board_step(theta0);
  const LogisticDataset d = testing::make_logistic_dataset(examples, 99);
  const auto compute = [&d, examples](const Eigen::VectorXd& theta, std::int64_t k) {
    LogisticBatch b = testing::logistic_batch(d, theta, static_cast<int>(k), examples);
    return StepProblem{std::move(b.gradient), std::move(b.ggn), std::nullopt};
  };
  const auto apply = [](Eigen::VectorXd& theta, const NaturalGradientResult& r) {
    theta += tngd_update(r.estimate, TngdMode::kTngd, 0.25);
  };
  PipelinedTrainingOptions training;
  training.steps = 20;

  HybridPipelineStats sequential;
  HybridPipelineStats pipelined;
  const auto add = [](HybridPipelineStats& sum, const PipelinedTrainingResult& r) {
    std::printf("[   INFO   ] %s\n", r.brief_report().c_str());
    sum.steps_run += r.stats.steps_run;
    sum.board_busy_s += r.stats.board_busy_s;
    sum.board_idle_s += r.stats.board_idle_s;
    sum.host_wait_s += r.stats.host_wait_s;
    sum.overlap_s += r.stats.overlap_s;
  };
  for (int round = 0; round < 3; ++round) {
    for (const bool overlap : {false, true}) {
      auto board = open_board(7);
      training.overlap = overlap;
      add(overlap ? pipelined : sequential,
          run_pipelined(board, tngd_options(), theta0, compute, apply, training));
    }
  }
  EXPECT_EQ(pipelined.steps_run, 60u);
  EXPECT_GT(pipelined.overlap_fraction(), 0.0);
  EXPECT_GT(pipelined.overlap_fraction(), sequential.overlap_fraction());
  EXPECT_LT(pipelined.board_idle_s, sequential.board_idle_s);
}

// Double buffering: one step on the board and one staged; a third submit() waits for a slot and,
// while the board stays held, gives up at options.timeout with kTimeout naming the two steps.
// Releasing the board frees the slots and the pipeline carries on.
TEST(HybridPipeline, AThirdSubmitWaitsForASlotAndTimesOutWhileTheBoardIsHeld) {
  HoldableBoard held(3);
  HybridPipelineOptions options;
  options.timeout = 200ms;
  HybridPipeline pipeline(held.board(), tngd_options(), options);
  const Eigen::VectorXd g = Eigen::VectorXd::Ones(4);
  held.hold();
  auto first = pipeline.submit(1, g, small_curvature());
  held.wait_until_a_request_is_held();
  auto second = pipeline.submit(2, g, small_curvature());  // a slot is free: no wait, no throw

  const auto start = std::chrono::steady_clock::now();
  try {
    pipeline.submit(3, g, small_curvature());
    ADD_FAILURE() << "the third submit did not wait for a slot";
  } catch (const common::Error& e) {
    EXPECT_EQ(e.kind(), common::ErrorKind::kTimeout);
    EXPECT_NE(std::string(e.what()).find("steps 1 (on the board) and 2 (staged)"),
              std::string::npos)
        << e.what();
  }
  // A lower bound only: the wait cannot end before its deadline, however loaded the machine.
  EXPECT_GE(std::chrono::steady_clock::now() - start, options.timeout);

  held.release();
  EXPECT_EQ(first.get().estimate.size(), 4);
  EXPECT_EQ(second.get().estimate.size(), 4);
  auto third = pipeline.submit(3, g, small_curvature());
  EXPECT_EQ(pipeline.wait(third).estimate.size(), 4);
  const auto stats = pipeline.stats();
  EXPECT_EQ(stats.steps_run, 3u);
  EXPECT_EQ(stats.submitted, 3u);
  EXPECT_GE(stats.host_wait_s, 0.2);  // the timed-out submit was the host blocked on the board
}

// Errors of a step (bad input found by the estimator, a board that went away) are not thrown by
// submit(): they reach that step's future, and a failed step does not break the pipeline.
TEST(HybridPipeline, ErrorsInABoardStepReachItsFuture) {
  auto board = open_board(4);
  HybridPipeline pipeline(board, tngd_options());
  const Eigen::VectorXd g = Eigen::VectorXd::Ones(4);
  auto indefinite = pipeline.submit(1, g, -small_curvature());
  auto good = pipeline.submit(2, g, small_curvature());
  std::string what;
  EXPECT_EQ(error_kind(indefinite, &what), common::ErrorKind::kInvalidArgument);
  EXPECT_NE(what.find("positive definite"), std::string::npos) << what;
  EXPECT_EQ(good.get().estimate.size(), 4);

  board.device().close();  // the board vanishes (as on unplug)
  auto after_unplug = pipeline.submit(3, g, small_curvature());
  EXPECT_EQ(error_kind(after_unplug), common::ErrorKind::kDisconnected);
  const auto stats = pipeline.stats();
  EXPECT_EQ(stats.steps_run, 1u);
  EXPECT_EQ(stats.steps_failed, 2u);
}

// shutdown() lets the step on the board finish (its future gets the result) and cancels the
// staged one with an error saying so; submit() after shutdown fails as kDisconnected.
TEST(HybridPipeline, ShutdownFinishesTheRunningStepAndCancelsTheStagedOne) {
  HoldableBoard held(6);
  HybridPipeline pipeline(held.board(), tngd_options());
  const Eigen::VectorXd g = Eigen::VectorXd::Ones(4);
  held.hold();
  auto running = pipeline.submit(1, g, small_curvature());
  held.wait_until_a_request_is_held();
  auto staged = pipeline.submit(2, g, small_curvature());

  std::thread closer([&pipeline] { pipeline.shutdown(); });
  while (pipeline.is_open())
    std::this_thread::yield();
  try {
    pipeline.submit(3, g, small_curvature());
    ADD_FAILURE() << "submit after shutdown did not throw";
  } catch (const common::Error& e) {
    EXPECT_EQ(e.kind(), common::ErrorKind::kDisconnected);
  }
  held.release();
  closer.join();

  EXPECT_EQ(running.get().estimate.size(), 4);
  std::string what;
  EXPECT_EQ(error_kind(staged, &what), common::ErrorKind::kDisconnected);
  EXPECT_NE(what.find("step 2 was cancelled before the board started it"), std::string::npos)
      << what;
  const auto stats = pipeline.stats();
  EXPECT_EQ(stats.steps_run, 1u);
  EXPECT_EQ(stats.steps_cancelled, 1u);
  pipeline.shutdown();  // again: a no-op
}

// The destructor cannot interrupt the step on a stuck board, but that step has the estimator's
// own deadline: destruction returns once it passes, and no future is left without an answer.
TEST(HybridPipeline, DestructionWhileTheBoardIsStuckReturnsAtTheStepsDeadline) {
  HoldableBoard held(8);
  NaturalGradientOptions options = tngd_options();
  options.timeout = 300ms;
  std::future<NaturalGradientResult> running;
  std::future<NaturalGradientResult> staged;
  held.hold();
  {
    HybridPipeline pipeline(held.board(), options);
    running = pipeline.submit(1, Eigen::VectorXd::Ones(4), small_curvature());
    held.wait_until_a_request_is_held();
    staged = pipeline.submit(2, Eigen::VectorXd::Ones(4), small_curvature());
  }
  ASSERT_EQ(running.wait_for(0s), std::future_status::ready);
  ASSERT_EQ(staged.wait_for(0s), std::future_status::ready);
  EXPECT_EQ(error_kind(running), common::ErrorKind::kTimeout);
  EXPECT_EQ(error_kind(staged), common::ErrorKind::kDisconnected);
}

// On a working board, destruction right after two submits answers both futures: each holds a
// result (it ran) or the cancellation error (it was still staged); nothing hangs or throws.
TEST(HybridPipeline, DestructionWithWorkInFlightAnswersEveryFuture) {
  auto board = open_board(9);
  std::vector<std::future<NaturalGradientResult>> futures;
  {
    HybridPipeline pipeline(board, tngd_options());
    futures.push_back(pipeline.submit(1, Eigen::VectorXd::Ones(4), small_curvature()));
    futures.push_back(pipeline.submit(2, Eigen::VectorXd::Ones(4), small_curvature()));
  }
  for (auto& f : futures) {
    ASSERT_EQ(f.wait_for(0s), std::future_status::ready);
    try {
      EXPECT_EQ(f.get().estimate.size(), 4);
    } catch (const common::Error& e) {
      EXPECT_EQ(e.kind(), common::ErrorKind::kDisconnected) << e.what();
    }
  }
}

TEST(HybridPipeline, BadOptionsAndCallbacksAreRefusedNamingTheDefect) {
  auto board = open_board(10);
  const auto message_of = [](const std::function<void()>& fn) -> std::string {
    try {
      fn();
    } catch (const common::Error& e) {
      EXPECT_EQ(e.kind(), common::ErrorKind::kInvalidArgument);
      return e.what();
    }
    ADD_FAILURE() << "nothing thrown";
    return {};
  };
  HybridPipelineOptions bad_timeout;
  bad_timeout.timeout = 0ms;
  EXPECT_NE(message_of([&] {
              HybridPipeline p(board, tngd_options(), bad_timeout);
            }).find("timeout = 0 ms"),
            std::string::npos);
  PipelinedTrainingOptions no_steps;
  no_steps.steps = 0;
  const auto apply = [](Eigen::VectorXd&, const NaturalGradientResult&) {};
  const auto compute = [](const Eigen::VectorXd&, std::int64_t) { return StepProblem{}; };
  EXPECT_NE(message_of([&] {
              run_pipelined(board, tngd_options(), Eigen::VectorXd::Zero(4), compute, apply,
                            no_steps);
            }).find("steps = 0"),
            std::string::npos);
  EXPECT_NE(message_of([&] {
              run_pipelined(board, tngd_options(), Eigen::VectorXd::Zero(4), {}, apply);
            }).find("compute_gradient_and_curvature is empty"),
            std::string::npos);
}

// TNGD on the logistic task through run_pipelined, loss per step, from theta = 0.
std::vector<double> train_through_pipeline(const LogisticDataset& d, bool overlap, double rate,
                                           std::uint64_t board_seed) {
  constexpr int kBatch = 128;
  auto board = open_board(board_seed);
  std::vector<double> losses{testing::logistic_loss(d, Eigen::VectorXd::Zero(8))};
  PipelinedTrainingOptions training;
  training.steps = 30;
  training.overlap = overlap;
  run_pipelined(
      board, tngd_options(), Eigen::VectorXd::Zero(testing::kLogisticFeatures),
      [&](const Eigen::VectorXd& theta, std::int64_t k) {
        LogisticBatch b = testing::logistic_batch(d, theta, static_cast<int>(k), kBatch);
        return StepProblem{std::move(b.gradient), std::move(b.ggn), std::nullopt};
      },
      [&](Eigen::VectorXd& theta, const NaturalGradientResult& r) {
        theta += tngd_update(r.estimate, TngdMode::kTngd, rate);
        losses.push_back(testing::logistic_loss(d, theta));
      },
      training);
  return losses;
}

// The task of TngdTraining.LogisticRegressionReachesALowerLossPerStepThanTheBestSgd, pipelined.
// Its gradients are one step stale, and a delayed Newton step at rate eta follows
// e_{k+1} = e_k - eta e_{k-1} on a quadratic: rate 1 no longer converges, and eta = 1/4 (a double
// root r = 1/2 of r^2 - r + eta) contracts fastest, so the pipelined run uses 1/4, chosen from
// that theory, not from this data. It must still beat the best-tuned SGD at steps 5, 10 and 30
// (the same bar as the sequential test); the curves against sequential TNGD (rate 1) are printed
// for docs/hybrid-loop.md.
TEST(HybridPipeline, PipelinedTngdReachesALowerLossPerStepThanTheBestSgd) {
  const LogisticDataset d = testing::make_logistic_dataset();
  std::vector<double> best_sgd;
  double best_rate = 0.0;
  for (const double rate : {0.3, 1.0, 3.0, 10.0, 30.0, 100.0}) {
    const auto curve = testing::train_logistic_sgd(d, rate, 30, 128);
    if (std::isfinite(curve.back()) && (best_sgd.empty() || curve.back() < best_sgd.back())) {
      best_sgd = curve;
      best_rate = rate;
    }
  }
  const auto sequential = train_through_pipeline(d, false, 1.0, 11);
  const auto pipelined = train_through_pipeline(d, true, 0.25, 11);
  std::printf("[   INFO   ] step  SGD (rate %g)  TNGD sequential (1)  TNGD pipelined (1/4)\n",
              best_rate);
  for (int step : {0, 1, 2, 5, 10, 20, 30}) {
    const auto k = static_cast<std::size_t>(step);
    std::printf("[   INFO   ] %4d  %12.4f  %19.4f  %20.4f\n", step, best_sgd[k], sequential[k],
                pipelined[k]);
  }
  for (int step : {5, 10, 30}) {
    EXPECT_LT(pipelined[static_cast<std::size_t>(step)], best_sgd[static_cast<std::size_t>(step)])
        << "step " << step;
  }
}

}  // namespace
}  // namespace kelvin::runtime
