// Parallel tempering with its replicas spread over the ranks' p-bit boards, under mpirun
// (MpiCollective): every rank ends with the same results, swaps cross the rank boundaries, and a
// board that disconnects under one rank is every rank's error naming it. The statistics (exact
// law at the target beta) are checked on thread groups (tests/runtime), the same code.
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "kelvin/common/error.hpp"
#include "kelvin/driver/backends/backends.hpp"
#include "kelvin/runtime/mpi/mpi_collective.hpp"
#include "kelvin/runtime/pbit/parallel_tempering.hpp"

namespace kelvin::runtime::mpi {
namespace {

using common::Deadline;

Deadline soon() {
  return Deadline::after(std::chrono::seconds(30));
}

driver::PbitBoard rank_board(int rank, const std::string& extra = "") {
  return driver::PbitBoard(driver::backends::open(
      fmt::format("sim:pbit?rows=4&cols=4&degree=8&seed={}{}", rank + 1, extra)));
}

// A 4 x 4 ring-of-rings with mixed signs (every nearest-neighbour edge of the grid).
IsingModel small_glass() {
  IsingModel m;
  m.nodes = 16;
  for (std::uint32_t i = 0; i < 16; ++i) {
    if (i % 4 != 3)
      m.edges.emplace_back(i, i + 1, i % 3 == 0 ? -2 : 1);
    if (i < 12)
      m.edges.emplace_back(i, i + 4, i % 2 == 0 ? 2 : -1);
  }
  return m;
}

// 8 replicas: 4 per rank at -np 2, 2 at -np 4.
ParallelTemperingOptions eight_replicas() {
  ParallelTemperingOptions o;
  o.betas = geometric_ladder(0.25, 2.0, 8);
  o.sweeps_per_exchange = 2;
  o.max_sweeps = 400;
  o.timeout = std::chrono::seconds(60);
  return o;
}

// True when `values` (this rank's) equal rank 0's, on every rank.
template <typename T>
bool same_as_rank0(MpiCollective& comm, const std::vector<T>& values) {
  std::vector<std::size_t> counts;
  const auto all = comm.gather_all(std::span<const T>(values), soon(), "compare", &counts);
  for (std::size_t r = 1; r < counts.size(); ++r) {
    if (counts[r] != counts[0] ||
        !std::equal(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(counts[0]),
                    all.begin() + static_cast<std::ptrdiff_t>(r * counts[0])))
      return false;
  }
  return true;
}

TEST(MpiParallelTempering, EveryRankEndsWithTheSameResultsAndSwapsCrossRanks) {
  MpiCollective comm;
  driver::PbitBoard board = rank_board(comm.rank());
  const TemperingResult r = run_parallel_tempering(comm, board, small_glass(), eight_replicas());
  const TemperingSummary& s = r.summary;
  EXPECT_EQ(s.chains, 8u);
  EXPECT_EQ(s.local_chains, 8u / static_cast<std::uint32_t>(comm.size()));
  EXPECT_EQ(s.scale_out.ranks, comm.size());
  EXPECT_GT(s.cross_rank_swaps_proposed, 0u);
  EXPECT_GT(s.cross_rank_swaps_accepted, 0u);
  EXPECT_TRUE(same_as_rank0(comm, r.best_state));
  EXPECT_TRUE(same_as_rank0(comm, s.coldest_energy_trace));
  EXPECT_TRUE(same_as_rank0(comm, s.coldest_spin_sums));
  EXPECT_TRUE(same_as_rank0(comm, s.swaps_accepted));
  EXPECT_TRUE(same_as_rank0(comm, std::vector<double>{s.scale_out.device_time_s}));
  // Each board did its own share of the node updates.
  EXPECT_EQ(s.energy.activity.cell_sample_periods, 16u * s.local_chains * s.sweeps);
}

TEST(MpiParallelTempering, ABoardThatDisconnectsIsEveryRanksErrorNamingItsRank) {
  MpiCollective comm;
  driver::PbitBoard board =
      rank_board(comm.rank(), comm.rank() == 1 ? "&fault=disconnect:300ms" : "");
  ParallelTemperingOptions o = eight_replicas();
  o.max_sweeps = std::uint64_t{1} << 30;  // runs until the board vanishes
  o.timeout = std::chrono::seconds(30);
  std::string message;
  common::ErrorKind kind = common::ErrorKind::kInvalidArgument;
  try {
    run_parallel_tempering(comm, board, small_glass(), o);
    ADD_FAILURE() << "no error";
  } catch (const common::Error& e) {
    message = e.what();
    kind = e.kind();
  }
  EXPECT_EQ(kind, common::ErrorKind::kDisconnected) << message;
  EXPECT_NE(message.find(fmt::format("rank 1 of {} (board SIM-PBIT-4x4-2)", comm.size())),
            std::string::npos)
      << message;
  EXPECT_TRUE(same_as_rank0(comm, std::vector<char>(message.begin(), message.end())));
}

}  // namespace
}  // namespace kelvin::runtime::mpi
