// Parallel tempering on the emulated p-bit board: the swap rule keeps the coldest replica's law
// exact, it reaches the ground energy of a frustrated spin glass in fewer sweeps than plain
// Gibbs with the same chains and budget, and its options are validated.
#include "kelvin/runtime/pbit/parallel_tempering.hpp"

#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include "kelvin/common/error.hpp"
#include "kelvin/driver/backends/backends.hpp"
#include "kelvin/runtime/pbit/ising_energy.hpp"
#include "kelvin/testing/errors.hpp"

namespace kelvin::runtime {
namespace {

using namespace std::chrono_literals;
using kelvin::testing::kind_of;
using kelvin::testing::message_of;

driver::PbitBoard open_board(std::uint32_t rows, std::uint32_t cols, std::uint64_t seed) {
  return driver::PbitBoard(driver::backends::open(
      fmt::format("sim:pbit?rows={}&cols={}&degree=8&seed={}", rows, cols, seed)));
}

// A +-J spin glass on every edge of the lattice: |J| = magnitude, signs from raw std::mt19937
// bits (the engine's sequence is fixed by the standard), no biases.
driver::LatticeProgram spin_glass(const firmware_protocol::PbitLattice& lattice, int magnitude,
                                  std::uint32_t seed) {
  std::mt19937 gen(seed);
  driver::LatticeProgram p;
  for (std::size_t e = 0; e < lattice.edges().size(); ++e) {
    const auto size = static_cast<int>(gen() % static_cast<std::uint32_t>(magnitude)) + 1;
    p.weights.push_back(static_cast<std::int8_t>((gen() >> 31) != 0 ? size : -size));
  }
  p.biases.assign(lattice.nodes(), 0);
  return p;
}

// The exact minimum of E over all 2^n states. The lattice is bipartite, so for fixed colour-0
// spins the best colour-1 spin is s_j = sign(h_j) with h_j = b_j + sum_i J_ij s_i, worth
// -|h_j|: enumerating the colour-0 spins alone (in Gray-code order, one flip per step) is exact.
std::int64_t exact_ground_energy(const firmware_protocol::PbitLattice& lattice,
                                 const driver::LatticeProgram& p) {
  std::vector<std::uint32_t> a_nodes;
  std::vector<int> b_index(lattice.nodes(), -1);
  std::vector<std::int64_t> h;
  for (std::uint32_t i = 0; i < lattice.nodes(); ++i) {
    if (lattice.colour(i) == 0) {
      a_nodes.push_back(i);
    } else {
      b_index[i] = static_cast<int>(h.size());
      h.push_back(p.biases[i]);
    }
  }
  std::vector<std::vector<std::pair<int, int>>> adjacent(a_nodes.size());
  std::int64_t bias_a = 0;
  for (std::size_t k = 0; k < a_nodes.size(); ++k) {  // all colour-0 spins start at +1
    bias_a += p.biases[a_nodes[k]];
    for (const firmware_protocol::PbitNeighbour& nb : lattice.neighbours(a_nodes[k])) {
      const int w = p.weights[nb.edge];
      if (w != 0) {
        adjacent[k].emplace_back(b_index[nb.node], w);
        h[static_cast<std::size_t>(b_index[nb.node])] += w;
      }
    }
  }
  std::int64_t abs_sum = 0;
  for (const auto v : h)
    abs_sum += std::abs(v);
  std::vector<int> s(a_nodes.size(), 1);
  std::int64_t best = -(bias_a + abs_sum);
  // Without biases E(s) = E(-s): keeping the last colour-0 spin at +1 halves the work.
  const bool symmetric =
      std::all_of(p.biases.begin(), p.biases.end(), [](std::int8_t b) { return b == 0; });
  const std::size_t free_spins = a_nodes.size() - (symmetric && !a_nodes.empty() ? 1 : 0);
  for (std::uint64_t step = 1; step < (std::uint64_t{1} << free_spins); ++step) {
    const auto k = static_cast<std::size_t>(std::countr_zero(step));
    const int change = -2 * s[k];
    s[k] = -s[k];
    bias_a += p.biases[a_nodes[k]] * change;
    for (const auto& [j, w] : adjacent[k]) {
      abs_sum -= std::abs(h[static_cast<std::size_t>(j)]);
      h[static_cast<std::size_t>(j)] += w * change;
      abs_sum += std::abs(h[static_cast<std::size_t>(j)]);
    }
    best = std::min(best, -(bias_a + abs_sum));
  }
  return best;
}

// E of every state of a small lattice program, by brute force (n <= 16).
std::vector<std::int64_t> all_energies(const firmware_protocol::PbitLattice& lattice,
                                       const driver::LatticeProgram& p) {
  const IsingEnergy energy(lattice, p);
  const std::uint32_t n = lattice.nodes();
  std::vector<std::int64_t> out;
  std::vector<std::int8_t> s(n);
  for (std::uint32_t bits = 0; bits < (1u << n); ++bits) {
    for (std::uint32_t i = 0; i < n; ++i)
      s[i] = (bits >> i) & 1u ? 1 : -1;
    out.push_back(energy(s));
  }
  return out;
}

// P(E) under exp(-beta E) / Z, per energy level.
std::map<std::int64_t, double> energy_law(const std::vector<std::int64_t>& energies, double beta) {
  const std::int64_t e_min = *std::min_element(energies.begin(), energies.end());
  std::map<std::int64_t, double> law;
  double z = 0.0;
  for (const auto e : energies) {
    const double w = std::exp(-beta * static_cast<double>(e - e_min));
    law[e] += w;
    z += w;
  }
  for (auto& [e, p] : law)
    p /= z;
  return law;
}

TEST(IsingEnergy, SumsCouplingsAndBiasesWithTheBoardsSign) {
  auto board = open_board(2, 2, 1);  // edges (0,1), (0,2), (1,3), (2,3)
  const auto& lattice = board.lattice();
  driver::LatticeProgram p;
  p.weights.assign(lattice.edges().size(), 0);
  p.weights[*lattice.edge_index(0, 1)] = 3;
  p.weights[*lattice.edge_index(2, 3)] = -2;
  p.biases = {1, 0, 0, -4};
  const IsingEnergy energy(lattice, p);
  EXPECT_EQ(energy.coupled_edges(), 2u);
  // s = (+1, -1, +1, +1): couplings 3 (+1)(-1) - 2 (+1)(+1) = -5, biases 1 - 4 = -3: E = 8.
  const std::vector<std::int8_t> s = {1, -1, 1, 1};
  EXPECT_EQ(energy(s), 8);
  EXPECT_EQ(kind_of([&] { energy(std::vector<std::int8_t>(3, 1)); }),
            common::ErrorKind::kInvalidArgument);
  p.biases.pop_back();
  EXPECT_EQ(kind_of([&] { IsingEnergy(lattice, p); }), common::ErrorKind::kInvalidArgument);
}

TEST(GeometricLadder, SpansTheRangeInConstantRatio) {
  const auto betas = geometric_ladder(0.25, 4.0, 5);
  ASSERT_EQ(betas.size(), 5u);
  EXPECT_DOUBLE_EQ(betas[0], 0.25);
  EXPECT_DOUBLE_EQ(betas[1], 0.5);
  EXPECT_DOUBLE_EQ(betas[2], 1.0);
  EXPECT_DOUBLE_EQ(betas[3], 2.0);
  EXPECT_EQ(betas[4], 4.0);
  EXPECT_EQ(kind_of([] { geometric_ladder(0.0, 1.0, 4); }), common::ErrorKind::kInvalidArgument);
  EXPECT_EQ(kind_of([] { geometric_ladder(2.0, 1.0, 4); }), common::ErrorKind::kInvalidArgument);
  EXPECT_EQ(kind_of([] { geometric_ladder(0.1, 1.0, 1); }), common::ErrorKind::kInvalidArgument);
}

TEST(ParallelTemperingOptions, DefaultsAreValidAndBadFieldsAreNamed) {
  EXPECT_NO_THROW(ParallelTemperingOptions{}.validate());
  const auto named = [](const std::function<void(ParallelTemperingOptions&)>& change,
                        const std::string& field) {
    ParallelTemperingOptions o;
    change(o);
    EXPECT_EQ(kind_of([&] { o.validate(); }), common::ErrorKind::kInvalidArgument) << field;
    const std::string message = message_of([&] { o.validate(); });
    EXPECT_NE(message.find(field), std::string::npos) << message;
  };
  named([](auto& o) { o.betas = {1.0}; }, "betas");
  named([](auto& o) { o.betas = {0.5, 0.5}; }, "betas[1]");
  named([](auto& o) { o.betas = {-0.1, 0.5}; }, "betas[0]");
  named([](auto& o) { o.betas = {0.1, NAN}; }, "betas[1]");
  named([](auto& o) { o.sweeps_per_exchange = 0; }, "sweeps_per_exchange");
  named([](auto& o) { o.max_sweeps = 0; }, "max_sweeps");
  named([](auto& o) { o.burn_in_sweeps = o.max_sweeps; }, "burn_in_sweeps");
  named([](auto& o) { o.timeout = 0ms; }, "timeout");
}

TEST(ParallelTempering, RefusesLaddersTheBoardCannotRun) {
  auto board = open_board(2, 2, 1);
  const driver::LatticeProgram program = spin_glass(board.lattice(), 1, 1);
  ParallelTemperingOptions o;
  o.betas = geometric_ladder(0.1, 1.0, 65);  // the emulator runs at most 64 chains
  EXPECT_EQ(kind_of([&] { run_parallel_tempering(board, program, o); }),
            common::ErrorKind::kOutOfRange);
  o.betas = {0.5, 0.501, 1.0};  // 0.5 and 0.501 are both code 128
  const std::string message = message_of([&] { run_parallel_tempering(board, program, o); });
  EXPECT_NE(message.find("same beta code 128"), std::string::npos) << message;
  o.betas = {0.5, 300.0};  // beyond the Q8.8 range
  EXPECT_EQ(kind_of([&] { run_parallel_tempering(board, program, o); }),
            common::ErrorKind::kOutOfRange);
  EXPECT_EQ(board.device().stats().requests, 1u);  // only the hello: nothing was programmed
}

// The ledger counts what the job did: every chain sweeps every node on every sweep, the lattice
// is written once and R beta codes go with every run, every chain's state is read once a run.
TEST(ParallelTempering, LedgerCountsSweepsCodesAndReads) {
  auto board = open_board(3, 3, 4);
  const driver::LatticeProgram program = spin_glass(board.lattice(), 2, 4);
  ParallelTemperingOptions o;
  o.betas = {0.25, 0.5, 1.0};
  o.sweeps_per_exchange = 7;
  o.max_sweeps = 100;  // 14 runs of 7 sweeps and one of 2
  o.burn_in_sweeps = 0;
  const TemperingResult r = run_parallel_tempering(board, program, o);
  const TemperingSummary& s = r.summary;
  EXPECT_EQ(s.sweeps, 100u);
  EXPECT_EQ(s.runs, 15u);
  EXPECT_EQ(s.coldest_energy_trace.size(), 15u);
  EXPECT_EQ(s.coldest_samples, 15u);
  EXPECT_EQ(s.energy.activity.cell_sample_periods, 9u * 3u * 100u);
  EXPECT_EQ(s.energy.activity.dac_codes, program.weights.size() + 9u + 15u * 3u);
  EXPECT_EQ(s.energy.activity.adc_conversions, 9u * 3u * 15u);
  // Runs alternate even pairs (0,1) and odd pairs (1,2): 8 and 7 proposals.
  EXPECT_EQ(s.swaps_proposed, (std::vector<std::uint64_t>{8, 7}));
  EXPECT_FALSE(s.sweeps_to_target.has_value());
  EXPECT_EQ(IsingEnergy(board.lattice(), program)(r.best_state), s.best_energy);
  EXPECT_NE(s.brief_report().find("parallel tempering, 3 replicas"), std::string::npos);
  EXPECT_NE(s.full_report().find("swap acceptance"), std::string::npos);
}

// Detailed balance: with two replicas at beta 0.25 and 1 on a 6-node model small enough to
// enumerate, the states the cold replica holds after each run follow exp(-E) / Z exactly. The
// swaps are many and often rejected, so a wrong acceptance rule (one that, say, accepted every
// swap or used the codes instead of code / 256) would leave hot states in the cold replica.
//
// Tolerance: the trace is a Markov chain, so its samples are correlated. For each energy level
// the standard error of its frequency p_hat is estimated by batch means (40 batches of
// consecutive runs, each much longer than the chain's correlation time, a handful of sweeps on
// six spins), floored by the i.i.d. value sqrt(p (1 - p) / N). 5 standard errors on each of the
// levels (at most 2^6 = 64, Bonferroni: P(any |z| > 5) < 64 x 5.7e-7). The test can fail: the
// hot law differs from the cold one by more than 10 of those tolerances on some level (asserted
// first).
TEST(ParallelTempering, ColdestReplicaSamplesTheExactBoltzmannLaw) {
  auto board = open_board(2, 3, 9);  // 6 nodes, 7 nearest-neighbour edges
  const auto& lattice = board.lattice();
  driver::LatticeProgram program;
  program.weights = {2, -3, 1, 2, -1, 3, -2};  // a frustrated mix of signs
  ASSERT_EQ(program.weights.size(), lattice.edges().size());
  program.biases = {1, 0, -1, 0, 2, 0};
  ParallelTemperingOptions o;
  o.betas = {0.25, 1.0};  // codes 64 and 256: realized exactly
  o.sweeps_per_exchange = 1;
  o.max_sweeps = 8000;
  o.swap_seed = 3;
  const TemperingResult r = run_parallel_tempering(board, program, o);
  const auto& trace = r.summary.coldest_energy_trace;
  ASSERT_EQ(trace.size(), 8000u);
  // Swaps happen, and not always: the exchange rule is exercised in both directions.
  ASSERT_EQ(r.summary.swaps_proposed.size(), 1u);
  EXPECT_GT(r.summary.swaps_accepted[0], 200u);
  EXPECT_LT(r.summary.swaps_accepted[0], r.summary.swaps_proposed[0] - 200u);

  const auto energies = all_energies(lattice, program);
  const auto cold = energy_law(energies, 1.0);
  const auto hot = energy_law(energies, 0.25);
  constexpr std::size_t kBatches = 40;
  const std::size_t per_batch = trace.size() / kBatches;
  const double n = static_cast<double>(trace.size());
  double largest_gap = 0.0;
  std::map<std::int64_t, double> tolerance;
  for (const auto& [e, p] : cold) {
    std::vector<double> batch(kBatches, 0.0);
    for (std::size_t k = 0; k < trace.size(); ++k)
      batch[k / per_batch] += trace[k] == e ? 1.0 / static_cast<double>(per_batch) : 0.0;
    double mean = 0.0, var = 0.0;
    for (const double f : batch)
      mean += f / kBatches;
    for (const double f : batch)
      var += (f - mean) * (f - mean) / (kBatches - 1);
    const double se = std::max(std::sqrt(var / kBatches), std::sqrt(p * (1.0 - p) / n));
    tolerance[e] = 5.0 * se;
    largest_gap = std::max(largest_gap, std::abs(hot.at(e) - p) / tolerance[e]);
  }
  ASSERT_GT(largest_gap, 10.0) << "the two laws are too close for this test to tell them apart";
  for (const auto& [e, p] : cold) {
    const double p_hat =
        static_cast<double>(std::count(trace.begin(), trace.end(), e)) / static_cast<double>(n);
    EXPECT_NEAR(p_hat, p, tolerance[e]) << "energy level " << e;
  }
}

// One-sided sign test: P(at least `wins` of `n` fair coin flips), the p-value of "PT is faster
// on more seeds than chance" with ties dropped.
double sign_test_p(int wins, int n) {
  double p = 0.0;
  for (int k = wins; k <= n; ++k) {
    double c = 1.0;  // n choose k
    for (int j = 1; j <= k; ++j)
      c = c * (n - k + j) / j;
    p += c * std::pow(0.5, n);
  }
  return p;
}

// The evidence. A +-J spin glass with |J| uniform in 1..6 on every edge of a 6 x 8 degree-8
// lattice (48 spins, a fresh instance per seed), target = its exact ground energy (bipartite
// enumeration). Parallel tempering: 8 replicas on geometric_ladder(0.1, 5, 8), exchanges every
// 10 sweeps, and the target counts only when the replica at beta 5 holds it
// (target_in_coldest_only), so a win means exchanges carried a low state down the ladder.
// Plain Gibbs: the same 8 chains, all at beta 5, the same runs of 10 sweeps, any chain counts.
// Both get 5,000 sweeps per chain; a miss counts as 5,000. Each seed uses the same board seed
// for both, so their chains start from the same random states.
//
// Rule, fixed before these seeds were run: PT's median sweeps-to-target is below Gibbs's, and a
// one-sided sign test over the seeds that are not ties gives p <= 0.01. History, so that the
// seeds are not read as picked: the setup was chosen on pilot seeds 101..116 (PT won 13, lost 1,
// tied 2); a first confirmation on seeds 1..16 gave medians 150 vs 5,000 but 13 wins to 3
// losses, p = 0.0106, just above the rule, all 3 losses being a Gibbs chain that landed on the
// ground state in its first 10 sweeps (8 chains at beta 5 against PT's one). The rule was kept
// and the number of seeds doubled once, to fresh seeds 17..48; this is that run.
TEST(ParallelTempering, ReachesTheGroundEnergyInFewerSweepsThanPlainGibbs) {
  constexpr std::uint32_t kRows = 6, kCols = 8;
  constexpr std::uint32_t kFirstSeed = 17;
  constexpr int kSeeds = 32;
  constexpr std::uint64_t kBudget = 5000;
  ParallelTemperingOptions o;
  o.betas = geometric_ladder(0.1, 5.0, 8);
  o.sweeps_per_exchange = 10;
  o.max_sweeps = kBudget;
  o.target_in_coldest_only = true;
  std::vector<double> pt_sweeps, gibbs_sweeps;
  int wins = 0, losses = 0;
  std::string table;
  for (std::uint32_t seed = kFirstSeed; seed < kFirstSeed + kSeeds; ++seed) {
    auto probe = open_board(kRows, kCols, seed);
    const driver::LatticeProgram program = spin_glass(probe.lattice(), 6, seed);
    o.target_energy = exact_ground_energy(probe.lattice(), program);
    o.swap_seed = seed;
    auto pt_board = open_board(kRows, kCols, seed);
    const TemperingResult pt = run_parallel_tempering(pt_board, program, o);
    auto gibbs_board = open_board(kRows, kCols, seed);
    const TemperingResult gibbs = run_plain_gibbs(gibbs_board, program, o);
    const auto pt_n = static_cast<double>(pt.summary.sweeps_to_target.value_or(kBudget));
    const auto gibbs_n = static_cast<double>(gibbs.summary.sweeps_to_target.value_or(kBudget));
    ASSERT_GE(pt.summary.best_energy, *o.target_energy);  // nothing beats the exact minimum
    ASSERT_GE(gibbs.summary.best_energy, *o.target_energy);
    pt_sweeps.push_back(pt_n);
    gibbs_sweeps.push_back(gibbs_n);
    wins += pt_n < gibbs_n ? 1 : 0;
    losses += pt_n > gibbs_n ? 1 : 0;
    table += fmt::format("  seed {:>2}: E0 {:>5}  PT {:>5}  Gibbs {:>5}  acceptance {:.2f}\n", seed,
                         *o.target_energy, pt_n, gibbs_n, fmt::join(pt.summary.acceptance, " "));
  }
  const auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2.0;
  };
  const double p = sign_test_p(wins, wins + losses);
  std::printf(
      "%sPT median %.0f sweeps, Gibbs median %.0f; PT faster on %d, slower on %d of %d "
      "seeds; sign test p = %.2g\n",
      table.c_str(), median(pt_sweeps), median(gibbs_sweeps), wins, losses, kSeeds, p);
  EXPECT_LT(median(pt_sweeps), median(gibbs_sweeps));
  EXPECT_LE(p, 0.01) << table;
}

}  // namespace
}  // namespace kelvin::runtime
