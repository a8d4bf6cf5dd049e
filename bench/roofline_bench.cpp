// Roofline of the resonator step x <- Phi x + c + L xi, measured by the bench itself: this
// machine's memory bandwidth (a STREAM-triad-like loop) and its rate of separate multiplies and
// adds (the emulator's arithmetic: no FMA), both with the widest vectors the CPU has, as the
// emulator's kernel uses them (sim-backend linear_kernel.hpp).
//
// BM_RooflineStep/N reports, as items_per_second, the bound on samples per second of the step's
// matrix-vector products at N cells: min(FLOP rate / flops per sample, bandwidth / bytes per
// sample). Per sample the step reads Phi (N^2 entries) and the lower triangle of the Cholesky
// factor L (N (N + 1) / 2) once, with a multiply and an add per entry: E = 1.5 N^2 + N / 2
// entries, 2 E flops and 8 E bytes. The bandwidth is that of reading a buffer of those 8 E bytes
// (at least 64 KiB) over and over, so the bound uses the cache level the matrices live in;
// BM_MachineStreamTriad gives the main-memory figure (STREAM triad, 64 MiB arrays). The ratio
// BM_EmulatedBoardRun / BM_RooflineStep is then how far emulation is from the bound.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <vector>

#include <benchmark/benchmark.h>

#include "ratio.hpp"

namespace {

typedef double V8 __attribute__((vector_size(64)));

// a = b + s c over n doubles (n a multiple of 8), `reps` times.
[[gnu::always_inline]] inline void triad_body(double* a, const double* b, const double* c,
                                              std::size_t n, int reps) {
  const double s = 1.0000001;
  for (int r = 0; r < reps; ++r) {
    for (std::size_t i = 0; i < n; i += 8) {
      V8 vb, vc;
      __builtin_memcpy(&vb, b + i, sizeof vb);
      __builtin_memcpy(&vc, c + i, sizeof vc);
      const V8 va = vb + vc * s;
      __builtin_memcpy(a + i, &va, sizeof va);
    }
    benchmark::DoNotOptimize(a);
    benchmark::ClobberMemory();
  }
}

// Reads n doubles (n a multiple of 64) `reps` times, summing them in 8 vector accumulators.
[[gnu::always_inline]] inline double read_body(const double* b, std::size_t n, int reps) {
  V8 acc[8] = {};
  for (int r = 0; r < reps; ++r) {
    for (std::size_t i = 0; i < n; i += 64) {
      for (int k = 0; k < 8; ++k) {
        V8 v;
        __builtin_memcpy(&v, b + i + 8 * k, sizeof v);
        acc[k] += v;
      }
    }
    benchmark::ClobberMemory();
  }
  const V8 total =
      ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  return total[0];
}

// 16 independent chains of x <- x * m + c, 8 lanes each: 2 flops per lane per link.
[[gnu::always_inline]] inline double mul_add_body(std::int64_t links) {
  V8 x[16];
  for (int k = 0; k < 16; ++k)
    x[k] = V8{} + 1.0 + k;
  const double m = 0.9999999;
  const double c = 1e-7;
  for (std::int64_t l = 0; l < links; ++l) {
    for (int k = 0; k < 16; ++k)
      x[k] = x[k] * m + c;
  }
  double sum = 0.0;
  for (int k = 0; k < 16; ++k)
    sum += x[k][0];
  return sum;
}

void triad_generic(double* a, const double* b, const double* c, std::size_t n, int reps) {
  triad_body(a, b, c, n, reps);
}
double read_generic(const double* b, std::size_t n, int reps) {
  return read_body(b, n, reps);
}
double mul_add_generic(std::int64_t links) {
  return mul_add_body(links);
}
#if defined(__x86_64__) && defined(__GNUC__)
[[gnu::target("avx512f")]] void triad_avx512(double* a, const double* b, const double* c,
                                             std::size_t n, int reps) {
  triad_body(a, b, c, n, reps);
}
[[gnu::target("avx512f")]] double read_avx512(const double* b, std::size_t n, int reps) {
  return read_body(b, n, reps);
}
[[gnu::target("avx2")]] double read_avx2(const double* b, std::size_t n, int reps) {
  return read_body(b, n, reps);
}
[[gnu::target("avx512f")]] double mul_add_avx512(std::int64_t links) {
  return mul_add_body(links);
}
[[gnu::target("avx2")]] void triad_avx2(double* a, const double* b, const double* c, std::size_t n,
                                        int reps) {
  triad_body(a, b, c, n, reps);
}
[[gnu::target("avx2")]] double mul_add_avx2(std::int64_t links) {
  return mul_add_body(links);
}
#endif

void triad(double* a, const double* b, const double* c, std::size_t n, int reps) {
#if defined(__x86_64__) && defined(__GNUC__)
  if (__builtin_cpu_supports("avx512f"))
    return triad_avx512(a, b, c, n, reps);
  if (__builtin_cpu_supports("avx2"))
    return triad_avx2(a, b, c, n, reps);
#endif
  triad_generic(a, b, c, n, reps);
}

double read(const double* b, std::size_t n, int reps) {
#if defined(__x86_64__) && defined(__GNUC__)
  if (__builtin_cpu_supports("avx512f"))
    return read_avx512(b, n, reps);
  if (__builtin_cpu_supports("avx2"))
    return read_avx2(b, n, reps);
#endif
  return read_generic(b, n, reps);
}

double mul_add(std::int64_t links) {
#if defined(__x86_64__) && defined(__GNUC__)
  if (__builtin_cpu_supports("avx512f"))
    return mul_add_avx512(links);
  if (__builtin_cpu_supports("avx2"))
    return mul_add_avx2(links);
#endif
  return mul_add_generic(links);
}

// The probes time themselves on this thread's CPU clock, so that other work on a shared machine
// does not lower them.
double thread_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

double seconds_since(double start) {
  return thread_cpu_seconds() - start;
}

// Bytes read per second from a buffer of `bytes`, best of 5 timings of about 2 ms each.
double read_bandwidth(std::size_t bytes) {
  const std::size_t n = std::max<std::size_t>(bytes / 8 / 64 * 64, 64);
  const std::vector<double> b(n, 1.0);
  const int reps = static_cast<int>(std::max<std::size_t>(1, (std::size_t{1} << 22) / n));
  benchmark::DoNotOptimize(read(b.data(), n, 1));  // warm the caches
  double best = 0.0;
  for (int t = 0; t < 5; ++t) {
    const double start = thread_cpu_seconds();
    benchmark::DoNotOptimize(read(b.data(), n, reps));
    best = std::max(best, 8.0 * static_cast<double>(n) * reps / seconds_since(start));
  }
  return best;
}

// Separate multiplies and adds per second, best of 5 timings of about 2 ms each.
double mul_add_rate() {
  constexpr std::int64_t kLinks = 1 << 16;
  constexpr double kFlops = 2.0 * 8 * 16 * kLinks;
  double best = 0.0;
  for (int t = 0; t < 5; ++t) {
    const double start = thread_cpu_seconds();
    benchmark::DoNotOptimize(mul_add(kLinks));
    best = std::max(best, kFlops / seconds_since(start));
  }
  return best;
}

void BM_MachineStreamTriad(benchmark::State& state) {
  constexpr std::size_t kElements = std::size_t{8} << 20;  // 64 MiB per array
  std::vector<double> a(kElements, 0.0), b(kElements, 1.0), c(kElements, 2.0);
  for (auto _ : state)
    triad(a.data(), b.data(), c.data(), kElements, 1);
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(24 * kElements));
}
BENCHMARK(BM_MachineStreamTriad)->Unit(benchmark::kMillisecond);

