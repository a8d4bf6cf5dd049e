// Ping (Ping/Pong, since protocol v5): the payload comes back unchanged with the round trip, and a
// ping whose reply is held back times out by its deadline without spoiling the next one.
#include "kelvin/driver/ping.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "driver_test_names.hpp"
#include "kelvin/driver/backends/backends.hpp"

namespace kelvin::driver {
namespace {

TEST(Ping, EchoesThePayloadAndReportsTheRoundTrip) {
  auto device = backends::open("sim:resonator?cells=4");
  const PingReply reply = ping(*device, 4096, Deadline::after(2s));
  EXPECT_GT(reply.round_trip.count(), 0);
  EXPECT_EQ(kind_of([&] { (void)ping(*device, kMaxPingPayload + 1, Deadline::after(1s)); }),
            ErrorKind::kInvalidArgument);
}

TEST(Ping, ALostReplyTimesOutAndTheNextPingStillWorks) {
  // The stall outlasts the ping's deadline by far, so that a ping that ignored its deadline (and
  // waited for the held reply, about 1.9 s) fails the bound even with a loaded machine's margin.
  auto device = backends::open("sim:resonator?cells=4&fault=stall:2s@100ms");
  std::this_thread::sleep_for(120ms);
  const auto begin = Clock::now();
  EXPECT_EQ(kind_of([&] { (void)ping(*device, 8, Deadline::after(50ms)); }), ErrorKind::kTimeout);
  EXPECT_LT(Clock::now() - begin, 1s);
  std::this_thread::sleep_until(begin + 2s);  // the stall ends; the held reply becomes stale
  EXPECT_NO_THROW((void)ping(*device, 8, Deadline::after(2s)));
  EXPECT_GE(device->stats().stale_replies, 1u);
}

}  // namespace
}  // namespace kelvin::driver
