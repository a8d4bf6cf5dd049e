// Emulated p-bit board throughput: attempted flips per ns on the 70 x 70 degree-12 lattice
// (26,088 edges, every node free, every edge coupled), 1 and 64 chains on 1 and 2 threads.
// BM_PbitBoard is the board's sampling run as the firmware computes it (the vector sweep where
// the CPU has it); BM_PbitBoardScalar the same run on the scalar reference loop (the board
// before the vector sweep); BM_PbitTextbookGibbs a plain scalar two-colour block Gibbs loop
// written for the bench (adjacency lists, std::mt19937, a uniform double and a sigmoid per
// flip), with the same chains-per-thread split. Items are attempted flips; flips_per_ns is the
// same rate per ns.
#include <cmath>
#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>

#include "kelvin/firmware_protocol/pbit_lattice.hpp"
#include "kelvin/sim_backend/pbit_model.hpp"
#include "ratio.hpp"

namespace {

constexpr std::uint32_t kSide = 70;
constexpr std::uint32_t kDegree = 12;
constexpr std::uint64_t kSweeps = 64;          // per run and chain (the board)
constexpr std::uint64_t kTextbookSweeps = 16;  // per iteration and chain (the textbook loop)
constexpr std::uint32_t kBetaCode = 64;        // beta = 0.25: a mixing, non-trivial field

// Weights uniform in {-6..-1, 1..6} (every edge coupled), biases in [-10, 10].
std::pair<std::vector<int>, std::vector<int>> model_codes(std::size_t edges, std::size_t nodes) {
  std::mt19937 gen(3);
  std::vector<int> w(edges), b(nodes);
  for (int& j : w)
    j = static_cast<int>(gen() % 6) + 1 - (gen() % 2 == 0 ? 0 : 7);
  for (int& v : b)
    v = static_cast<int>(gen() % 21) - 10;
  return {w, b};
}

void set_rates(benchmark::State& state, std::uint64_t flips_per_iteration) {
  const auto flips =
      static_cast<double>(flips_per_iteration) * static_cast<double>(state.iterations());
  state.SetItemsProcessed(static_cast<std::int64_t>(flips));
  state.counters["flips_per_ns"] = benchmark::Counter(flips * 1e-9, benchmark::Counter::kIsRate);
}

void run_board(benchmark::State& state, bool vector, bool chain_betas = false) {
  const auto chains = static_cast<std::uint32_t>(state.range(0));
  kelvin::sim_backend::PbitConfig config;
  config.rows = kSide;
  config.cols = kSide;
  config.degree = kDegree;
  kelvin::sim_backend::PbitModel model(config);
  model.set_threads(static_cast<unsigned>(state.range(1)));
  model.set_vector_sweep(vector);
  const auto [w, b] = model_codes(model.lattice().edges().size(), model.nodes());
  std::string wi8, bi8;
  for (const int j : w)
    wi8.push_back(static_cast<char>(j));
  for (const int v : b)
    bi8.push_back(static_cast<char>(v));
  model.program_lattice(model.nodes(),
                        {reinterpret_cast<const std::uint8_t*>(wi8.data()), wi8.size()},
                        {reinterpret_cast<const std::uint8_t*>(bi8.data()), bi8.size()});
  const std::uint32_t beta[] = {kBetaCode};
  model.set_beta_schedule(beta);
  kelvin::sim_backend::SamplingRequest request;
  request.sweeps = kSweeps;
  request.chains = chains;
  request.sample_every = static_cast<std::uint32_t>(kSweeps);
  if (chain_betas)
    request.chain_beta_codes.assign(chains, kBetaCode);
  for (auto _ : state) {
    const auto ticket = model.begin_run(request);
    model.execute(ticket);
    benchmark::DoNotOptimize(model.results(ticket.run_id).spin_sums.data());
    model.release(ticket.run_id);
  }
  set_rates(state, kSweeps * chains * model.nodes());
}

void BM_PbitBoard(benchmark::State& state) {
  run_board(state, true);
}

void BM_PbitBoardScalar(benchmark::State& state) {
  run_board(state, false);
}

// The same with StartSampling.chain_beta_codes (every chain its own beta, as in tempering).
void BM_PbitBoardChainBetas(benchmark::State& state) {
  run_board(state, true, true);
}

// The textbook loop: one std::mt19937 per chain, s_i = +1 with probability sigmoid(2 beta h).
class TextbookGibbs {
 public:
  TextbookGibbs() {
    const auto lattice = kelvin::firmware_protocol::make_pbit_lattice(kSide, kSide, kDegree);
    const auto [w, b] = model_codes(lattice.edges().size(), lattice.nodes());
    adjacency_.resize(lattice.nodes());
    for (std::size_t e = 0; e < lattice.edges().size(); ++e) {
      const auto [u, v] = lattice.edges()[e];
      adjacency_[u].push_back({v, w[e]});
      adjacency_[v].push_back({u, w[e]});
    }
    bias_ = b;
    for (std::uint32_t i = 0; i < lattice.nodes(); ++i)
      colours_[lattice.colour(i)].push_back(i);
  }
  std::uint32_t nodes() const { return static_cast<std::uint32_t>(bias_.size()); }

