// Natural-gradient host overhead per training step, against an Adam step of the same size.
//
// The step is kelvin.torch's TNGD call at the Fashion-MNIST configuration of docs/python.md,
// scaled to N = 10,000 parameters: the gradient g and the GGN factor J (60 x N: 6 samples x 10
// classes) on a 64-cell emulated board, damping 0.1, t = 50 us, 4 repeats, so the estimator takes
// its row-space path (a 60 x 60 board job). BM_NatGradHostTime passes H = I, as kelvin.torch
// does (it folds H's square root into J); BM_NatGradHostTimeSoftmaxH passes J and the per-sample
// softmax Hessians diag(p) - p p^T (rank 9 of 10 each, so the board gets 54 x 54).
//
// What is counted: the CPU time of the calling thread during estimate(), read with
// CLOCK_THREAD_CPUTIME_ID and given to the benchmark as manual time. That is all the host's own
// work: the checks, the row-space algebra, compiling the board problem, drawing and encoding the
// codes, the calibration lookup, decoding the reads, mapping them back and the summary. The
// emulated board runs its physics on its own thread (InProcessTransport), so its time is not in
// that figure; neither is the host's waiting for replies (a blocked thread uses no CPU), which is
// what the modelled device time and the link latency cost on a real board. The counters show the
// rest of the step: wall_us (the whole call), emulator_cpu_us (the process's CPU time minus the
// calling thread's: the board thread's emulation and frame handling), device_us (the modelled
// device time the summary reports) and host_mflop (the flops the summary's ledger counts).
//
// Baselines: BM_AdamStep, one Adam update of 10,000 float64 parameters (m, v, bias correction,
// sqrt, divide), timed by the benchmark's default CPU time of the same thread; and
// BM_NatGradArithmeticFloor, only the arithmetic the row-space method cannot avoid at this size
// (the Gram matrix J J^T, one product J g and one J^T W with W of m x (repeats + 1) columns),
// which no implementation of the method on this machine's Eigen can go below.
#include <cmath>
#include <cstdint>
#include <ctime>
#include <filesystem>
#include <random>

#include <benchmark/benchmark.h>
#include <Eigen/Dense>

#include "kelvin/driver/backends/backends.hpp"
#include "kelvin/runtime/calibration/calibration_file.hpp"
#include "kelvin/runtime/natural_gradient.hpp"
#include "ratio.hpp"

