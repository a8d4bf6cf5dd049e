#include "kelvin/driver/device.hpp"

#include <chrono>
#include <future>

#include <gtest/gtest.h>

#include "driver_test_names.hpp"
#include "fake_board.hpp"

namespace kelvin::driver {
namespace {

using testing::fake_board;
using testing::Responder;

std::unique_ptr<Device> open_fake(Responder respond, OpenOptions options = {}) {
  auto transport = std::make_unique<InProcessTransport>(fake_board(std::move(respond)), "fake");
  return std::make_unique<Device>(std::move(transport), DeviceAddress::parse("fake:board"),
                                  options);
}

Responder ack_everything() {
  return [](const firmware_protocol::wire::Envelope&) {
    firmware_protocol::wire::Envelope reply;
    reply.mutable_ack();
    return reply;
  };
}

firmware_protocol::wire::Envelope noise_request() {
  firmware_protocol::wire::Envelope env;
  env.mutable_set_noise()->set_code(5);
  return env;
}

TEST(Device, HelloFillsTheDescriptionFromDeviceInfo) {
  auto device = open_fake(ack_everything());
  const auto& d = device->description();
  EXPECT_EQ(d.family, BoardFamily::kResonator);
  EXPECT_EQ(d.serial, "FAKE-1");
  EXPECT_EQ(d.cells, 4u);
  EXPECT_EQ(d.adc.unit, "V");
  EXPECT_DOUBLE_EQ(d.sample_rate_hz(), 1e6);
  EXPECT_EQ(device->stats().requests, 1u);
}

TEST(Device, BoardErrorBecomesDeviceErrorWithItsCode) {
  auto device = open_fake([](const firmware_protocol::wire::Envelope&) {
    firmware_protocol::wire::Envelope reply;
    reply.mutable_error()->set_code(firmware_protocol::wire::ERROR_CODE_OUT_OF_RANGE);
    reply.mutable_error()->set_message("code 99999 too large");
    return reply;
  });
  try {
    device->request(noise_request(), Deadline::after(1s));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kDevice);
    EXPECT_EQ(e.device_code(), firmware_protocol::wire::ERROR_CODE_OUT_OF_RANGE);
    EXPECT_NE(std::string(e.what()).find("code 99999 too large"), std::string::npos);
  }
}

TEST(Device, ReplyWithAnotherRequestIdIsAProtocolError) {
  auto device = open_fake([](const firmware_protocol::wire::Envelope& request) {
    firmware_protocol::wire::Envelope reply;
    reply.set_request_id(request.request_id() + 100);
    reply.mutable_ack();
    return reply;
  });
  EXPECT_EQ(kind_of([&] { device->request(noise_request(), Deadline::after(1s)); }),
            ErrorKind::kProtocol);
}

TEST(Device, GarbageFromTheBoardIsABadFrame) {
  auto transport = std::make_unique<InProcessTransport>(
      [inner = fake_board(ack_everything()), calls = 0](std::span<const std::uint8_t> in) mutable {
        auto out = inner(in);
        // After hello, answer with bytes that are not a frame.
        if (++calls > 1)
          out = {'n', 'o', 'i', 's', 'e', '!', '!', '!', '!', '!', '!', '!'};
        return out;
      },
      "noisy");
  Device device(std::move(transport), DeviceAddress::parse("fake:noisy"));
  // Each damaged reply is asked for again (device_resend_test.cpp); only damaged ones came by
  // the deadline, so that is what fails the request.
  EXPECT_EQ(kind_of([&] { device.request(noise_request(), Deadline::after(300ms)); }),
            ErrorKind::kBadFrame);
  EXPECT_GE(device.stats().bad_frames, 1u);
}

TEST(Device, SilentBoardTimesOutWithinTheDeadline) {
  auto device = open_fake([](const firmware_protocol::wire::Envelope&) { return std::nullopt; });
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(kind_of([&] { device->request(noise_request(), Deadline::after(150ms)); }),
            ErrorKind::kTimeout);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
}

TEST(Device, SilentBoardFailsTheHelloWithinTheOpenTimeout) {
  auto transport = std::make_unique<InProcessTransport>(
      [](std::span<const std::uint8_t>) { return std::vector<std::uint8_t>{}; }, "mute");
  OpenOptions options;
  options.open_timeout = 100ms;
  EXPECT_EQ(
      kind_of([&] { Device(std::move(transport), DeviceAddress::parse("fake:mute"), options); }),
      ErrorKind::kTimeout);
}

TEST(Device, CloseWakesABlockedRequestAndFailsLaterOnes) {
  auto device = open_fake([](const firmware_protocol::wire::Envelope&) { return std::nullopt; });
  auto pending = std::async(std::launch::async, [&] {
    return kind_of([&] { device->request(noise_request(), Deadline::never()); });
  });
  std::this_thread::sleep_for(50ms);
  device->close();
  ASSERT_EQ(pending.wait_for(2s), std::future_status::ready);
  EXPECT_EQ(pending.get(), ErrorKind::kDisconnected);
  EXPECT_EQ(kind_of([&] { device->request(noise_request(), Deadline::after(1s)); }),
            ErrorKind::kDisconnected);
}

TEST(Device, ASecondCallerWaitingForTheDeviceKeepsItsOwnDeadline) {
  auto device = open_fake([](const firmware_protocol::wire::Envelope&) { return std::nullopt; });
  auto first = std::async(std::launch::async, [&] {
    return kind_of([&] { device->request(noise_request(), Deadline::after(2s)); });
  });
  std::this_thread::sleep_for(50ms);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(kind_of([&] { device->request(noise_request(), Deadline::after(100ms)); }),
            ErrorKind::kTimeout);
  // Waiting for the first caller instead would take about 1.95 s; the bound leaves a loaded
  // machine 0.9 s to wake this one after its own deadline.
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  EXPECT_EQ(first.get(), ErrorKind::kTimeout);
}

TEST(Device, ALateReplyAfterATimeoutDoesNotBreakTheNextRequest) {
  // The board answers the first set_noise only after the host gave up on it.
  auto delay_first = std::make_shared<bool>(true);
  auto device = open_fake([delay_first](const firmware_protocol::wire::Envelope&) {
    if (*delay_first) {
      *delay_first = false;
      std::this_thread::sleep_for(300ms);
    }
    firmware_protocol::wire::Envelope reply;
    reply.mutable_ack();
    return reply;
  });
  // One attempt, so that exactly one late reply is left on the link.
  EXPECT_EQ(kind_of([&] {
              device->request(noise_request(), Deadline::after(100ms),
                              RequestOptions{.resend = false});
            }),
            ErrorKind::kTimeout);
  const auto reply = device->request(noise_request(), Deadline::after(2s));
  EXPECT_TRUE(reply.has_ack());
  EXPECT_EQ(device->stats().stale_replies, 1u);
}

}  // namespace
}  // namespace kelvin::driver

namespace kelvin::driver {
namespace {

TEST(DeviceDescription, NamesCapabilityBitsIncludingUnknownOnes) {
  EXPECT_EQ(capability_names(0), std::vector<std::string>{});
  EXPECT_EQ(capability_names(capability::kSecondMoments | capability::kStateReset),
            (std::vector<std::string>{"second_moments", "state_reset"}));
  EXPECT_EQ(capability_names(std::uint64_t{1} << 40), std::vector<std::string>{"bit_40"});
}

}  // namespace
}  // namespace kelvin::driver