void BM_MachineMulAddRate(benchmark::State& state) {
  constexpr std::int64_t kLinks = 1 << 16;
  for (auto _ : state)
    benchmark::DoNotOptimize(mul_add(kLinks));
  state.counters["gflops"] =
      benchmark::Counter(2.0 * 8 * 16 * kLinks * static_cast<double>(state.iterations()) * 1e-9,
                         benchmark::Counter::kIsRate);
}
BENCHMARK(BM_MachineMulAddRate)->Unit(benchmark::kMicrosecond);

// The bound on samples per second at N cells, as items_per_second: the items processed are the
// samples the bound allows in the CPU time the probes took (the clock the rate is taken on).
void BM_RooflineStep(benchmark::State& state) {
  const auto n = static_cast<double>(state.range(0));
  const double entries = 1.5 * n * n + 0.5 * n;
  const double flops = 2.0 * entries;
  const double bytes = 8.0 * entries;
  double rate = 0.0, bandwidth = 0.0, flop_rate = 0.0;
  const double start = thread_cpu_seconds();
  for (auto _ : state) {
    bandwidth = read_bandwidth(std::max<std::size_t>(static_cast<std::size_t>(bytes), 65536));
    flop_rate = mul_add_rate();
    rate = std::min(flop_rate / flops, bandwidth / bytes);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(rate * (thread_cpu_seconds() - start)));
  state.counters["roofline_samples_per_second"] = rate;
  state.counters["bandwidth_GBps"] = bandwidth * 1e-9;
  state.counters["gflops"] = flop_rate * 1e-9;
  state.counters["bytes_per_sample"] = bytes;
  state.counters["flops_per_sample"] = flops;
}
BENCHMARK(BM_RooflineStep)->Arg(8)->Arg(64)->Arg(256)->Arg(1024)->Unit(benchmark::kMicrosecond);

KELVIN_BENCH_RATIO("BM_EmulatedBoardRun", "BM_RooflineStep",
                   "resonator board emulation against the roofline bound of its step");
KELVIN_BENCH_RATIO("BM_BaselineEigenStep", "BM_RooflineStep",
                   "the bare Eigen step against the same roofline bound");

}  // namespace
