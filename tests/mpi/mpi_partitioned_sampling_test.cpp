// sample_partitioned (runtime/pbit/partitioned_sampling.hpp) under mpirun: the 4 x 5 grid whose
// exact law is known, cut into one strip of whole rows per rank, each rank on its own emulated
// p-bit board; the alternating schedule's estimates agree with the exact law within their error
// bars and are the same on every rank.
#include <chrono>
#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "../runtime/partitioned_fixture.hpp"
#include "kelvin/runtime/mpi/mpi_collective.hpp"
#include "kelvin/testing/boards.hpp"

namespace kelvin::runtime::mpi {
namespace {

using runtime::testing::agreement;

// (estimate - exact) / stderr is Student-t with chains - 1 = 15 dof for an unbiased sampler;
// P(|t_15| > 5) = 1.6e-4, below 1% over the model's 51 quantities.
constexpr double kMaxT = 5.0;

TEST(MpiPartitionedSampling, AlternatingScheduleMatchesTheExactLawOnEveryRank) {
  MpiCollective comm;
  auto board = kelvin::testing::open_pbit_board(runtime::testing::small_board_uri(comm.rank()));
  const IsingModel model = runtime::testing::small_grid();
  PartitionedSamplingOptions o;
  o.chains = 16;
  o.sweeps = 600;
  o.burn_in_sweeps = 40;
  o.exchange_interval = 2;
  o.beta = runtime::testing::kGridBeta;
  o.timeout = std::chrono::seconds(60);
  const PartitionedSamplingResult r = sample_partitioned(
      comm, board, model,
      strip_owner(runtime::testing::kGridRows, runtime::testing::kGridCols, comm.size()), o);
  const auto a = agreement(r, runtime::testing::exact_moments(model, runtime::testing::kGridBeta));
  EXPECT_LT(a.max_t, kMaxT) << a.worst;
  EXPECT_EQ(r.summary.scale_out.ranks, comm.size());
  // Every rank holds the same bits: the minimum over the ranks of each bit pattern is its own.
  std::vector<std::int64_t> bits(r.mean.size()), low;
  std::memcpy(bits.data(), r.mean.data(), bits.size() * sizeof(double));
  low = bits;
  comm.min(std::span<std::int64_t>(low), common::Deadline::after(std::chrono::seconds(30)),
           "test min");
  EXPECT_EQ(low, bits);
}

}  // namespace
}  // namespace kelvin::runtime::mpi