  void run(std::vector<int>& s, std::mt19937& gen) const {
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    const double beta = kBetaCode / 256.0;
    for (std::uint64_t k = 0; k < kTextbookSweeps; ++k) {
      for (const auto& colour : colours_) {
        for (const std::uint32_t i : colour) {
          int h = bias_[i];
          for (const auto& [j, J] : adjacency_[i])
            h += J * s[j];
          const double p = 1.0 / (1.0 + std::exp(-2.0 * beta * h));
          s[i] = uniform(gen) < p ? 1 : -1;
        }
      }
    }
  }

 private:
  std::vector<std::vector<std::pair<std::uint32_t, int>>> adjacency_;
  std::vector<int> bias_;
  std::vector<std::uint32_t> colours_[2];
};

void BM_PbitTextbookGibbs(benchmark::State& state) {
  const auto chains = static_cast<std::uint32_t>(state.range(0));
  const auto threads = static_cast<std::uint32_t>(state.range(1));
  const TextbookGibbs gibbs;
  std::vector<std::vector<int>> spins(chains, std::vector<int>(gibbs.nodes(), 1));
  std::vector<std::mt19937> gens;
  for (std::uint32_t c = 0; c < chains; ++c)
    gens.emplace_back(c + 1);
  const auto run_range = [&](std::uint32_t first, std::uint32_t last) {
    for (std::uint32_t c = first; c < last; ++c)
      gibbs.run(spins[c], gens[c]);
  };
  for (auto _ : state) {
    if (threads >= 2 && chains >= 2) {
      std::thread worker(run_range, chains / 2, chains);
      run_range(0, chains / 2);
      worker.join();
    } else {
      run_range(0, chains);
    }
    benchmark::DoNotOptimize(spins.data());
  }
  set_rates(state, kTextbookSweeps * chains * gibbs.nodes());
}

void sizes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"chains", "threads"});
  for (const int chains : {1, 64})
    for (const int threads : {1, 2})
      b->Args({chains, threads});
  b->Unit(benchmark::kMillisecond)->UseRealTime();
}

}  // namespace

BENCHMARK(BM_PbitBoard)->Apply(sizes);
BENCHMARK(BM_PbitBoardScalar)->Apply(sizes);
BENCHMARK(BM_PbitBoardChainBetas)->Apply(sizes);
BENCHMARK(BM_PbitTextbookGibbs)->Apply(sizes);

KELVIN_BENCH_RATIO("BM_PbitBoard", "BM_PbitTextbookGibbs",
                   "p-bit board (70x70 deg 12) against a textbook scalar Gibbs loop");
KELVIN_BENCH_RATIO("BM_PbitBoard", "BM_PbitBoardScalar",
                   "p-bit vector sweep against the board's scalar loop");
KELVIN_BENCH_RATIO("BM_PbitBoardChainBetas", "BM_PbitBoard",
                   "p-bit board with a beta per chain against one beta");
