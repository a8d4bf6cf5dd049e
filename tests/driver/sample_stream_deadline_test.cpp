// SampleStream deadlines and disconnects: no call blocks past its deadline while the board is
// silent, and a disconnect (scheduled on the link, or a close from another thread) wakes the
// reader with kDisconnected and leaves the process able to stream another board.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "driver_test_names.hpp"
#include "kelvin/driver/resonator/sample_stream.hpp"
#include "sample_stream_fixture.hpp"

namespace kelvin::driver {
namespace {

using testing::fast_options;
using testing::programmed_board;
using testing::stream_for;

TEST(SampleStream, RecvReturnsByItsDeadlineWhileTheBoardIsSilent) {
  ResonatorBoard board = programmed_board("&fault=stall:2s@200ms");
  StreamOptions o = fast_options();
  SampleStream stream(board, o, Deadline::after(5s));
  std::this_thread::sleep_until(Clock::now() + 250ms);  // inside the stall
  for (const auto budget : {20ms, 120ms}) {
    const auto begin = Clock::now();
    StreamFrame f = stream.recv(Deadline::after(budget));
    // The first call may still collect samples produced before the stall; then it must time out.
    if (f.metadata.error != StreamErrorKind::kTimeout)
      f = stream.recv(Deadline::after(budget));
    const auto took = Clock::now() - begin;
    EXPECT_EQ(f.metadata.error, StreamErrorKind::kTimeout);
    // Up to two calls of `budget`, plus a loaded machine's wake-up margin; a recv that ignored
    // its deadline would wait for the stall's end, 1.9 s away.
    EXPECT_LT(took, 2 * budget + 1s) << "a deadline of " << budget.count() << " ms";
  }
}

TEST(SampleStream, ScheduledDisconnectFailsTheBlockedReaderAndLeavesTheProcessHealthy) {
  ResonatorBoard board = programmed_board("&fault=disconnect:150ms");
  SampleStream stream(board, fast_options(), Deadline::after(5s));
  const auto begin = Clock::now();
  ErrorKind kind = ErrorKind::kInvalidArgument;
  try {
    for (;;)
      (void)stream.recv(Deadline::after(5s));
  } catch (const Error& e) {
    kind = e.kind();
  }
  EXPECT_EQ(kind, ErrorKind::kDisconnected);
  EXPECT_LT(Clock::now() - begin, 2s);
  EXPECT_EQ(kind_of([&] { (void)stream.recv(Deadline::after(1s)); }), ErrorKind::kDisconnected);
  EXPECT_EQ(kind_of([&] { stream.stop(Deadline::after(1s)); }), ErrorKind::kDisconnected);
  // Another board opens and streams as usual.
  ResonatorBoard other = programmed_board();
  SampleStream healthy(other, fast_options(), Deadline::after(5s));
  EXPECT_GT(stream_for(healthy, 50ms).delivered, 0u);
}

TEST(SampleStream, CloseFromAnotherThreadWakesABlockedReader) {
  ResonatorBoard board = programmed_board("&fault=stall:5s@100ms");
  SampleStream stream(board, fast_options(), Deadline::after(5s));
  std::this_thread::sleep_for(150ms);
  std::thread closer([&] {
    std::this_thread::sleep_for(100ms);
    board.device().close();
  });
  const auto begin = Clock::now();
  EXPECT_EQ(kind_of([&] {
              for (;;)
                (void)stream.recv(Deadline::after(4s));
            }),
            ErrorKind::kDisconnected);
  // Closed at 100 ms; without the wake-up the read would end at its 4 s deadline.
  EXPECT_LT(Clock::now() - begin, 3s);
  closer.join();
}

}  // namespace
}  // namespace kelvin::driver
