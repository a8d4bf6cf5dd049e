// Streaming on the emulated resonator board, against a manual device clock: the ring buffer,
// exact accounting of lost samples, pacing, and the rules around runs.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "board_client.hpp"
#include "kelvin/sim_backend/sample_ring.hpp"

namespace kelvin::sim_backend::testing {
namespace {

using std::chrono::microseconds;
using std::chrono::nanoseconds;

// A board whose stream clock the test moves by hand.
struct ClockedBoard {
  std::shared_ptr<nanoseconds> now = std::make_shared<nanoseconds>(0);
  BoardClient board;

  explicit ClockedBoard(std::uint64_t ring_samples, std::uint32_t cells = 4)
      : board(config(ring_samples, cells, now)) {
    program_reference_system(board);
  }
  static ResonatorConfig config(std::uint64_t ring, std::uint32_t cells,
                                std::shared_ptr<nanoseconds> now) {
    ResonatorConfig c;
    c.cells = cells;
    c.ring_samples = ring;
    c.clock = [now] { return *now; };
    return c;
  }
  void advance(microseconds us) { *now += us; }
};

firmware_protocol::wire::StartStream stream_request(std::uint32_t decimation = 1) {
  firmware_protocol::wire::StartStream s;
  s.set_decimation(decimation);
  return s;
}

TEST(SampleRing, CountsEveryOverwrittenSampleAndEachEpisodeOnce) {
  SampleRing ring(2, 4);
  for (std::int16_t k = 0; k < 10; ++k) {
    const std::int16_t sample[2] = {k, static_cast<std::int16_t>(-k)};
    ring.push(sample, k == 9);
  }
  EXPECT_EQ(ring.produced(), 10u);
  EXPECT_EQ(ring.lost(), 6u);
  EXPECT_EQ(ring.overruns(), 1u);
  const auto chunk = ring.pop(3);
  EXPECT_EQ(chunk.first_sequence, 6u);
  EXPECT_EQ(chunk.codes, (std::vector<std::int16_t>{6, -6, 7, -7, 8, -8}));
  EXPECT_EQ(chunk.clipped, 0u);
  const auto rest = ring.pop(100);
  EXPECT_EQ(rest.count, 1u);
  EXPECT_EQ(rest.clipped, 1u);
  EXPECT_EQ(chunk.count + rest.count + ring.lost() + ring.unsent(), ring.produced());
  // A new overflow after a read is a second episode.
  for (std::int16_t k = 0; k < 5; ++k) {
    const std::int16_t sample[2] = {k, k};
    ring.push(sample, false);
  }
  EXPECT_EQ(ring.overruns(), 2u);
  EXPECT_EQ(ring.lost(), 7u);
}

// v5 timed start: acquisition begins at the requested tick of the board's clock; a tick the
// clock has passed is LATE_COMMAND, and nothing starts.
TEST(Stream, TimedStartBeginsAtItsTickAndRefusesAPassedOne) {
  ClockedBoard b(4096);
  ASSERT_TRUE(b.board.start_stream(stream_request()).has_stream_started());
  b.advance(microseconds(50));
  ASSERT_EQ(b.board.read_stream().stream_data().sample_count(), 50u);
  ASSERT_TRUE(b.board.stop_stream().has_ack());
  const std::uint64_t now_tick = 50 * 100;  // 50 samples of 100 ticks

  auto late = stream_request();
  late.set_start_tick(now_tick - 100);
  const Envelope refused = b.board.start_stream(late);
  EXPECT_TRUE(IsError(refused, ErrorCode::ERROR_CODE_LATE_COMMAND));
  EXPECT_NE(refused.error().message().find("late"), std::string::npos);
  auto odd = stream_request();
  odd.set_start_tick(now_tick + 150);
  EXPECT_TRUE(IsError(b.board.start_stream(odd), ErrorCode::ERROR_CODE_INVALID_ARGUMENT));
  auto far = stream_request();
  far.set_start_tick(now_tick + 6'000'000'100ULL);
  EXPECT_TRUE(IsError(b.board.start_stream(far), ErrorCode::ERROR_CODE_INVALID_ARGUMENT));

  auto timed = stream_request();
  timed.set_start_tick(now_tick + 1000);  // 10 us ahead
  const Envelope started = b.board.start_stream(timed);
  ASSERT_TRUE(started.has_stream_started()) << started.DebugString();
  EXPECT_EQ(started.stream_started().first_tick(), now_tick + 1100);
  b.advance(microseconds(9));
  EXPECT_EQ(b.board.read_stream().stream_data().sample_count(), 0u);
  b.advance(microseconds(6));  // 5 us past the start
  const Envelope data = b.board.read_stream();
  EXPECT_EQ(data.stream_data().sample_count(), 5u);
  EXPECT_EQ(data.stream_data().first_sequence(), 0u);
  EXPECT_EQ(data.stream_data().first_tick(), now_tick + 1100);
}

TEST(Stream, ReadBeforeAnyStreamIsRefused) {
  ClockedBoard b(4096);
  EXPECT_TRUE(IsError(b.board.read_stream(), ErrorCode::ERROR_CODE_NO_STREAM));
}

// The stream produces one sample per microsecond of device time, and they are the very codes a
// run over the same ticks records (the noise is keyed by the global sample index).
TEST(Stream, DeliversTheSamplesDueByTheClockBitForBitLikeARun) {
  ClockedBoard b(4096);
  const Envelope started = b.board.start_stream(stream_request());
  ASSERT_TRUE(started.has_stream_started()) << started.DebugString();
  EXPECT_EQ(started.stream_started().first_tick(), 100u);
  EXPECT_EQ(started.stream_started().ring_capacity_samples(), 4096u);
  b.advance(microseconds(1000));
  const Envelope reply = b.board.read_stream();
  ASSERT_TRUE(reply.has_stream_data()) << reply.DebugString();
  const auto& data = reply.stream_data();
  EXPECT_EQ(data.sample_count(), 1000u);
  EXPECT_EQ(data.first_sequence(), 0u);
  EXPECT_EQ(data.first_tick(), 100u);
  EXPECT_EQ(data.produced(), 1000u);
  EXPECT_EQ(data.lost_samples(), 0u);
  EXPECT_TRUE(data.running());

  BoardClient twin([] {
    ResonatorConfig c;
    c.cells = 4;
    return c;
  }());
  program_reference_system(twin);
  const auto run = twin.run(1000, false, false, true);
  EXPECT_EQ(data.samples_le16(), run.samples_le16());
}

// The host sleeps through 10 ms with a ring of 4096 samples: exactly the samples beyond the
// ring's capacity are lost, counted, and the next read resumes at the oldest survivor.
TEST(Stream, SlowHostLosesExactlyTheOverwrittenSamplesAndTheyAreCounted) {
  ClockedBoard b(4096);
  ASSERT_TRUE(b.board.start_stream(stream_request()).has_stream_started());
  b.advance(microseconds(1000));
  std::uint64_t delivered = b.board.read_stream().stream_data().sample_count();
  ASSERT_EQ(delivered, 1000u);

  b.advance(microseconds(10000));
  const auto data = b.board.read_stream(100000).stream_data();
  EXPECT_EQ(data.produced(), 11000u);
  EXPECT_EQ(data.lost_samples(), 11000u - 1000u - 4096u);
  EXPECT_EQ(data.overruns(), 1u);
  EXPECT_EQ(data.first_sequence(), 1000u + data.lost_samples());
  EXPECT_EQ(data.first_tick(), (data.first_sequence() + 1) * 100);
  delivered += data.sample_count();
  EXPECT_EQ(delivered + data.lost_samples() + data.buffered(), data.produced());

  // Reads that keep up lose nothing more.
  for (int k = 0; k < 5; ++k) {
    b.advance(microseconds(3000));
    const auto more = b.board.read_stream().stream_data();
    delivered += more.sample_count();
    EXPECT_EQ(more.lost_samples(), data.lost_samples());
    EXPECT_EQ(delivered + more.lost_samples() + more.buffered(), more.produced());
  }
}

// A resumable read whose reply the host lost is simply asked again: the board kept the samples
// it sent until a later read acknowledged them, and sends the same codes with the same counters.
TEST(Stream, ResumableReadSendsALostReplysSamplesAgain) {
  ClockedBoard b(4096);
  ASSERT_TRUE(b.board.start_stream(stream_request()).has_stream_started());
  b.advance(microseconds(1000));
  const auto lost_reply = b.board.read_stream_from(0, 300).stream_data();
  ASSERT_EQ(lost_reply.first_sequence(), 0u);
  ASSERT_EQ(lost_reply.sample_count(), 300u);
  EXPECT_EQ(lost_reply.buffered(), 700u);

  const auto again = b.board.read_stream_from(0, 300).stream_data();
  EXPECT_EQ(again.first_sequence(), 0u);
  EXPECT_EQ(again.samples_le16(), lost_reply.samples_le16());
  EXPECT_EQ(again.lost_samples(), 0u);
  EXPECT_EQ(again.buffered(), 700u);

  // Reading on acknowledges the first 300 and continues after them.
  const auto next = b.board.read_stream_from(300, 100000).stream_data();
  EXPECT_EQ(next.first_sequence(), 300u);
  EXPECT_EQ(next.sample_count(), 700u);
  EXPECT_EQ(next.buffered(), 0u);
  EXPECT_EQ(next.produced(), 1000u);
}

// Sent-but-unacknowledged samples hold ring space; when the ring must overwrite them they are
// gone, but they were sent once, so the board does not count them lost: the reply starts later
// and the gap is the host's to count. Unsent overwritten samples are counted as always.
TEST(Stream, ResumableReadCountsOnlyUnsentOverwrittenSamplesAsLost) {
  ClockedBoard b(1000);
  ASSERT_TRUE(b.board.start_stream(stream_request()).has_stream_started());
  b.advance(microseconds(1000));
  ASSERT_EQ(b.board.read_stream_from(0, 600).stream_data().sample_count(), 600u);
  b.advance(microseconds(1500));
  const auto data = b.board.read_stream_from(0, 100000).stream_data();
  // Held before: [0, 1000) with 600 sent. 1,500 pushes overwrite [0, 1500): 600 sent (evicted,
  // not lost) and 900 unsent (lost).
  EXPECT_EQ(data.produced(), 2500u);
  EXPECT_EQ(data.lost_samples(), 900u);
  EXPECT_EQ(data.overruns(), 1u);
  EXPECT_EQ(data.first_sequence(), 1500u);
  EXPECT_EQ(data.sample_count(), 1000u);
  EXPECT_EQ(data.buffered(), 0u);
}

TEST(Stream, ResumableReadRefusesASequenceNeverSent) {
  ClockedBoard b(4096);
  ASSERT_TRUE(b.board.start_stream(stream_request()).has_stream_started());
  b.advance(microseconds(1000));
  ASSERT_EQ(b.board.read_stream_from(0, 100).stream_data().sample_count(), 100u);
  const Envelope reply = b.board.read_stream_from(101);
  ASSERT_TRUE(IsError(reply, ErrorCode::ERROR_CODE_INVALID_ARGUMENT)) << reply.DebugString();
  EXPECT_NE(reply.error().message().find("only samples before 100"), std::string::npos)
      << reply.error().message();
  // The refusal changed nothing.
  EXPECT_EQ(b.board.read_stream_from(100, 10).stream_data().first_sequence(), 100u);
}

TEST(Stream, DecimatedStreamTakesOneSamplePerBlock) {
  ClockedBoard b(4096);
  const Envelope started = b.board.start_stream(stream_request(10));
  ASSERT_TRUE(started.has_stream_started());
  EXPECT_EQ(started.stream_started().ticks_per_output_sample(), 1000u);
  b.advance(microseconds(1000));
  const auto data = b.board.read_stream().stream_data();
  EXPECT_EQ(data.sample_count(), 100u);
  EXPECT_EQ(data.first_tick(), 1000u);
}

TEST(Stream, RunsAndSecondStreamsAreRefusedWhileStreamingAndTheRingOutlivesStop) {
  ClockedBoard b(4096);
  ASSERT_TRUE(b.board.start_stream(stream_request()).has_stream_started());
  b.advance(microseconds(500));
  EXPECT_TRUE(IsError(b.board.start_stream(stream_request()), ErrorCode::ERROR_CODE_BUSY));
  EXPECT_TRUE(IsError(b.board.start_run(100, false, false, false), ErrorCode::ERROR_CODE_BUSY));
  // Registers may change while streaming.
  EXPECT_TRUE(b.board.set_noise(100).has_ack());
  ASSERT_TRUE(b.board.stop_stream().has_ack());
  b.advance(microseconds(5000));  // nothing more is produced after the stop
  const auto data = b.board.read_stream().stream_data();
  EXPECT_FALSE(data.running());
  EXPECT_EQ(data.produced(), 500u);
  EXPECT_EQ(data.sample_count(), 500u);
  EXPECT_EQ(b.board.read_stream().stream_data().sample_count(), 0u);
  // After the stream, runs continue the device clock where the stream left it.
  const Envelope run = b.board.start_run(100, false, false, false);
  ASSERT_TRUE(run.has_run_started()) << run.DebugString();
  EXPECT_EQ(run.run_started().first_tick(), 501u * 100);
}

TEST(Stream, ReadIsLimitedToOneFrame) {
  ClockedBoard b(200000, 8);
  ASSERT_TRUE(b.board.start_stream(stream_request()).has_stream_started());
  b.advance(microseconds(100000));
  const auto data = b.board.read_stream().stream_data();
  EXPECT_EQ(data.sample_count(), ((1u << 20) - 4096) / 16);
  EXPECT_EQ(data.buffered(), 100000u - data.sample_count());
}

}  // namespace
}  // namespace kelvin::sim_backend::testing
