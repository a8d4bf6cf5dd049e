// The emulated faulty link: the fault spec's grammar and what each fault does to the frames a
// board sends (decoded here as the host would).
#include "kelvin/sim_backend/fault_injection.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "board_client.hpp"
#include "kelvin/firmware_protocol/envelope_codec.hpp"
#include "kelvin/sim_backend/resonator_config.hpp"
#include "kelvin/sim_backend/resonator_firmware.hpp"
#include "kelvin/sim_backend/sample_ring.hpp"

namespace kelvin::sim_backend::testing {
namespace {

using namespace std::chrono_literals;
using firmware_protocol::wire::Envelope;

std::unique_ptr<FaultyLink> faulty_board(const std::string& spec, std::uint64_t seed = 1) {
  ResonatorConfig config;
  config.cells = 4;
  return std::make_unique<FaultyLink>(make_resonator_firmware(config), parse_fault_spec(spec),
                                      seed);
}

// The bytes of `count` ping requests with ids 1..count.
std::vector<std::uint8_t> pings(int count) {
  std::vector<std::uint8_t> bytes;
  for (int k = 1; k <= count; ++k) {
    Envelope e;
    e.set_protocol_version(firmware_protocol::kProtocolVersion);
    e.set_request_id(static_cast<std::uint64_t>(k));
    e.mutable_ping()->set_payload("x");
    const auto frame = firmware_protocol::encode_envelope(e);
    bytes.insert(bytes.end(), frame.begin(), frame.end());
  }
  return bytes;
}

struct Decoded {
  std::vector<std::uint64_t> ids;
  int bad = 0;
};

Decoded decode(const std::vector<std::uint8_t>& bytes) {
  firmware_protocol::FrameDecoder decoder;
  decoder.feed(bytes);
  Decoded out;
  while (auto frame = decoder.next()) {
    if (frame->error) {
      ++out.bad;
      continue;
    }
    try {
      out.ids.push_back(firmware_protocol::parse_envelope(frame->payload).request_id());
    } catch (const std::exception&) {
      ++out.bad;
    }
  }
  return out;
}

TEST(FaultSpec, ParsesEveryKindWithUnits) {
  const FaultSpec s = parse_fault_spec(
      "drop:1e-3,corrupt:1e-4,duplicate:0.5,reorder:1e-4,delay:2ms,stall:200ms@3s,disconnect:5s,"
      "overflow:0.25");
  EXPECT_DOUBLE_EQ(s.drop, 1e-3);
  EXPECT_DOUBLE_EQ(s.corrupt, 1e-4);
  EXPECT_DOUBLE_EQ(s.duplicate, 0.5);
  EXPECT_DOUBLE_EQ(s.reorder, 1e-4);
  EXPECT_DOUBLE_EQ(s.overflow, 0.25);
  EXPECT_EQ(s.delay, std::chrono::duration_cast<FaultSpec::Duration>(2ms));
  EXPECT_EQ(s.stall, std::chrono::duration_cast<FaultSpec::Duration>(200ms));
  EXPECT_EQ(s.stall_at, std::chrono::duration_cast<FaultSpec::Duration>(3s));
  ASSERT_TRUE(s.disconnect_at.has_value());
  EXPECT_EQ(*s.disconnect_at, std::chrono::duration_cast<FaultSpec::Duration>(5s));
  EXPECT_FALSE(s.none());
  EXPECT_TRUE(parse_fault_spec("").none());
  EXPECT_EQ(to_string(parse_fault_spec("delay:250us")), "delay:250us");
}

TEST(FaultSpec, RefusesBadItemsByName) {
  const auto message = [](const char* text) {
    try {
      parse_fault_spec(text);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_NE(message("explode:1").find("unknown fault 'explode'"), std::string::npos);
  EXPECT_NE(message("drop:1.5").find("probability"), std::string::npos);
  EXPECT_NE(message("drop:nan").find("probability"), std::string::npos);
  EXPECT_NE(message("delay:5").find("unit"), std::string::npos);
  EXPECT_NE(message("drop").find("has no value"), std::string::npos);
}

TEST(FaultyLink, DropsEveryFrameAtProbabilityOne) {
  auto board = faulty_board("drop:1");
  EXPECT_TRUE(board->on_bytes(pings(5)).empty());
  EXPECT_EQ(board->counters().frames, 5u);
  EXPECT_EQ(board->counters().dropped, 5u);
}

TEST(FaultyLink, DropsAboutTheRequestedFraction) {
  // 2,000 frames at p = 0.1: the count is binomial with sd sqrt(2000 * 0.1 * 0.9) = 13.4;
  // 5 sd either side.
  auto board = faulty_board("drop:0.1", 7);
  const Decoded out = decode(board->on_bytes(pings(2000)));
  const auto dropped = board->counters().dropped;
  EXPECT_NEAR(static_cast<double>(dropped), 200.0, 5 * 13.4);
  EXPECT_EQ(out.ids.size() + dropped, 2000u);
}

TEST(FaultyLink, CorruptedFramesFailTheirChecksumAndSpareTheOthers) {
  auto board = faulty_board("corrupt:0.2", 3);
  const Decoded out = decode(board->on_bytes(pings(500)));
  const auto corrupted = board->counters().corrupted;
  EXPECT_GT(corrupted, 0u);
  // A damaged frame may cost its neighbour while the decoder resynchronizes, never more.
  EXPECT_GE(out.ids.size(), 500u - 2 * corrupted);
  EXPECT_GT(out.bad, 0);
  EXPECT_LE(out.ids.size(), 500u - corrupted);
}

TEST(FaultyLink, DuplicatesArriveTwiceInOrder) {
  auto board = faulty_board("duplicate:1");
  const Decoded out = decode(board->on_bytes(pings(3)));
  EXPECT_EQ(out.ids, (std::vector<std::uint64_t>{1, 1, 2, 2, 3, 3}));
}

TEST(FaultyLink, ReorderedFrameLeavesAfterTheNextOne) {
  auto board = faulty_board("reorder:1");
  // Every frame is a candidate; one is held at a time, so frames come out pairwise swapped.
  const Decoded out = decode(board->on_bytes(pings(4)));
  EXPECT_EQ(out.ids, (std::vector<std::uint64_t>{2, 1, 4, 3}));
}

TEST(FaultyLink, DelayedFramesLeaveWhenTheirTimeComes) {
  auto board = faulty_board("delay:30ms");
  const auto sent = std::chrono::steady_clock::now();
  EXPECT_TRUE(board->on_bytes(pings(1)).empty());
  const auto wake = board->next_wakeup();
  ASSERT_TRUE(wake.has_value());
  EXPECT_GE(*wake - sent, 29ms);
  std::this_thread::sleep_until(*wake);
  EXPECT_EQ(decode(board->on_idle()).ids, (std::vector<std::uint64_t>{1}));
  EXPECT_FALSE(board->next_wakeup().has_value());
}

TEST(FaultyLink, StallHoldsEverythingUntilItEnds) {
  auto board = faulty_board("stall:40ms@0s");
  EXPECT_TRUE(board->on_bytes(pings(3)).empty());
  EXPECT_TRUE(board->counters().stalled);
  const auto wake = board->next_wakeup();
  ASSERT_TRUE(wake.has_value());
  std::this_thread::sleep_until(*wake);
  EXPECT_EQ(decode(board->on_idle()).ids, (std::vector<std::uint64_t>{1, 2, 3}));
}

// The disconnect comes 300 ms after the link is made: long enough that the first ping gets
// through on a loaded machine (at 20 ms a slow start already found the link gone).
TEST(FaultyLink, DisconnectsAtItsTimeAndStaysGone) {
  auto board = faulty_board("disconnect:300ms");
  EXPECT_EQ(decode(board->on_bytes(pings(1))).ids.size(), 1u);
  const auto wake = board->next_wakeup();
  ASSERT_TRUE(wake.has_value());
  std::this_thread::sleep_until(*wake);
  EXPECT_THROW(board->on_idle(), LinkDisconnected);
  EXPECT_THROW(board->on_bytes(pings(1)), LinkDisconnected);
  EXPECT_TRUE(board->counters().disconnected);
}

TEST(SampleRing, DiscardUnreadCountsAnOverflowEpisode) {
  SampleRing ring(1, 8);
  for (std::int16_t k = 0; k < 5; ++k) {
    const std::int16_t sample[1] = {k};
    ring.push(sample, false);
  }
  const auto first = ring.pop(2);
  EXPECT_EQ(ring.discard_unread(), 3u);
  EXPECT_EQ(ring.lost(), 3u);
  EXPECT_EQ(ring.overruns(), 1u);
  EXPECT_EQ(ring.unsent(), 0u);
  EXPECT_EQ(ring.discard_unread(), 0u);
  EXPECT_EQ(ring.overruns(), 1u);
  const std::int16_t next[1] = {9};
  ring.push(next, false);
  const auto chunk = ring.pop(10);
  EXPECT_EQ(chunk.first_sequence, 5u);  // the discarded samples keep their sequence numbers
  EXPECT_EQ(ring.produced(), first.count + chunk.count + ring.lost() + ring.unsent());
}

}  // namespace
}  // namespace kelvin::sim_backend::testing
