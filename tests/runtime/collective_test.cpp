// The Collective every distributed job runs on (collective.hpp), through its in-process thread
// group (thread_group.hpp): sums, gathers, broadcasts, the failure agreement and deadlines. The
// MPI implementation runs the same checks under mpirun (tests/mpi).
#include <chrono>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "kelvin/common/error.hpp"
#include "kelvin/runtime/scale_out.hpp"
#include "kelvin/runtime/thread_group.hpp"

namespace kelvin::runtime {
namespace {

using common::Deadline;
using common::Error;
using common::ErrorKind;

// Runs body(rank's collective) on one thread per rank and joins them.
void on_every_rank(int size, const std::function<void(Collective&)>& body) {
  auto group = make_thread_group(size);
  std::vector<std::thread> threads;
  for (auto& c : group)
    threads.emplace_back([&body, &c] { body(*c); });
  for (auto& t : threads)
    t.join();
}

Deadline soon() {
  return Deadline::after(std::chrono::seconds(20));
}

TEST(Collective, ThreadGroupSumsInRankOrderWithTheSameBitsOnEveryRank) {
  std::vector<double> results(3);
  on_every_rank(3, [&](Collective& c) {
    double v = c.rank() == 0 ? 1e16 : 1.0;  // 1e16 + 1 + 1: order matters
    v = c.sum(v, soon(), "sum");
    results[static_cast<std::size_t>(c.rank())] = v;
  });
  const double expected = (1e16 + 1.0) + 1.0;
  for (double r : results)
    EXPECT_EQ(r, expected);
}

TEST(Collective, ThreadGroupGathersAndBroadcasts) {
  on_every_rank(4, [](Collective& c) {
    std::vector<std::int64_t> mine(static_cast<std::size_t>(c.rank()), c.rank());
    std::vector<std::size_t> counts;
    const auto all = c.gather_all(std::span<const std::int64_t>(mine), soon(), "gather", &counts);
    EXPECT_EQ(all.size(), 0u + 1u + 2u + 3u);
    EXPECT_EQ(counts, (std::vector<std::size_t>{0, 1, 2, 3}));
    std::vector<std::uint8_t> data;
    if (c.rank() == 2)
      data = {7, 8};
    c.broadcast(data, 2, soon(), "broadcast");
    EXPECT_EQ(data, (std::vector<std::uint8_t>{7, 8}));
    std::int64_t low = 10 - c.rank();
    c.min(std::span<std::int64_t>(&low, 1), soon(), "min");
    EXPECT_EQ(low, 7);
    EXPECT_EQ(c.stats().operations, 3u);
  });
}

TEST(Collective, OneRanksFailureIsEveryRanksErrorNamingRankAndBoard) {
  std::vector<std::string> messages(3);
  std::vector<ErrorKind> kinds(3, ErrorKind::kInvalidArgument);
  on_every_rank(3, [&](Collective& c) {
    c.set_label("board tcp:127.0.0.1:" + std::to_string(5000 + c.rank()));
    try {
      c.checked("step one", soon(), [&] {
        if (c.rank() == 1)
          throw Error(ErrorKind::kDisconnected, "connection reset");
      });
    } catch (const Error& e) {
      messages[static_cast<std::size_t>(c.rank())] = e.what();
      kinds[static_cast<std::size_t>(c.rank())] = e.kind();
    }
  });
  for (int r = 0; r < 3; ++r) {
    EXPECT_EQ(kinds[static_cast<std::size_t>(r)], ErrorKind::kDisconnected);
    EXPECT_EQ(messages[static_cast<std::size_t>(r)],
              "rank 1 of 3 (board tcp:127.0.0.1:5001) failed in 'step one': connection reset");
  }
}

TEST(Collective, TheFirstFailingRankIsTheOneReported) {
  on_every_rank(3, [](Collective& c) {
    try {
      c.checked("step", soon(), [&] {
        if (c.rank() >= 1)
          throw std::runtime_error("rank " + std::to_string(c.rank()) + " broke");
      });
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kDevice);
      EXPECT_EQ(std::string(e.what()),
                "rank 1 of 3 failed in 'step': unexpected error: rank 1 broke");
    }
  });
}

TEST(Collective, ABoardThatTimesOutAtTheDeadlineIsStillNamedOnEveryRank) {
  std::vector<std::string> messages(2);
  on_every_rank(2, [&](Collective& c) {
    const Deadline deadline = Deadline::after(std::chrono::milliseconds(300));
    try {
      c.checked("stalled step", deadline, [&] {
        if (c.rank() == 1) {  // a stalled board: its call gives up exactly at the deadline
          std::this_thread::sleep_until(deadline.when());
          throw Error(ErrorKind::kTimeout, "no reply from the board");
        }
      });
    } catch (const Error& e) {
      messages[static_cast<std::size_t>(c.rank())] = e.what();
    }
  });
  for (const auto& m : messages)
    EXPECT_EQ(m, "rank 1 of 2 failed in 'stalled step': no reply from the board");
}

TEST(Collective, ARankThatNeverArrivesTimesOutTheOthersAndPoisonsThem) {
  on_every_rank(2, [](Collective& c) {
    if (c.rank() == 1)
      return;  // gone
    const auto start = std::chrono::steady_clock::now();
    try {
      c.sum(1.0, Deadline::after(std::chrono::milliseconds(200)), "lonely sum");
      ADD_FAILURE() << "no timeout";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kTimeout);
      EXPECT_NE(std::string(e.what()).find("rank 0 of 2"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("lonely sum"), std::string::npos) << e.what();
    }
    // Well within the margin a loaded machine needs; the point is that it returns at all.
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
    EXPECT_TRUE(c.poisoned());
    EXPECT_THROW(c.sum(1.0, soon(), "after"), Error);
  });
}

TEST(Collective, LocalCollectiveIsTheIdentityAndRethrowsItsOwnFailure) {
  LocalCollective c;
  EXPECT_EQ(c.sum(2.5, soon(), "sum"), 2.5);
  EXPECT_THROW(c.checked("step", soon(), [] { throw Error(ErrorKind::kTimeout, "late"); }), Error);
}

TEST(ScaleOut, GathersTheSlowestBoardsTimeAndEveryBoardsEnergy) {
  std::vector<ScaleOutSummary> out(3);
  on_every_rank(3, [&](Collective& c) {
    c.set_label("board " + std::to_string(c.rank()));
    JobSummary job;
    job.device_time_s = 1.0 + c.rank();
    job.energy.analog_j = 0.5;
    job.energy.io_bytes = 100;
    c.sum(1.0, soon(), "some work");
    out[static_cast<std::size_t>(c.rank())] = gather_scale_out(c, job, soon());
  });
  for (int r = 0; r < 3; ++r) {
    const ScaleOutSummary& s = out[static_cast<std::size_t>(r)];
    EXPECT_EQ(s.ranks, 3);
    EXPECT_EQ(s.rank, r);
    EXPECT_EQ(s.boards, (std::vector<std::string>{"board 0", "board 1", "board 2"}));
    EXPECT_DOUBLE_EQ(s.device_time_s, 3.0);
    EXPECT_DOUBLE_EQ(s.device_time_sum_s, 6.0);
    EXPECT_DOUBLE_EQ(s.energy.analog_j, 1.5);
    EXPECT_EQ(s.energy.io_bytes, 300u);
    EXPECT_EQ(s.collective_operations, 1u);  // the job's own, not the summary's gathers
    EXPECT_EQ(s.collective_bytes, 3u * sizeof(double));
  }
}

}  // namespace
}  // namespace kelvin::runtime
