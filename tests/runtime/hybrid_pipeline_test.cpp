// The asynchronous hybrid pipeline's mechanics: double buffering (at most two problems owned),
// errors carried to the futures, shutdown and destruction without hanging, refused options. The
// training driver run_pipelined is tested in hybrid_pipeline_training_test.cpp.
#include "kelvin/runtime/hybrid_pipeline.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <future>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <Eigen/Dense>

#include "hybrid_pipeline_fixture.hpp"
#include "kelvin/common/error.hpp"
#include "kelvin/driver/inprocess_transport.hpp"
#include "kelvin/sim_backend/resonator_firmware.hpp"
#include "kelvin/testing/boards.hpp"
#include "kelvin/testing/errors.hpp"

namespace kelvin::runtime {
namespace {

using namespace std::chrono_literals;
using kelvin::testing::message_of;
using kelvin::testing::open_resonator_board;
using testing::tngd_options;

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
  auto board = open_resonator_board(8, 4);
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
  auto board = open_resonator_board(8, 9);
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
  auto board = open_resonator_board(8, 10);
  HybridPipelineOptions bad_timeout;
  bad_timeout.timeout = 0ms;
  EXPECT_NE(message_of([&] { HybridPipeline p(board, tngd_options(), bad_timeout); },
                       common::ErrorKind::kInvalidArgument)
                .find("timeout = 0 ms"),
            std::string::npos);
  PipelinedTrainingOptions no_steps;
  no_steps.steps = 0;
  const auto apply = [](Eigen::VectorXd&, const NaturalGradientResult&) {};
  const auto compute = [](const Eigen::VectorXd&, std::int64_t) { return StepProblem{}; };
  EXPECT_NE(message_of(
                [&] {
                  run_pipelined(board, tngd_options(), Eigen::VectorXd::Zero(4), compute, apply,
                                no_steps);
                },
                common::ErrorKind::kInvalidArgument)
                .find("steps = 0"),
            std::string::npos);
  EXPECT_NE(
      message_of([&] { run_pipelined(board, tngd_options(), Eigen::VectorXd::Zero(4), {}, apply); },
                 common::ErrorKind::kInvalidArgument)
          .find("compute_gradient_and_curvature is empty"),
      std::string::npos);
}

}  // namespace
}  // namespace kelvin::runtime
