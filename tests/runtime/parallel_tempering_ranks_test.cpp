// Parallel tempering over several ranks' p-bit boards (the distributed overloads of
// parallel_tempering.hpp) on in-process thread groups (thread_group.hpp), every rank with its own
// emulated board: the target-beta means follow the exact law, swaps cross the rank boundaries,
// every rank ends with the same results, a board that dies is every rank's error, and splits the
// boards cannot run are refused. The MPI build runs the same job under mpirun (tests/mpi).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "kelvin/common/error.hpp"
#include "kelvin/driver/backends/backends.hpp"
#include "kelvin/runtime/pbit/parallel_tempering.hpp"
#include "kelvin/runtime/thread_group.hpp"
#include "pbit_exact_law.hpp"

namespace kelvin::runtime {
namespace {

using common::Error;
using common::ErrorKind;

driver::PbitBoard open_board(const std::string& uri) {
  return driver::PbitBoard(driver::backends::open(uri));
}

std::string board_uri(std::uint64_t seed, const std::string& extra = "") {
  return fmt::format("sim:pbit?rows=4&cols=4&degree=8&seed={}{}", seed, extra);
}

// A frustrated 4 x 4 grid: nearest-neighbour couplings of mixed signs and a few biases, so the
// means are not zero and differ between temperatures.
IsingModel frustrated_grid() {
  static constexpr int kCouplings[24] = {2, -1, -2, 1, 1,  2, -1, -2, 2, 1, -1, 2,
                                         1, -2, 2,  1, -1, 1, 2,  -2, 1, 2, -1, 1};
  IsingModel m;
  m.nodes = 16;
  int e = 0;
  for (std::uint32_t r = 0; r < 4; ++r) {
    for (std::uint32_t c = 0; c < 4; ++c) {
      const std::uint32_t i = 4 * r + c;
      if (c + 1 < 4)
        m.edges.emplace_back(i, i + 1, kCouplings[e++]);
      if (r + 1 < 4)
        m.edges.emplace_back(i, i + 4, kCouplings[e++]);
    }
  }
  m.bias = {1, 0, -1, 0, 0, 2, 0, -1, -2, 0, 1, 0, 0, -1, 0, 1};
  return m;
}

// What one rank ended with: its result, or the error it threw.
struct RankOutcome {
  TemperingResult result;
  bool failed = false;
  ErrorKind kind = ErrorKind::kDevice;
  std::string message;
};

// Runs the job on `ranks` threads, rank r on the board uri(r) with options change(r, o).
std::vector<RankOutcome> run_on_ranks(
    int ranks, const std::function<std::string(int)>& uri, const IsingModel& model,
    const ParallelTemperingOptions& options,
    const std::function<void(int, ParallelTemperingOptions&)>& change = {}) {
  auto group = make_thread_group(ranks);
  std::vector<RankOutcome> out(static_cast<std::size_t>(ranks));
  std::vector<std::thread> threads;
  for (int r = 0; r < ranks; ++r) {
    threads.emplace_back([&, r] {
      RankOutcome& o = out[static_cast<std::size_t>(r)];
      try {
        driver::PbitBoard board = open_board(uri(r));
        ParallelTemperingOptions mine = options;
        if (change)
          change(r, mine);
        o.result = run_parallel_tempering(*group[static_cast<std::size_t>(r)], board, model, mine);
      } catch (const Error& e) {
        o.failed = true;
        o.kind = e.kind();
        o.message = e.what();
      }
    });
  }
  for (auto& t : threads)
    t.join();
  return out;
}

ParallelTemperingOptions six_replicas() {
  ParallelTemperingOptions o;
  o.betas = {0.125, 0.1875, 0.25, 0.3125, 0.375, 0.5};  // codes 32 ... 128: realized exactly
  o.sweeps_per_exchange = 1;
  o.max_sweeps = 800;
  o.burn_in_sweeps = 50;
  o.timeout = std::chrono::seconds(60);
  return o;
}

void expect_same_on_every_rank(const std::vector<RankOutcome>& out) {
  const TemperingResult& a = out[0].result;
  for (std::size_t r = 1; r < out.size(); ++r) {
    const TemperingResult& b = out[r].result;
    EXPECT_EQ(b.best_state, a.best_state) << "rank " << r;
    EXPECT_EQ(b.summary.best_energy, a.summary.best_energy) << "rank " << r;
    EXPECT_EQ(b.summary.coldest_energy_trace, a.summary.coldest_energy_trace) << "rank " << r;
    EXPECT_EQ(b.summary.coldest_spin_sums, a.summary.coldest_spin_sums) << "rank " << r;
    EXPECT_EQ(b.summary.swaps_accepted, a.summary.swaps_accepted) << "rank " << r;
    EXPECT_EQ(b.summary.cross_rank_swaps_accepted, a.summary.cross_rank_swaps_accepted);
    EXPECT_EQ(b.summary.sweeps, a.summary.sweeps) << "rank " << r;
    EXPECT_EQ(b.summary.scale_out.device_time_s, a.summary.scale_out.device_time_s);
  }
}

// The coldest replica's means <s_i> at beta 0.5 against the exact law, from K = 12 independent
// repeats (fresh board seeds on every rank, fresh swap seeds): per node, the mean of the K
// repeat means and its standard error from their spread, Student t with K - 1 = 11 degrees of
// freedom. Each repeat's mean averages 750 correlated samples, and the repeats are independent,
// so the spread carries the autocorrelation with it. The standard error is floored by the
// i.i.d. value sqrt((1 - <s_i>^2) / (K 750)) (a positively correlated chain cannot do better),
// which matters only for a node so polarized that no repeat saw it flip. Bound: t_{11} at
// two-sided 1e-3 / 16 nodes (Bonferroni) = 6.25. The test can fail: the law at the hottest beta
// (0.125) differs from the target's by more than two such tolerances on some node.
void expect_exact_means(int ranks) {
  constexpr int kRepeats = 12;
  constexpr double kT = 6.25;
  const IsingModel model = frustrated_grid();
  const auto exact = testing::exact_moments(model, 0.5).mean;
  const auto hot = testing::exact_moments(model, 0.125).mean;
  std::vector<std::vector<double>> means(model.nodes);
  std::uint64_t across = 0;
  for (int k = 0; k < kRepeats; ++k) {
    ParallelTemperingOptions o = six_replicas();
    o.swap_seed = static_cast<std::uint64_t>(k) + 1;
    const auto out = run_on_ranks(
        ranks, [&](int r) { return board_uri(1000 * (k + 1) + static_cast<std::uint64_t>(r)); },
        model, o);
    for (const RankOutcome& rank : out)
      ASSERT_FALSE(rank.failed) << rank.message;
    expect_same_on_every_rank(out);
    ASSERT_EQ(out[0].result.summary.coldest_samples, 750u);
    across += out[0].result.summary.cross_rank_swaps_accepted;
    for (std::uint32_t i = 0; i < model.nodes; ++i)
      means[i].push_back(out[0].result.summary.coldest_mean(i));
  }
  EXPECT_GT(across, 0u);
  double largest_gap = 0.0;
  for (std::uint32_t i = 0; i < model.nodes; ++i) {
    double m = 0.0, var = 0.0;
    for (const double v : means[i])
      m += v / kRepeats;
    for (const double v : means[i])
      var += (v - m) * (v - m) / (kRepeats - 1);
    const double iid = (1.0 - exact[i] * exact[i]) / (kRepeats * 750.0);
    const double tolerance = kT * std::sqrt(std::max(var / kRepeats, iid));
    largest_gap = std::max(largest_gap, std::abs(hot[i] - exact[i]) / tolerance);
    EXPECT_NEAR(m, exact[i], tolerance) << "node " << i << " on " << ranks << " ranks";
    std::printf("node %2u: mean %+.4f exact %+.4f tolerance %.4f hot %+.4f\n", i, m, exact[i],
                tolerance, hot[i]);
  }
  EXPECT_GT(largest_gap, 2.0) << "the hot and target laws are too close to tell apart";
}

TEST(TemperingOverRanks, TwoBoardsSampleTheExactLawAtTheTargetBeta) {
  expect_exact_means(2);
}

TEST(TemperingOverRanks, ThreeBoardsSampleTheExactLawAtTheTargetBeta) {
  expect_exact_means(3);
}

// 6 replicas on 3 boards, two each: the pairs (1,2) and (3,4) start across a rank boundary, so
// the odd runs propose swaps between boards from the first exchange on; some are accepted.
TEST(TemperingOverRanks, SwapsCrossTheRankBoundaryAndEveryRankEndsTheSame) {
  const auto out = run_on_ranks(
      3, [](int r) { return board_uri(static_cast<std::uint64_t>(r) + 1); }, frustrated_grid(),
      six_replicas());
  for (std::size_t r = 0; r < out.size(); ++r) {
    ASSERT_FALSE(out[r].failed) << out[r].message;
    const TemperingSummary& s = out[r].result.summary;
    EXPECT_EQ(s.first_chain, 2 * r);
    EXPECT_EQ(s.local_chains, 2u);
    EXPECT_EQ(s.chains, 6u);
    EXPECT_EQ(s.scale_out.ranks, 3);
    EXPECT_EQ(s.scale_out.boards.size(), 3u);
    EXPECT_NE(s.scale_out.boards[r].find(fmt::format("SIM-PBIT-4x4-{}", r + 1)), std::string::npos);
    // This rank's board did its own share: 2 chains of 16 nodes for every sweep.
    EXPECT_EQ(s.energy.activity.cell_sample_periods, 2u * 16u * s.sweeps);
  }
  const TemperingSummary& s = out[0].result.summary;
  EXPECT_GT(s.cross_rank_swaps_proposed, 0u);
  EXPECT_GT(s.cross_rank_swaps_accepted, 0u);
  EXPECT_LT(s.cross_rank_swaps_accepted, s.cross_rank_swaps_proposed);
  expect_same_on_every_rank(out);
  const auto* field = find_field(s.fields(), "scale_out");
  EXPECT_NE(field, nullptr);
}

// Rank 1's board vanishes 300 ms into a job that would run for minutes: every rank throws the
// same error, naming rank 1 and its board, long before the job's deadline.
TEST(TemperingOverRanks, ABoardThatDisconnectsIsEveryRanksErrorNamingItsRank) {
  ParallelTemperingOptions o = six_replicas();
  o.max_sweeps = std::uint64_t{1} << 30;
  o.timeout = std::chrono::seconds(30);
  const auto start = std::chrono::steady_clock::now();
  const auto out = run_on_ranks(
      3,
      [](int r) {
        return board_uri(static_cast<std::uint64_t>(r) + 1,
                         r == 1 ? "&fault=disconnect:300ms" : "");
      },
      frustrated_grid(), o);
  EXPECT_LT(std::chrono::steady_clock::now() - start, o.timeout);
  for (std::size_t r = 0; r < out.size(); ++r) {
    ASSERT_TRUE(out[r].failed) << "rank " << r;
    EXPECT_EQ(out[r].kind, out[0].kind);
    EXPECT_EQ(out[r].message, out[0].message);
  }
  EXPECT_EQ(out[0].kind, ErrorKind::kDisconnected) << out[0].message;
  EXPECT_NE(out[0].message.find("rank 1 of 3 (board SIM-PBIT-4x4-2)"), std::string::npos)
      << out[0].message;
  EXPECT_NE(out[0].message.find("parallel tempering: run"), std::string::npos) << out[0].message;
}

TEST(TemperingOverRanks, SplitsTheBoardsCannotRunAreRefusedOnEveryRank) {
  const IsingModel model = frustrated_grid();
  const auto same = [](int r) { return board_uri(static_cast<std::uint64_t>(r) + 1); };
  const auto refused = [](const std::vector<RankOutcome>& out, ErrorKind kind,
                          const std::string& text) {
    for (std::size_t r = 0; r < out.size(); ++r) {
      ASSERT_TRUE(out[r].failed) << "rank " << r;
      EXPECT_EQ(out[r].kind, kind) << out[r].message;
      EXPECT_EQ(out[r].message, out[0].message);
      EXPECT_NE(out[r].message.find(text), std::string::npos) << out[r].message;
    }
  };
  ParallelTemperingOptions two = six_replicas();
  two.betas = {0.5, 1.0};
  refused(run_on_ranks(3, same, model, two), ErrorKind::kInvalidArgument, "3 ranks for 2 replicas");
  // 130 replicas on 2 boards of 64 chains: 65 each. The first rank that fails is named.
  ParallelTemperingOptions many = six_replicas();
  many.betas.clear();
  for (int k = 1; k <= 130; ++k)
    many.betas.push_back(k / 256.0);
  refused(run_on_ranks(2, same, model, many), ErrorKind::kOutOfRange,
          "rank 0 of 2 (board SIM-PBIT-4x4-1) failed in 'parallel tempering: check the board': "
          "ParallelTemperingOptions: 65 of the 130 replicas on this rank");
  // Rank 1 given another swap seed, then a board of another size.
  refused(run_on_ranks(2, same, model, six_replicas(),
                       [](int r, ParallelTemperingOptions& o) { o.swap_seed += r; }),
          ErrorKind::kInvalidArgument, "rank 1 of 2 was given another model, program or options");
  refused(
      run_on_ranks(
          2, [](int r) { return r == 0 ? board_uri(1) : "sim:pbit?rows=5&cols=4&degree=8&seed=2"; },
          model, six_replicas()),
      ErrorKind::kInvalidArgument, "rank 1 of 2 (board SIM-PBIT-5x4-2): its board has 20");
}

}  // namespace
}  // namespace kelvin::runtime
