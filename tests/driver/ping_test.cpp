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
  // The stall starts 1.5 s after power-up (inside open()) and lasts 2 s: open() must finish
  // before it (a loaded machine under a sanitizer took 0.4 s), the ping goes out 1.55 s after
  // open() returned, so inside the stall, and the stall outlasts the ping's deadline by far, so
  // that a ping that ignored its deadline (and waited for the held reply) fails the bound.
  const auto before_open = Clock::now();
  auto device = backends::open("sim:resonator?cells=4&fault=stall:2s@1500ms");
  const auto opened = Clock::now();
  ASSERT_LT(opened - before_open, 1400ms) << "open() took too long for this test's timing";
  std::this_thread::sleep_until(opened + 1550ms);
  const auto begin = Clock::now();
  EXPECT_EQ(kind_of([&] { (void)ping(*device, 8, Deadline::after(50ms)); }), ErrorKind::kTimeout);
  EXPECT_LT(Clock::now() - begin, 1s);
  std::this_thread::sleep_until(opened + 3600ms);  // the stall ends; the held reply becomes stale
  EXPECT_NO_THROW((void)ping(*device, 8, Deadline::after(2s)));
  EXPECT_GE(device->stats().stale_replies, 1u);
}

}  // namespace
}  // namespace kelvin::driver
