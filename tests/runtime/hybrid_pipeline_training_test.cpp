// The hybrid pipeline's training driver run_pipelined: sequential mode reproduces the estimator
// bit for bit, pipelined mode overlaps the host's work with the board's, and pipelined TNGD still
// trains on one-step-stale gradients. The pipeline's mechanics are tested in
// hybrid_pipeline_test.cpp.
#include "kelvin/runtime/hybrid_pipeline.hpp"

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <Eigen/Dense>

#include "hybrid_pipeline_fixture.hpp"
#include "kelvin/testing/boards.hpp"
#include "logistic_fixture.hpp"

namespace kelvin::runtime {
namespace {

using kelvin::testing::open_resonator_board;
using testing::LogisticBatch;
using testing::LogisticDataset;
using testing::tngd_options;

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

  auto by_hand_board = open_resonator_board(8, 5);
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

  auto pipeline_board = open_resonator_board(8, 5);
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

// The board's time per TNGD step on this machine and build, measured through the pipeline's
// own counters (so the host's share below scales with the build: Release, Debug, sanitizers).
double board_seconds_per_step(const Eigen::VectorXd& theta0) {
  auto board = open_resonator_board(8, 7);
  HybridPipeline pipeline(board, tngd_options());
  const LogisticDataset probe = testing::make_logistic_dataset(512, 98);
  for (int k = 0; k < 5; ++k) {
    const LogisticBatch b = testing::logistic_batch(probe, theta0, k, 512);
    auto f = pipeline.submit(k, b.gradient, b.ggn);
    pipeline.wait(f);
  }
  const double per_step = pipeline.stats().board_busy_s / 5.0;
  std::printf("[   INFO   ] board %.3g ms per step\n", per_step * 1e3);
  return per_step;
}

// Each host step computes a real gradient and GGN (512 examples, CPU work that the overlap
// counter sees) and then waits half a board step, as a trainer waits for its GPU or data loader.
// The wait is what makes the assertions independent of how many cores are free on this shared
// machine: sequentially the board is idle for at least every wait (a sleep never ends early),
// while pipelined the wait passes during the board's previous step, whose length only grows
// under load. Pure CPU work would not do: with one free core the two threads cannot overlap,
// and an earlier version of this test, timed on arithmetic alone, failed under parallel ctest.
// Asserted on the pipeline's own counters, summed over three sequential and three pipelined
// runs taken in turn.
TEST(HybridPipeline, PipelinedModeOverlapsHostWorkWithTheBoard) {
  const Eigen::VectorXd theta0 = Eigen::VectorXd::Zero(testing::kLogisticFeatures);
  const auto host_wait = std::chrono::duration<double>(0.5 * board_seconds_per_step(theta0));
  constexpr int kExamples = 512;
  const LogisticDataset d = testing::make_logistic_dataset(kExamples, 99);
  const auto compute = [&d, host_wait](const Eigen::VectorXd& theta, std::int64_t k) {
    LogisticBatch b = testing::logistic_batch(d, theta, static_cast<int>(k), kExamples);
    std::this_thread::sleep_for(host_wait);
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
      auto board = open_resonator_board(8, 7);
      training.overlap = overlap;
      add(overlap ? pipelined : sequential,
          run_pipelined(board, tngd_options(), theta0, compute, apply, training));
    }
  }
  EXPECT_EQ(pipelined.steps_run, 60u);
  // Sequentially the board waits out every host wait after its first step (19 per run).
  EXPECT_GE(sequential.board_idle_s, 3 * 19 * host_wait.count());
  EXPECT_LT(pipelined.board_idle_s, sequential.board_idle_s);
  // The overlap counter is a lower bound from the host thread's CPU time (hybrid_pipeline.hpp):
  // a sequential loop must score exactly 0. Pipelined it scores > 0 only while the host's window
  // is shorter than its CPU work plus the board's step, which a load change between the probe
  // and these runs can undo, so it is printed, not asserted.
  EXPECT_EQ(sequential.overlap_s, 0.0);
  std::printf("[   INFO   ] overlap: pipelined %.3f, sequential %.3f of board busy time\n",
              pipelined.overlap_fraction(), sequential.overlap_fraction());
}

// TNGD on the logistic task through run_pipelined, loss per step, from theta = 0.
std::vector<double> train_through_pipeline(const LogisticDataset& d, bool overlap, double rate,
                                           std::uint64_t board_seed) {
  constexpr int kBatch = 128;
  auto board = open_resonator_board(8, board_seed);
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