namespace {

constexpr Eigen::Index kParameters = 10000;
constexpr int kSamples = 6;
constexpr int kClasses = 10;
constexpr Eigen::Index kRows = kSamples * kClasses;
constexpr int kRepeats = 4;

double cpu_seconds(clockid_t clock) {
  timespec t{};
  clock_gettime(clock, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

Eigen::MatrixXd gaussian(Eigen::Index rows, Eigen::Index cols, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  Eigen::MatrixXd m(rows, cols);
  for (Eigen::Index j = 0; j < cols; ++j)
    for (Eigen::Index i = 0; i < rows; ++i)
      m(i, j) = normal(rng);
  return m;
}

// Block-diagonal per-sample softmax cross-entropy Hessians diag(p) - p p^T.
Eigen::MatrixXd softmax_hessian(std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> uniform(0.1, 1.0);
  Eigen::MatrixXd h = Eigen::MatrixXd::Zero(kRows, kRows);
  for (int s = 0; s < kSamples; ++s) {
    Eigen::VectorXd p(kClasses);
    for (int c = 0; c < kClasses; ++c)
      p(c) = uniform(rng);
    p /= p.sum();
    h.block(s * kClasses, s * kClasses, kClasses, kClasses) =
        Eigen::MatrixXd(p.asDiagonal()) - p * p.transpose();
  }
  return h;
}

// A calibration file for `board` (every cell nominal, drift matrices of the board's size as
// `kelvin calibrate` writes them), in the temporary directory.
std::filesystem::path write_calibration_for(const kelvin::driver::DeviceDescription& board) {
  namespace cal = kelvin::runtime::calibration;
  cal::BoardCalibration c;
  c.serial = board.serial;
  c.id = board.serial + "-bench";
  c.date = "2026-12-07T00:00:00Z";
  c.conditions.cells = board.cells;
  c.coupling_dac_gain = {1.0, 1e-5};
  c.cells.assign(board.cells, cal::CellCalibration{
                                  {0.0, 0.25}, {1.0, 2e-5}, {1.0, 2e-5}, {1.0, 3e-3}, {1.0, 2e-3}});
  const auto n = static_cast<Eigen::Index>(board.cells);
  c.drift_programmed = Eigen::MatrixXd::Identity(n, n);
  c.drift = -Eigen::MatrixXd::Identity(n, n);
  c.drift_standard_error = Eigen::MatrixXd::Constant(n, n, 1e-3);
  const auto file = std::filesystem::temp_directory_path() / ("kelvin-bench-" + c.id + ".json");
  cal::write_calibration(c, file);
  return file;
}

void natgrad_step(benchmark::State& state, bool softmax_h, bool calibrated = false) {
  kelvin::driver::ResonatorBoard board(std::shared_ptr<kelvin::driver::Device>(
      kelvin::driver::backends::open("sim:resonator?cells=64&seed=1")));
  kelvin::runtime::NaturalGradientOptions options;
  options.calibration = calibrated ? kelvin::runtime::calibration::CalibrationSelection::from_file(
                                         write_calibration_for(board.description()))
                                   : kelvin::runtime::calibration::CalibrationSelection::none();
  options.damping = 0.1;
  options.time_us = 50.0;
  options.repeats = kRepeats;
  kelvin::runtime::NaturalGradientEstimator estimator(board, options);
  const Eigen::MatrixXd J = gaussian(kRows, kParameters, 11) / std::sqrt(double(kParameters));
  const Eigen::MatrixXd H =
      softmax_h ? softmax_hessian(12) : Eigen::MatrixXd(Eigen::MatrixXd::Identity(kRows, kRows));
  const Eigen::VectorXd g = gaussian(kParameters, 1, 13).col(0);
  double wall = 0.0, emulator = 0.0, device = 0.0, flops = 0.0;
  for (auto _ : state) {
    const auto wall_start = std::chrono::steady_clock::now();
    const double host_start = cpu_seconds(CLOCK_THREAD_CPUTIME_ID);
    const double process_start = cpu_seconds(CLOCK_PROCESS_CPUTIME_ID);
    const auto result = estimator.estimate(g, J, H);
    const double host = cpu_seconds(CLOCK_THREAD_CPUTIME_ID) - host_start;
    const double process = cpu_seconds(CLOCK_PROCESS_CPUTIME_ID) - process_start;
    wall += std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
    state.SetIterationTime(host);
    emulator += process - host;
    device += result.summary.device_time_s;
    flops += result.summary.energy.host_flops;
    benchmark::DoNotOptimize(result.estimate.data());
  }
  const auto n = static_cast<double>(state.iterations());
  state.SetItemsProcessed(state.iterations());
  state.counters["wall_us"] = 1e6 * wall / n;
  state.counters["emulator_cpu_us"] = 1e6 * emulator / n;
  state.counters["device_us"] = 1e6 * device / n;
  state.counters["host_mflop"] = 1e-6 * flops / n;
}

void BM_NatGradHostTime(benchmark::State& state) {
  natgrad_step(state, false);
}
BENCHMARK(BM_NatGradHostTime)->UseManualTime()->Unit(benchmark::kMicrosecond);

void BM_NatGradHostTimeSoftmaxH(benchmark::State& state) {
  natgrad_step(state, true);
}
BENCHMARK(BM_NatGradHostTimeSoftmaxH)->UseManualTime()->Unit(benchmark::kMicrosecond);

// The first with a calibration file applied (options.calibration = the file).
void BM_NatGradHostTimeCalibrated(benchmark::State& state) {
  natgrad_step(state, false, true);
}
BENCHMARK(BM_NatGradHostTimeCalibrated)->UseManualTime()->Unit(benchmark::kMicrosecond);

// One Adam step (Kingma and Ba, algorithm 1) on kParameters float64 parameters.
void BM_AdamStep(benchmark::State& state) {
  constexpr double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  Eigen::ArrayXd theta = gaussian(kParameters, 1, 21).array();
  const Eigen::ArrayXd g = gaussian(kParameters, 1, 22).array();
  Eigen::ArrayXd m = Eigen::ArrayXd::Zero(kParameters), v = Eigen::ArrayXd::Zero(kParameters);
  double beta1_t = 1.0, beta2_t = 1.0;
  for (auto _ : state) {
    beta1_t *= beta1;
    beta2_t *= beta2;
    const double m_scale = 1.0 / (1.0 - beta1_t), v_scale = 1.0 / (1.0 - beta2_t);
    m = beta1 * m + (1.0 - beta1) * g;
    v = beta2 * v + (1.0 - beta2) * g.square();
    theta -= lr * (m * m_scale) / ((v * v_scale).sqrt() + eps);
    benchmark::DoNotOptimize(theta.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AdamStep)->Unit(benchmark::kMicrosecond);

// The arithmetic the row-space path cannot avoid: the Gram matrix of J's rows (symmetric, half
// the products), Q^T g through J g, and Q W through (C W)^T J for the repeats and the
// complement's bound (W: m x (repeats + 1); the small products with C are left out), each
// written the fastest way Eigen offers here (J read in its own column order).
void BM_NatGradArithmeticFloor(benchmark::State& state) {
  const Eigen::MatrixXd J = gaussian(kRows, kParameters, 11) / std::sqrt(double(kParameters));
  const Eigen::VectorXd g = gaussian(kParameters, 1, 13).col(0);
  const Eigen::MatrixXd w = gaussian(kRows, kRepeats + 1, 14);
  Eigen::MatrixXd gram(kRows, kRows), mapped_t(kRepeats + 1, kParameters);
  Eigen::VectorXd projected(kRows);
  for (auto _ : state) {
    gram.setZero();
    gram.selfadjointView<Eigen::Lower>().rankUpdate(J);
    projected.noalias() = J * g;
    mapped_t.noalias() = w.transpose() * J;
    benchmark::DoNotOptimize(gram.data());
    benchmark::DoNotOptimize(projected.data());
    benchmark::DoNotOptimize(mapped_t.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_NatGradArithmeticFloor)->Unit(benchmark::kMicrosecond);

KELVIN_BENCH_RATIO("BM_NatGradHostTime", "BM_AdamStep",
                   "natural-gradient host time per step (no device time) against Adam, 10k");
KELVIN_BENCH_RATIO("BM_NatGradHostTimeSoftmaxH", "BM_AdamStep",
                   "the same with J and the softmax Hessians H against Adam");
KELVIN_BENCH_RATIO("BM_NatGradHostTimeCalibrated", "BM_AdamStep",
                   "the same with a calibration file applied against Adam");
KELVIN_BENCH_RATIO("BM_NatGradHostTime", "BM_NatGradArithmeticFloor",
                   "natural-gradient host time against its unavoidable arithmetic");
KELVIN_BENCH_RATIO("BM_NatGradArithmeticFloor", "BM_AdamStep",
                   "the row-space method's unavoidable arithmetic against Adam");

}  // namespace
