// SampleStream accounting on a healthy link: every sample the board produced is delivered in
// order or counted lost, and an overflow of the board's ring is counted and reported by the
// read that found it.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "driver_test_names.hpp"
#include "kelvin/driver/resonator/sample_stream.hpp"
#include "sample_stream_fixture.hpp"

namespace kelvin::driver {
namespace {

using testing::Capture;
using testing::emulator_may_lag;
using testing::fast_options;
using testing::programmed_board;
using testing::stream_for;
using testing::take;

TEST(SampleStream, DeliversEverySampleInOrderOnAHealthyLink) {
  ResonatorBoard board = programmed_board();
  // A reply slower than the reply timeout counts as lost; on a loaded test machine a healthy
  // in-process reply can take tens of milliseconds, so this test allows seconds.
  StreamOptions options = fast_options();
  options.reply_timeout = 5s;
  SampleStream stream(board, options, Deadline::after(5s));
  const Capture c = stream_for(stream, 200ms);
  const StreamCounters n = stream.counters();
  EXPECT_GT(n.received, 10'000u);  // 1 MHz board: 200 ms is 200,000 samples
  EXPECT_EQ(n.transit_lost, 0u);
  EXPECT_EQ(n.produced, n.received + n.lost);
  EXPECT_EQ(n.buffered, 0u);
  EXPECT_TRUE(c.contiguous);
  EXPECT_EQ(c.delivered, n.received);
  EXPECT_EQ(c.errors.count(StreamErrorKind::kSequenceGap), 0u);
  if (!emulator_may_lag()) {
    EXPECT_EQ(n.lost, 0u);
    EXPECT_EQ(n.gaps, 0u);
  }
}

TEST(SampleStream, SmallRingOverflowsWhenTheReaderSleepsAndCountsIt) {
  ResonatorBoard board = programmed_board("&ring=4096");
  SampleStream stream(board, fast_options(), Deadline::after(5s));
  Capture c;
  take(c, stream.recv(Deadline::after(1s)));
  // On a loaded machine the first read can itself come more than 4 ms after the start and find
  // the ring overflowed; what this test pins is that the sleep below overflows it (again) and
  // that exactly that read reports it.
  const StreamCounters before = stream.counters();
  const int overflow_frames_before = c.errors[StreamErrorKind::kOverflow];
  std::this_thread::sleep_for(30ms);  // 30,000 samples due, 4,096 fit
  // A lagging emulator may take a few retries to answer the read after the pause.
  take(c, stream.recv(Deadline::after(5s)));
  const StreamCounters n = stream.counters();
  EXPECT_GT(n.overflow_lost - before.overflow_lost, emulator_may_lag() ? 0u : 20'000u);
  EXPECT_GT(n.overflows, before.overflows);
  EXPECT_EQ(c.errors[StreamErrorKind::kOverflow], overflow_frames_before + 1);
  EXPECT_EQ(n.produced, n.received + n.lost + n.buffered);
  EXPECT_TRUE(c.contiguous);
}

}  // namespace
}  // namespace kelvin::driver
