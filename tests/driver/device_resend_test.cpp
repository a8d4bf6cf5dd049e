// Device::request() on a faulty link: a lost reply is asked for again under the same request id
// within the caller's total deadline, a damaged one at once, duplicates and late replies are
// discarded and counted, and an Error with request id 0 is a refusal whose reason reaches the
// caller. The boards here are scripted (fake_board.hpp), so each fault strikes exactly where the
// test puts it.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "driver_test_names.hpp"
#include "fake_board.hpp"
#include "kelvin/driver/device.hpp"

namespace kelvin::driver {
namespace {

using testing::fake_board;
namespace wire = firmware_protocol::wire;
using Bytes = std::vector<std::uint8_t>;

// What the scripted board saw and what it does to its k-th answer (hello is answer 1).
struct Script {
  std::mutex mutex;
  std::vector<std::uint64_t> request_ids;  // of every request frame, in order
  int answers = 0;
  // Called with the answer's number and its bytes; returns what leaves the board.
  std::function<Bytes(int, Bytes)> link = [](int, Bytes b) { return b; };
};

std::unique_ptr<Device> open_scripted(std::shared_ptr<Script> script,
                                      testing::Responder respond = nullptr,
                                      const OpenOptions& options = {}) {
  if (!respond) {
    respond = [](const wire::Envelope&) {
      wire::Envelope ack;
      ack.mutable_ack();
      return ack;
    };
  }
  auto board = fake_board(std::move(respond));
  auto decoder = std::make_shared<firmware_protocol::FrameDecoder>();
  BoardHandler handler = [board, decoder, script](std::span<const std::uint8_t> in) {
    decoder->feed(in);
    std::lock_guard lock(script->mutex);
    while (auto frame = decoder->next()) {
      if (!frame->error)
        script->request_ids.push_back(
            firmware_protocol::parse_envelope(frame->payload).request_id());
    }
    Bytes out = board(in);
    if (out.empty())
      return out;
    return script->link(++script->answers, std::move(out));
  };
  return std::make_unique<Device>(std::make_unique<InProcessTransport>(handler, "scripted"),
                                  DeviceAddress::parse("fake:scripted"), options);
}

wire::Envelope noise_request() {
  wire::Envelope env;
  env.mutable_set_noise()->set_code(5);
  return env;
}

TEST(DeviceResend, ALostReplyIsAskedForAgainUnderTheSameRequestId) {
  auto script = std::make_shared<Script>();
  script->link = [](int answer, Bytes b) { return answer == 2 ? Bytes{} : b; };
  auto device = open_scripted(script);
  EXPECT_TRUE(device->request(noise_request(), Deadline::after(5s)).has_ack());
  {
    std::lock_guard lock(script->mutex);
    EXPECT_EQ(script->request_ids, (std::vector<std::uint64_t>{1, 2, 2}));
  }
  const LinkStats s = device->stats();
  EXPECT_EQ(s.requests, 2u);  // hello and set_noise: a resend is not a new request
  EXPECT_EQ(s.retries, 1u);
  EXPECT_EQ(s.lost_replies, 1u);
  EXPECT_GT(s.round_trip_us, 0.0);
}

TEST(DeviceResend, ADamagedReplyIsAskedForAgainAtOnce) {
  auto script = std::make_shared<Script>();
  script->link = [](int answer, Bytes b) {
    if (answer == 2)
      b[b.size() / 2] ^= 0x10;  // a payload bit: the CRC catches it
    return b;
  };
  // Reply waits of 3 s: had the damaged reply been waited out rather than asked for again at
  // once, the request would take at least that; the bound leaves a loaded machine 2 s.
  OpenOptions options;
  options.min_reply_timeout = options.reply_timeout = 3s;
  auto device = open_scripted(script, nullptr, options);
  const auto begin = Clock::now();
  EXPECT_TRUE(device->request(noise_request(), Deadline::after(10s)).has_ack());
  EXPECT_LT(Clock::now() - begin, 2s);
  const LinkStats s = device->stats();
  EXPECT_EQ(s.bad_frames, 1u);
  EXPECT_EQ(s.retries, 1u);
  EXPECT_EQ(s.lost_replies, 0u);
}

TEST(DeviceResend, ADuplicateReplyIsDiscardedAndCountedAtTheNextRequest) {
  auto script = std::make_shared<Script>();
  script->link = [](int answer, Bytes b) {
    if (answer == 2) {
      const Bytes copy = b;
      b.insert(b.end(), copy.begin(), copy.end());
    }
    return b;
  };
  auto device = open_scripted(script);
  EXPECT_TRUE(device->request(noise_request(), Deadline::after(5s)).has_ack());
  EXPECT_TRUE(device->request(noise_request(), Deadline::after(5s)).has_ack());
  const LinkStats s = device->stats();
  EXPECT_EQ(s.stale_replies, 1u);
  EXPECT_EQ(s.retries, 0u);
}

// The board holds its answer to set_noise back and sends it after the next one (its answer to
// the resend): the first reply to arrive answers the request, the held one is stale.
TEST(DeviceResend, AReorderedReplyIsAnsweredByTheResendAndTheLateOneIsDiscarded) {
  auto script = std::make_shared<Script>();
  auto held = std::make_shared<Bytes>();
  script->link = [held](int answer, Bytes b) {
    if (answer == 2) {
      *held = std::move(b);
      return Bytes{};
    }
    if (answer == 3)
      b.insert(b.end(), held->begin(), held->end());
    return b;
  };
  auto device = open_scripted(script);
  EXPECT_TRUE(device->request(noise_request(), Deadline::after(5s)).has_ack());
  EXPECT_TRUE(device->request(noise_request(), Deadline::after(5s)).has_ack());
  const LinkStats s = device->stats();
  EXPECT_EQ(s.retries, 1u);
  EXPECT_EQ(s.stale_replies, 1u);
}

TEST(DeviceResend, ASilentBoardIsAskedAgainWithGrowingWaitsUntilTheTotalDeadline) {
  auto script = std::make_shared<Script>();
  script->link = [](int answer, Bytes b) { return answer == 1 ? b : Bytes{}; };
  // Waits of 100, 200, 400, 800, 1600 ms: attempts go out at 0, 0.1, 0.3, 0.7 and 1.5 s (at the
  // earliest), and a deadline that bounded only each attempt would end with the fifth attempt's
  // wait at 3.1 s. The total deadline ends the request at 1.6 s; the bound leaves a loaded
  // machine a second.
  OpenOptions options;
  options.min_reply_timeout = options.reply_timeout = 100ms;
  auto device = open_scripted(script, nullptr, options);
  const auto begin = Clock::now();
  const std::string message =
      message_of([&] { device->request(noise_request(), Deadline::after(1600ms)); });
  const auto took = Clock::now() - begin;
  EXPECT_GE(took, 1600ms);
  EXPECT_LT(took, 2600ms) << "the deadline is total";
  EXPECT_NE(message.find("no intact reply"), std::string::npos) << message;
  const LinkStats s = device->stats();
  EXPECT_GE(s.retries, 2u);
  EXPECT_LE(s.retries, 5u);
  EXPECT_EQ(kind_of([&] { device->request(noise_request(), Deadline::after(100ms)); }),
            ErrorKind::kTimeout);
}

TEST(DeviceResend, ABoardThatGarblesEveryReplyFailsAsBadFrameWithoutFloodingTheLink) {
  auto script = std::make_shared<Script>();
  script->link = [](int answer, Bytes b) {
    return answer == 1 ? b : Bytes{'n', 'o', 'i', 's', 'e', '!', '!', '!', '!', '!', '!', '!'};
  };
  auto device = open_scripted(script);
  EXPECT_EQ(kind_of([&] { device->request(noise_request(), Deadline::after(400ms)); }),
            ErrorKind::kBadFrame);
  const LinkStats s = device->stats();
  EXPECT_GE(s.bad_frames, 2u);
  // Only the first damaged reply in a row is asked again at once; then the waits apply.
  EXPECT_LE(s.retries, 10u);
}

TEST(DeviceResend, AnErrorWithRequestIdZeroIsARefusalThatNamesThePeersReason) {
  auto script = std::make_shared<Script>();
  auto device = open_scripted(script, [](const wire::Envelope&) {
    wire::Envelope reply;
    reply.set_request_id(0);
    reply.mutable_error()->set_code(wire::ERROR_CODE_MALFORMED_FRAME);
    reply.mutable_error()->set_message("a payload of 70000 bytes is over the limit 65536");
    return reply;
  });
  // fake_board fills in the request's id when a reply has none: make it 0 again on the way out.
  script->link = [](int answer, Bytes b) {
    if (answer == 1)
      return b;
    auto reply = firmware_protocol::parse_envelope(firmware_protocol::decode_frame(b));
    reply.set_request_id(0);
    return firmware_protocol::encode_envelope(reply);
  };
  try {
    device->request(noise_request(), Deadline::after(5s));
    FAIL() << "a refusal was not reported";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kDevice);
    EXPECT_EQ(e.device_code(), wire::ERROR_CODE_MALFORMED_FRAME);
    const std::string what = e.what();
    EXPECT_NE(what.find("scripted refused the frame of request 2"), std::string::npos) << what;
    EXPECT_NE(what.find("70000 bytes is over the limit 65536"), std::string::npos) << what;
  }
  EXPECT_EQ(device->stats().refusals, 1u);
  EXPECT_EQ(device->stats().retries, 0u);
}

TEST(DeviceResend, WithoutResendALostReplyIsATimeoutAfterOneAttempt) {
  auto script = std::make_shared<Script>();
  script->link = [](int answer, Bytes b) { return answer == 2 ? Bytes{} : b; };
  auto device = open_scripted(script);
  EXPECT_EQ(kind_of([&] {
              device->request(noise_request(), Deadline::after(300ms),
                              RequestOptions{.resend = false});
            }),
            ErrorKind::kTimeout);
  std::lock_guard lock(script->mutex);
  EXPECT_EQ(script->request_ids, (std::vector<std::uint64_t>{1, 2}));
  EXPECT_EQ(device->stats().retries, 0u);
}

TEST(DeviceResend, AServiceTimeLengthensTheWaitBeforeAResend) {
  auto script = std::make_shared<Script>();
  auto device = open_scripted(script, [](const wire::Envelope&) {
    std::this_thread::sleep_for(150ms);  // a board finishing a run before it can answer
    wire::Envelope ack;
    ack.mutable_ack();
    return ack;
  });
  EXPECT_TRUE(
      device->request(noise_request(), Deadline::after(5s), RequestOptions{.service_time = 200ms})
          .has_ack());
  EXPECT_EQ(device->stats().retries, 0u);
}

}  // namespace
}  // namespace kelvin::driver
