// Sampling an Ising model partitioned over two (or three) emulated p-bit boards, one per rank of
// an in-process thread group (partitioned_sampling.hpp): the alternating schedule against the
// exact law, the concurrent schedule's stale-boundary bias, a model larger than one lattice,
// the refusals, and a board that disconnects under one rank.
//
// Tolerances. Each mean and edge correlation comes with the spread of its 16 chain means, so
// (estimate - exact) / stderr is Student-t with 15 degrees of freedom for an unbiased sampler;
// P(|t_15| > 5) = 1.6e-4, so over the model's 51 quantities a correct sampler exceeds kMaxT with
// probability below 1% (and with the fixed seeds, never from run to run).
#include "kelvin/runtime/pbit/partitioned_sampling.hpp"

#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "kelvin/common/error.hpp"
#include "kelvin/runtime/thread_group.hpp"
#include "kelvin/testing/boards.hpp"
#include "partitioned_fixture.hpp"

namespace kelvin::runtime {
namespace {

using common::Error;
using common::ErrorKind;
using testing::agreement;
using testing::exact_moments;
using testing::ExactMoments;
using testing::small_board_uri;
using testing::small_grid;

constexpr double kMaxT = 5.0;  // see the file comment

struct Outcome {
  std::optional<PartitionedSamplingResult> result;
  std::optional<ErrorKind> kind;
  std::string error;
};

// Every rank on its own thread, with its own board.
std::vector<Outcome> run_on_ranks(int ranks, const std::function<std::string(int)>& uri,
                                  const IsingModel& model, const std::vector<int>& owner,
                                  const PartitionedSamplingOptions& options) {
  auto group = make_thread_group(ranks);
  std::vector<Outcome> out(static_cast<std::size_t>(ranks));
  std::vector<std::thread> threads;
  for (int r = 0; r < ranks; ++r) {
    threads.emplace_back([&, r] {
      Outcome& o = out[static_cast<std::size_t>(r)];
      try {
        auto board = kelvin::testing::open_pbit_board(uri(r));
        o.result =
            sample_partitioned(*group[static_cast<std::size_t>(r)], board, model, owner, options);
      } catch (const Error& e) {
        o.kind = e.kind();
        o.error = e.what();
      }
    });
  }
  for (auto& t : threads)
    t.join();
  return out;
}

PartitionedSamplingOptions grid_options(PartitionSchedule schedule, std::uint32_t interval,
                                        std::uint64_t sweeps) {
  PartitionedSamplingOptions o;
  o.schedule = schedule;
  o.exchange_interval = interval;
  o.sweeps = sweeps;
  o.burn_in_sweeps = 64;
  o.chains = 16;
  o.beta = testing::kGridBeta;
  return o;
}

std::vector<Outcome> run_grid(const PartitionedSamplingOptions& options) {
  return run_on_ranks(2, small_board_uri, small_grid(),
                      strip_owner(testing::kGridRows, testing::kGridCols, 2), options);
}

void expect_identical_results(const std::vector<Outcome>& out) {
  for (const Outcome& o : out)
    ASSERT_TRUE(o.result) << o.error;
  for (std::size_t r = 1; r < out.size(); ++r) {
    EXPECT_EQ(out[r].result->mean, out[0].result->mean);
    EXPECT_EQ(out[r].result->edge_correlations, out[0].result->edge_correlations);
  }
}

TEST(PartitionedSampling, AlternatingScheduleMatchesTheExactLawAtIntervalOne) {
  const auto out = run_grid(grid_options(PartitionSchedule::kAlternating, 1, 1500));
  expect_identical_results(out);
  const PartitionedSamplingResult& r = *out[0].result;
  const auto a = agreement(r, exact_moments(small_grid(), testing::kGridBeta));
  EXPECT_LT(a.max_t, kMaxT) << a.worst;
  const PartitionedSamplingSummary& s = r.summary;
  EXPECT_EQ(s.cross_edges, 5u);  // the five vertical edges between rows 1 and 2
  EXPECT_EQ(s.boundary_nodes, 10u);
  EXPECT_EQ(s.samples_per_chain, 2u * 1500u);
  EXPECT_EQ(s.stderr_dof, 15u);
  EXPECT_EQ(s.scale_out.ranks, 2);
  // Each board sweeps in every other phase: along the schedule the job takes twice its time.
  EXPECT_DOUBLE_EQ(s.schedule_device_time_s / s.device_time_s, (1.0 + 2 * 1564) / (1 + 1564));
  EXPECT_TRUE(s.warnings.empty());
}

TEST(PartitionedSampling, AlternatingScheduleMatchesTheExactLawAtALongInterval) {
  const auto out = run_grid(grid_options(PartitionSchedule::kAlternating, 16, 1600));
  expect_identical_results(out);
  const auto a = agreement(*out[0].result, exact_moments(small_grid(), testing::kGridBeta));
  EXPECT_LT(a.max_t, kMaxT) << a.worst;
  EXPECT_EQ(out[0].result->summary.exchanges, 1u + 2u * (64u + 1600u) / 16u);
}

// The concurrent schedule updates the two sides of the cut at the same time from each other's
// previous spins: even at interval 1 that is a synchronous update across the cut, whose law is
// not the model's, and the equal-time cross-edge correlations show it; the means stay close.
// With a 64-sweep interval the bias is larger and the comparison with the exact law fails.
TEST(PartitionedSampling, ConcurrentScheduleIsBiasedByStaleBoundariesMoreAtALongerInterval) {
  const ExactMoments exact = exact_moments(small_grid(), testing::kGridBeta);
  const auto fresh = run_grid(grid_options(PartitionSchedule::kConcurrent, 1, 2048));
  const auto stale = run_grid(grid_options(PartitionSchedule::kConcurrent, 64, 2048));
  expect_identical_results(fresh);
  expect_identical_results(stale);
  const auto a1 = agreement(*fresh[0].result, exact);
  const auto a64 = agreement(*stale[0].result, exact);
  EXPECT_LT(a1.max_t_means, kMaxT) << a1.worst;
  EXPECT_GT(a64.max_t, kMaxT) << "the stale boundary's bias was not detected";
  EXPECT_GT(a64.rms_error, a1.rms_error);
  EXPECT_FALSE(stale[0].result->summary.warnings.empty());
}

TEST(PartitionedSampling, AModelLargerThanOneLatticeRunsOnTwoBoards) {
  // A 16 x 8 grid (128 nodes) on two 8 x 8 lattices: each strip fills its board (one copy).
  const IsingModel model = grid_model(16, 8, 2, 1, 3);
  PartitionedSamplingOptions o;
  o.chains = 1;
  o.sweeps = 200;
  o.burn_in_sweeps = 20;
  o.exchange_interval = 4;
  o.beta = 0.25;
  const auto out = run_on_ranks(
      2, [](int r) { return fmt::format("sim:pbit?rows=8&cols=8&degree=8&seed={}", r + 1); }, model,
      strip_owner(16, 8, 2), o);
  expect_identical_results(out);
  const PartitionedSamplingSummary& s = out[1].result->summary;
  EXPECT_EQ(s.local_nodes, 64u);
  EXPECT_EQ(s.copies_fit, 1u);
  EXPECT_EQ(s.cross_edges, 8u);
  EXPECT_EQ(out[0].result->mean.size(), 128u);
  EXPECT_FALSE(s.stderr_dof.has_value());
}

void expect_refused_everywhere(const std::vector<Outcome>& out, ErrorKind kind,
                               const std::string& text) {
  for (const Outcome& o : out) {
    ASSERT_FALSE(o.result);
    EXPECT_EQ(o.kind, kind) << o.error;
    EXPECT_NE(o.error.find(text), std::string::npos) << o.error;
    EXPECT_EQ(o.error, out[0].error);
  }
}

TEST(PartitionedSampling, RefusesAnOwnerVectorOfTheWrongSizeOrRank) {
  std::vector<int> owner = strip_owner(testing::kGridRows, testing::kGridCols, 2);
  owner.pop_back();
  expect_refused_everywhere(run_on_ranks(2, small_board_uri, small_grid(), owner, {}),
                            ErrorKind::kInvalidArgument, "owner has 19 entries for 20 nodes");
  owner.push_back(2);
  expect_refused_everywhere(run_on_ranks(2, small_board_uri, small_grid(), owner, {}),
                            ErrorKind::kInvalidArgument, "owner[19] = 2");
}

TEST(PartitionedSampling, RefusesSameColourNeighboursUnderTheAlternatingSchedule) {
  // Rows 0, 1 on rank 0, rows 2, 3 on rank 2 (both even), rank 1 gets nothing between them.
  const std::vector<int> owner = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1};
  expect_refused_everywhere(run_on_ranks(3, small_board_uri, small_grid(), owner, {}),
                            ErrorKind::kInvalidArgument, "joins ranks 0 and 2, both even");
}

TEST(PartitionedSampling, RefusesABoundaryFieldBeyondTheBiasRangeNamingTheNode) {
  IsingModel model = small_grid();
  model.bias[7] = 127;  // node 7 (row 1) has a cross edge to node 12
  expect_refused_everywhere(
      run_on_ranks(2, small_board_uri, model,
                   strip_owner(testing::kGridRows, testing::kGridCols, 2), {}),
      ErrorKind::kOutOfRange, "node 7 (rank 0)");
}

TEST(PartitionedSampling, RefusesMoreChainsThanCopiesFitNamingTheRank) {
  PartitionedSamplingOptions o;
  o.chains = 17;  // 16 copies of a 2 x 5 strip fit a 32 x 5 lattice
  expect_refused_everywhere(run_grid(o), ErrorKind::kInvalidArgument,
                            "only 16 copies of rank 0's part");
}

TEST(PartitionedSampling, RefusesInputsThatDifferBetweenRanksNamingTheRank) {
  auto group = make_thread_group(2);
  std::vector<Outcome> out(2);
  std::vector<std::thread> threads;
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&, r] {
      PartitionedSamplingOptions o;
      o.sweeps = r == 0 ? 100 : 101;
      try {
        auto board = kelvin::testing::open_pbit_board(small_board_uri(r));
        sample_partitioned(*group[static_cast<std::size_t>(r)], board, small_grid(),
                           strip_owner(testing::kGridRows, testing::kGridCols, 2), o);
      } catch (const Error& e) {
        out[static_cast<std::size_t>(r)].kind = e.kind();
        out[static_cast<std::size_t>(r)].error = e.what();
      }
    });
  }
  for (auto& t : threads)
    t.join();
  expect_refused_everywhere(out, ErrorKind::kInvalidArgument, "rank 1 was given a different");
}

TEST(PartitionedSampling, ARankWhoseBoardDisconnectsFailsEveryRankNamingIt) {
  PartitionedSamplingOptions o = grid_options(PartitionSchedule::kConcurrent, 1, 1000000);
  o.timeout = std::chrono::seconds(20);
  const auto out = run_on_ranks(
      2,
      [](int r) {
        return small_board_uri(r) + (r == 1 ? "&serial=SIM-LOST&fault=disconnect:300ms" : "");
      },
      small_grid(), strip_owner(testing::kGridRows, testing::kGridCols, 2), o);
  expect_refused_everywhere(out, ErrorKind::kDisconnected, "rank 1 of 2 (board SIM-LOST)");
}

}  // namespace
}  // namespace kelvin::runtime
