// Emulated resonator board throughput: samples per second of the firmware's exact step
// (x <- Phi x + c + L xi, ADC, on-board sums), against a baseline that does the same arithmetic
// with Eigen and std::normal_distribution and nothing else. The ratio shows what the board
// model (Philox noise, ADC, rails, accumulation) costs over the bare step. The board has at most
// 256 cells; step_bench.cpp measures its step engine at 1024 against the baseline's 1024 (runs of
// 256 samples there, 2048 below; rates are per sample either way). Boards are set up once per
// size and kept.
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>
#include <Eigen/Dense>

#include "kelvin/firmware_protocol/wire_layout.hpp"
#include "kelvin/sim_backend/resonator_model.hpp"
#include "ratio.hpp"

namespace {

std::uint64_t samples_per_run(std::int64_t cells) {
  return cells <= 256 ? 2048 : 256;
}

std::span<const std::uint8_t> as_bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// Diagonally dominant couplings: 1/us on the diagonal, small mixed-sign off-diagonals, in the
// wire's upper-triangle order.
std::vector<std::int16_t> couplings(std::uint32_t n) {
  std::vector<std::int16_t> upper(kelvin::firmware_protocol::upper_triangle_size(n));
  kelvin::firmware_protocol::for_each_upper_triangle(
      n, [&](std::size_t i, std::size_t j, std::size_t k) {
        const int off = static_cast<int>((i * 31 + j * 17) % 64) - 32;
        upper[k] = static_cast<std::int16_t>(i == j ? 16384 : off * 8 / static_cast<int>(n));
      });
  return upper;
}

// An n-cell board with couplings() and noise code 1000 (and J4 if `quartic`), kept for the
// program's lifetime.
kelvin::sim_backend::ResonatorModel& board(std::uint32_t n, bool quartic) {
  static std::map<std::pair<std::uint32_t, bool>,
                  std::unique_ptr<kelvin::sim_backend::ResonatorModel>>
      boards;
  auto& slot = boards[{n, quartic}];
  if (slot)
    return *slot;
  kelvin::sim_backend::ResonatorConfig config;
  config.cells = n;
  slot = std::make_unique<kelvin::sim_backend::ResonatorModel>(config);
  const std::string codes = kelvin::firmware_protocol::pack_le16(couplings(n));
  slot->program_couplings(n, as_bytes(codes));
  slot->set_noise(1000);
  if (quartic) {
    // J4 = 0.5 / (V^2 us)
    const std::string j4 =
        kelvin::firmware_protocol::pack_le16(std::vector<std::uint16_t>(n, 2048));
    slot->set_quartic(n, as_bytes(j4));
  }
  return *slot;
}

// One run per iteration of the given dynamics on an n-cell board.
void run_board(benchmark::State& state, kelvin::sim_backend::Dynamics dynamics, bool quartic) {
  const auto n = static_cast<std::uint32_t>(state.range(0));
  const std::uint64_t samples = samples_per_run(state.range(0));
  kelvin::sim_backend::ResonatorModel& model = board(n, quartic);
  kelvin::sim_backend::RunRequest request;
  request.duration_ticks = samples * 100;
  request.dynamics = dynamics;
  for (auto _ : state) {
    const auto ticket = model.begin_run(request);
    model.execute(ticket);
    benchmark::DoNotOptimize(model.results(ticket.run_id).sums.data());
    model.release(ticket.run_id);
  }
  const auto total = static_cast<double>(state.iterations() * samples);
  state.SetItemsProcessed(static_cast<std::int64_t>(total));
  // ADC samples per second of CPU time: one core's real-time check (the board makes 1 MS/s).
  state.counters["samples_per_second"] = benchmark::Counter(total, benchmark::Counter::kIsRate);
}

void BM_EmulatedBoardRun(benchmark::State& state) {
  run_board(state, kelvin::sim_backend::Dynamics::kOverdamped, false);
}
BENCHMARK(BM_EmulatedBoardRun)->Arg(8)->Arg(64)->Arg(256)->Unit(benchmark::kMicrosecond);

// The RLC step is 2N-dimensional (4x the multiply-adds of the overdamped step); the quartic
// step takes 16 Strang substeps per sample. Both are compared with BM_EmulatedBoardRun.
void BM_RlcBoardRun(benchmark::State& state) {
  run_board(state, kelvin::sim_backend::Dynamics::kRlc, false);
}
BENCHMARK(BM_RlcBoardRun)->Arg(8)->Arg(64)->Unit(benchmark::kMicrosecond);

void BM_QuarticBoardRun(benchmark::State& state) {
  run_board(state, kelvin::sim_backend::Dynamics::kOverdamped, true);
}
BENCHMARK(BM_QuarticBoardRun)->Arg(8)->Arg(64)->Unit(benchmark::kMicrosecond);

void BM_BaselineEigenStep(benchmark::State& state) {
  const auto n = static_cast<Eigen::Index>(state.range(0));
  const Eigen::MatrixXd phi = Eigen::MatrixXd::Identity(n, n) * 0.36;
  const Eigen::MatrixXd factor = Eigen::MatrixXd::Identity(n, n) * 0.01;
  const Eigen::VectorXd offset = Eigen::VectorXd::Constant(n, 0.01);
  Eigen::VectorXd x = Eigen::VectorXd::Zero(n);
  Eigen::VectorXd xi(n);
  Eigen::VectorXd next(n);
  std::mt19937_64 rng(1);
  std::normal_distribution<double> normal;
  const std::uint64_t samples = samples_per_run(state.range(0));
  for (auto _ : state) {
    for (std::uint64_t k = 0; k < samples; ++k) {
      for (Eigen::Index i = 0; i < n; ++i)
        xi(i) = normal(rng);
      next.noalias() = phi * x;
      next.noalias() += factor * xi;
      next += offset;
      x.swap(next);
    }
    benchmark::DoNotOptimize(x.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(samples));
}
BENCHMARK(BM_BaselineEigenStep)
    ->Arg(8)
    ->Arg(64)
    ->Arg(256)
    ->Arg(1024)
    ->Unit(benchmark::kMicrosecond);

KELVIN_BENCH_RATIO("BM_EmulatedBoardRun", "BM_BaselineEigenStep",
                   "resonator board emulation against a bare Eigen step");
KELVIN_BENCH_RATIO("BM_RlcBoardRun", "BM_EmulatedBoardRun", "RLC dynamics against overdamped");
KELVIN_BENCH_RATIO("BM_QuarticBoardRun", "BM_EmulatedBoardRun",
                   "quartic cells against linear ones");
}  // namespace
