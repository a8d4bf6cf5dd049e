// The resonator board's step engine alone, at sizes past the board's 256 cells: samples per
// second of ResonatorSteppers::step (Philox normals, x <- Phi x + c + L xi in the board's fixed
// summation order, the rails), without the ADC and on-board sums of BM_EmulatedBoardRun. The
// step is built by hand (dense Phi, dense lower-triangular L as a Cholesky factor is) because
// discretizing 1024 cells exactly (a 3072 x 3072 matrix exponential) would take minutes; the
// arithmetic per sample is the board's. Compared with BM_BaselineEigenStep and BM_RooflineStep.
#include <cstddef>
#include <cstdint>
#include <vector>

#include <benchmark/benchmark.h>
#include <Eigen/Dense>

#include "kelvin/sim_backend/board_imperfections.hpp"
#include "kelvin/sim_backend/gaussian_stream.hpp"
#include "kelvin/sim_backend/resonator_register_file.hpp"
#include "kelvin/sim_backend/resonator_steppers.hpp"
#include "ratio.hpp"

namespace {

namespace sim = kelvin::sim_backend;

// Phi = 0.36 I plus small mixed-sign off-diagonals (dense, stable); L lower triangular.
sim::LinearStep hand_built_step(Eigen::Index n) {
  Eigen::MatrixXd phi(n, n);
  Eigen::MatrixXd factor = Eigen::MatrixXd::Zero(n, n);
  for (Eigen::Index i = 0; i < n; ++i) {
    for (Eigen::Index j = 0; j < n; ++j) {
      const double off =
          static_cast<double>((i * 31 + j * 17) % 64 - 32) / (64.0 * static_cast<double>(n));
      phi(i, j) = i == j ? 0.36 : off;
      if (j < i)
        factor(i, j) = off * 0.01;
    }
    factor(i, i) = 0.5;
  }
  sim::LinearStep step;
  step.dim = static_cast<std::size_t>(n);
  step.gamma = Eigen::MatrixXd::Identity(n, n) * 0.64;
  step.input_map = Eigen::MatrixXd::Identity(n, n);
  step.unit_factor = factor;
  step.phi = sim::to_panels(phi, /*trim_zero_columns=*/false);
  step.ready = true;
  return step;
}

void BM_EmulatedStep(benchmark::State& state) {
  const auto n = static_cast<std::uint32_t>(state.range(0));
  const sim::BoardImperfections flaws =
      sim::draw_imperfections("bench", n, sim::ImperfectionModel::ideal());
  sim::ResonatorSteppers steppers(n, flaws);
  sim::ResonatorRegisters registers(n);
  registers.coupling = Eigen::MatrixXd::Identity(n, n);
  registers.bias = Eigen::VectorXd::Constant(n, 0.01);
  registers.noise_code = 1000;
  registers.programmed = true;
  steppers.install_overdamped(hand_built_step(n), registers);
  const sim::GaussianStream noise(1);
  std::vector<double> z(2 * std::size_t{n}, 0.0);
  const std::uint64_t samples = n <= 256 ? 2048 : 256;
  std::uint64_t index = 0;
  for (auto _ : state) {
    for (std::uint64_t k = 0; k < samples; ++k)
      steppers.step(sim::Dynamics::kOverdamped, z, ++index, noise);
    benchmark::DoNotOptimize(z.data());
  }
  const auto total = static_cast<double>(state.iterations() * samples);
  state.SetItemsProcessed(static_cast<std::int64_t>(total));
  state.counters["samples_per_second"] = benchmark::Counter(total, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_EmulatedStep)->Arg(8)->Arg(64)->Arg(256)->Arg(1024)->Unit(benchmark::kMicrosecond);

KELVIN_BENCH_RATIO("BM_EmulatedStep", "BM_BaselineEigenStep",
                   "the board's step engine (noise, exact step, rails) against a bare Eigen step");
KELVIN_BENCH_RATIO("BM_EmulatedStep", "BM_RooflineStep",
                   "the board's step engine against the roofline bound of its step");

}  // namespace
