// Starting a SampleStream: a start whose replies never come fails by its deadline, a stream left
// running on the board is taken over, a timed start begins at its tick (and a late one is
// refused), and bad options are refused before anything is sent.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <thread>

#include "driver_test_names.hpp"
#include "kelvin/driver/backends/backends.hpp"
#include "kelvin/driver/ping.hpp"
#include "kelvin/driver/resonator/sample_stream.hpp"
#include "sample_stream_fixture.hpp"

namespace kelvin::driver {
namespace {

using testing::fast_options;
using testing::programmed_board;
using testing::stream_for;

TEST(SampleStream, StartRetriesALostReplyAndTakesOverTheRunningStream) {
  // The board falls silent after the hello: the start is retried until its deadline.
  ResonatorBoard silent(backends::open("sim:resonator?cells=4&fault=stall:10s@100ms"));
  std::this_thread::sleep_for(120ms);
  const auto begin = Clock::now();
  EXPECT_EQ(kind_of([&] { SampleStream s(silent, fast_options(), Deadline::after(200ms)); }),
            ErrorKind::kTimeout);
  EXPECT_LT(Clock::now() - begin, 1s);

  // A stream left running on the board (a start whose reply was lost) is stopped and restarted.
  ResonatorBoard board = programmed_board();
  (void)board.start_stream(StreamRequest{}, Deadline::after(1s));
  StreamOptions healthy = fast_options();
  healthy.reply_timeout = 5s;  // a slow reply on a loaded machine would count as lost
  SampleStream stream(board, healthy, Deadline::after(5s));
  EXPECT_GT(stream_for(stream, 50ms).delivered, 0u);
  EXPECT_EQ(stream.counters().transit_lost, 0u);
}

TEST(SampleStream, TimedStartBeginsAtTheRequestedTickAndALateOneIsRefused) {
  ResonatorBoard board = programmed_board();
  std::uint64_t passed_tick = 0;
  {
    SampleStream warm_up(board, fast_options(), Deadline::after(5s));
    passed_tick = warm_up.ticket().first_tick;
    EXPECT_GT(stream_for(warm_up, 20ms).delivered, 0u);
  }
  // The board's clock now reads past the warm-up's first tick; Pong tells where it is.
  const std::uint64_t now = ping(board.device(), 0, Deadline::after(1s)).device_tick;
  ASSERT_GT(now, passed_tick);

  StreamOptions late = fast_options();
  late.request.start_tick = passed_tick;
  EXPECT_EQ(kind_of([&] { SampleStream s(board, late, Deadline::after(2s)); }),
            ErrorKind::kLateCommand);

  StreamOptions timed = fast_options();
  timed.request.start_tick = (now / 100 + 20'000) * 100;  // 20 ms of device time ahead
  const auto begin = Clock::now();
  SampleStream stream(board, timed, Deadline::after(2s));
  EXPECT_EQ(stream.ticket().first_tick, timed.request.start_tick + 100);
  StreamFrame first = stream.recv(Deadline::after(2s));
  while (first.metadata.sample_count == 0 && first.metadata.error == StreamErrorKind::kNone)
    first = stream.recv(Deadline::after(2s));
  ASSERT_GT(first.metadata.sample_count, 0u);
  EXPECT_EQ(first.metadata.first_sequence, 0u);
  EXPECT_EQ(first.metadata.first_tick, timed.request.start_tick + 100);
  EXPECT_GE(Clock::now() - begin, 19ms) << "samples arrived before the start tick";
}

TEST(SampleStream, RefusesBadOptions) {
  ResonatorBoard board = programmed_board();
  StreamOptions o;
  o.reply_timeout = 0ms;
  EXPECT_EQ(kind_of([&] { SampleStream s(board, o, Deadline::after(1s)); }),
            ErrorKind::kInvalidArgument);
  o = StreamOptions{};
  o.poll_interval = 0us;
  EXPECT_EQ(kind_of([&] { SampleStream s(board, o, Deadline::after(1s)); }),
            ErrorKind::kInvalidArgument);
}

}  // namespace
}  // namespace kelvin::driver
