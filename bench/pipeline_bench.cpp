// The hybrid pipeline's wall time per training step, pipelined against sequential on the same
// work (the baseline, in the same run): TNGD on the logistic task of the TNGD tests, with the
// host computing the gradient and GGN over the whole of a dataset of `examples` (the argument:
// more examples, more host work per step against the same board work). Pipelined, the host's
// work overlaps the board's, so the ratio shows what the overlap saves on this machine; at best
// the step costs max(host, board) instead of host + board. Wall time (UseRealTime), since the
// work runs on three threads (host, pipeline worker, the emulated board's).
#include <cstdint>

#include <benchmark/benchmark.h>
#include <Eigen/Dense>

#include "kelvin/driver/backends/backends.hpp"
#include "kelvin/runtime/hybrid_pipeline.hpp"
#include "logistic_fixture.hpp"
#include "ratio.hpp"

namespace {

using kelvin::runtime::testing::kLogisticFeatures;
using kelvin::runtime::testing::LogisticDataset;

constexpr std::int64_t kStepsPerIteration = 20;

// One training run of kStepsPerIteration steps per iteration, on one board for all iterations.
void train(benchmark::State& state, bool overlap) {
  const auto examples = static_cast<int>(state.range(0));
  const LogisticDataset d = kelvin::runtime::testing::make_logistic_dataset(examples, 99);
  kelvin::driver::ResonatorBoard board(std::shared_ptr<kelvin::driver::Device>(
      kelvin::driver::backends::open("sim:resonator?cells=8&seed=7")));
  kelvin::runtime::NaturalGradientOptions estimator;
  estimator.damping = 1e-4;
  estimator.time_us = 50.0;
  estimator.repeats = 2;
  kelvin::runtime::PipelinedTrainingOptions options;
  options.steps = kStepsPerIteration;
  options.overlap = overlap;
  const auto compute = [&d, examples](const Eigen::VectorXd& theta, std::int64_t k) {
    auto b = kelvin::runtime::testing::logistic_batch(d, theta, static_cast<int>(k), examples);
    return kelvin::runtime::StepProblem{std::move(b.gradient), std::move(b.ggn), std::nullopt};
  };
  const auto apply = [](Eigen::VectorXd& theta, const kelvin::runtime::NaturalGradientResult& r) {
    theta += kelvin::runtime::tngd_update(r.estimate, kelvin::runtime::TngdMode::kTngd, 0.25);
  };
  double overlap_sum = 0.0;
  for (auto _ : state) {
    const auto result = kelvin::runtime::run_pipelined(
        board, estimator, Eigen::VectorXd::Zero(kLogisticFeatures), compute, apply, options);
    benchmark::DoNotOptimize(result.theta.data());
    overlap_sum += result.stats.overlap_fraction();
  }
  state.SetItemsProcessed(state.iterations() * kStepsPerIteration);
  state.counters["overlap"] = overlap_sum / static_cast<double>(state.iterations());
}

void BM_SequentialTrainingStep(benchmark::State& state) {
  train(state, false);
}
BENCHMARK(BM_SequentialTrainingStep)
    ->Arg(4096)
    ->Arg(16384)
    ->Arg(65536)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void BM_PipelinedTrainingStep(benchmark::State& state) {
  train(state, true);
}
BENCHMARK(BM_PipelinedTrainingStep)
    ->Arg(4096)
    ->Arg(16384)
    ->Arg(65536)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

KELVIN_BENCH_RATIO("BM_PipelinedTrainingStep", "BM_SequentialTrainingStep",
                   "pipelined hybrid step against sequential");
}  // namespace
