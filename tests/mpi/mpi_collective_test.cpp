// MpiCollective (runtime/mpi) under mpirun: the operations every distributed job is built on,
// and the agreement that makes one rank's failure every rank's error.
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "kelvin/common/error.hpp"
#include "kelvin/runtime/mpi/mpi_collective.hpp"

namespace kelvin::runtime::mpi {
namespace {

using common::Deadline;
using common::Error;
using common::ErrorKind;

Deadline soon() {
  return Deadline::after(std::chrono::seconds(30));
}

TEST(MpiCollective, SumsAreBitIdenticalOnEveryRankAndInRankOrder) {
  MpiCollective comm;
  // Values whose sum depends on the order of addition: rank order is the contract.
  std::vector<double> v = {comm.rank() == 0 ? 1e16 : 1.0, 0.1 * (comm.rank() + 1)};
  comm.sum(std::span<double>(v), soon(), "test sum");
  double expected0 = 1e16;
  double expected1 = 0.1;
  for (int r = 1; r < comm.size(); ++r) {
    expected0 += 1.0;
    expected1 += 0.1 * (r + 1);
  }
  EXPECT_EQ(v[0], expected0);
  EXPECT_EQ(v[1], expected1);
  // Every rank holds the same bits: the minimum of the bit patterns equals each rank's.
  std::int64_t bits = 0;
  std::memcpy(&bits, &v[1], sizeof bits);
  std::int64_t low = bits;
  comm.min(std::span<std::int64_t>(&low, 1), soon(), "test min");
  EXPECT_EQ(low, bits);
}

TEST(MpiCollective, GathersDifferentSizesInRankOrder) {
  MpiCollective comm;
  std::vector<std::int32_t> mine(static_cast<std::size_t>(comm.rank()) + 1, comm.rank());
  std::vector<std::size_t> counts;
  const auto all =
      comm.gather_all(std::span<const std::int32_t>(mine), soon(), "test gather", &counts);
  ASSERT_EQ(counts.size(), static_cast<std::size_t>(comm.size()));
  std::size_t at = 0;
  for (int r = 0; r < comm.size(); ++r) {
    EXPECT_EQ(counts[static_cast<std::size_t>(r)], static_cast<std::size_t>(r) + 1);
    for (int k = 0; k <= r; ++k)
      EXPECT_EQ(all[at++], r);
  }
  EXPECT_EQ(comm.stats().operations, 1u);
}

TEST(MpiCollective, BroadcastsTheRootsBytes) {
  MpiCollective comm;
  const int root = comm.size() - 1;
  std::vector<std::uint8_t> data;
  if (comm.rank() == root)
    data = {1, 2, 3, static_cast<std::uint8_t>(root)};
  comm.broadcast(data, root, soon(), "test broadcast");
  EXPECT_EQ(data, (std::vector<std::uint8_t>{1, 2, 3, static_cast<std::uint8_t>(root)}));
}

TEST(MpiCollective, OneRanksFailureIsEveryRanksErrorNamingRankAndBoard) {
  MpiCollective comm;
  comm.set_label("board sim:pbit?seed=" + std::to_string(comm.rank()));
  const int failing = comm.size() - 1;
  try {
    comm.checked("test step", soon(), [&] {
      if (comm.rank() == failing)
        throw Error(ErrorKind::kDisconnected, "the board went away");
    });
    ADD_FAILURE() << "no error on rank " << comm.rank();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kDisconnected);
    const std::string expected = "rank " + std::to_string(failing) + " of " +
                                 std::to_string(comm.size()) +
                                 " (board sim:pbit?seed=" + std::to_string(failing) +
                                 ") failed in 'test step': the board "
                                 "went away";
    EXPECT_EQ(std::string(e.what()), expected);
  }
  // And nothing is left half-done: the group still lines up.
  EXPECT_DOUBLE_EQ(comm.sum(1.0, soon(), "after"), comm.size());
}

TEST(MpiCollective, CheckedPassesWhenEveryRankSucceeds) {
  MpiCollective comm;
  int ran = 0;
  EXPECT_NO_THROW(comm.checked("ok step", soon(), [&] { ++ran; }));
  EXPECT_EQ(ran, 1);
}

}  // namespace
}  // namespace kelvin::runtime::mpi
