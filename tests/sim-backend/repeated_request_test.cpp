// Repeated requests: a board answers a request sent again under the same id (the host asking
// after a lost, damaged or late reply) with the reply it kept, byte for byte, and does not do it
// twice; a different request under a reused id, or anything after a new Hello, is done afresh.
// Behind a faulty link, asking again until an intact reply comes gives exactly the replies of a
// clean link.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "board_client.hpp"
#include "kelvin/firmware_protocol/envelope_codec.hpp"
#include "kelvin/sim_backend/fault_injection.hpp"
#include "kelvin/sim_backend/pbit_firmware.hpp"
#include "kelvin/sim_backend/resonator_firmware.hpp"

namespace kelvin::sim_backend::testing {
namespace {

using firmware_protocol::encode_envelope;
using Bytes = std::vector<std::uint8_t>;

Envelope with_id(std::uint64_t id) {
  Envelope e;
  e.set_protocol_version(firmware_protocol::kProtocolVersion);
  e.set_request_id(id);
  return e;
}

Envelope hello(std::uint64_t id) {
  Envelope e = with_id(id);
  e.mutable_hello()->set_min_version(firmware_protocol::kProtocolVersion);
  e.mutable_hello()->set_max_version(firmware_protocol::kProtocolVersion);
  e.mutable_hello()->set_client("repeated_request_test");
  return e;
}

Envelope start_run(std::uint64_t id, std::uint64_t samples) {
  Envelope e = with_id(id);
  e.mutable_start_run()->set_duration_ticks(samples * 100);
  e.mutable_start_run()->set_record_samples(true);
  return e;
}

Envelope read_results(std::uint64_t id, std::uint64_t run_id) {
  Envelope e = with_id(id);
  e.mutable_read_results()->set_run_id(run_id);
  return e;
}

Envelope program_couplings(std::uint64_t id, std::uint32_t cells) {
  Envelope e = with_id(id);
  e.mutable_program_couplings()->set_cells(cells);
  e.mutable_program_couplings()->set_upper_codes_le16(
      le16(upper_codes(cells, [](std::uint32_t i, std::uint32_t j) -> std::int16_t {
        return i == j ? 9830 : -800;
      })));
  return e;
}

Envelope set_noise(std::uint64_t id) {
  Envelope e = with_id(id);
  e.mutable_set_noise()->set_code(3000);
  return e;
}

Envelope only_reply(const Bytes& bytes) {
  const auto replies = decode_replies(bytes);
  EXPECT_EQ(replies.size(), 1u);
  return replies.empty() ? Envelope{} : replies[0];
}

class RepeatedRequest : public ::testing::Test {
 protected:
  RepeatedRequest() {
    ResonatorConfig config;
    config.cells = 4;
    config.seed = 5;
    firmware_ = std::make_unique<ResonatorFirmware>(config);
    send(hello(1));
    EXPECT_TRUE(only_reply(send(program_couplings(2, 4))).has_ack());
    EXPECT_TRUE(only_reply(send(set_noise(3))).has_ack());
  }
  Bytes send(const Envelope& request) { return firmware_->on_bytes(encode_envelope(request)); }

  std::unique_ptr<ResonatorFirmware> firmware_;
};

TEST_F(RepeatedRequest, AStartRunSentAgainGetsTheSameReplyAndStartsNoSecondRun) {
  const Envelope start = start_run(4, 500);
  const Bytes first = send(start);
  const Bytes again = send(start);
  EXPECT_EQ(again, first);
  EXPECT_EQ(firmware_->replies_resent(), 1u);
  const std::uint64_t run = only_reply(first).run_started().run_id();
  // The next run is the second one the board started, not the third.
  EXPECT_EQ(only_reply(send(start_run(5, 500))).run_started().run_id(), run + 1);
}

TEST_F(RepeatedRequest, AReadResultsSentAgainGetsTheSameResultsThoughTheRunWasReleased) {
  const std::uint64_t run = only_reply(send(start_run(4, 500))).run_started().run_id();
  const Envelope read = read_results(5, run);
  const Bytes first = send(read);
  ASSERT_TRUE(only_reply(first).has_run_results());
  EXPECT_EQ(send(read), first);
  // Asked anew (another id), the run is gone: it was read once.
  EXPECT_EQ(only_reply(send(read_results(6, run))).error().code(),
            firmware_protocol::wire::ERROR_CODE_UNKNOWN_RUN);
}

TEST_F(RepeatedRequest, ARefusalSentAgainIsTheSameRefusal) {
  const Envelope read = read_results(4, 999);
  const Bytes first = send(read);
  EXPECT_EQ(only_reply(first).error().code(), firmware_protocol::wire::ERROR_CODE_UNKNOWN_RUN);
  EXPECT_EQ(send(read), first);
  EXPECT_EQ(firmware_->replies_resent(), 1u);
}

TEST_F(RepeatedRequest, AnotherRequestUnderAReusedIdIsDone) {
  const std::uint64_t run = only_reply(send(start_run(4, 500))).run_started().run_id();
  // Same id, other bytes: not a repeat.
  EXPECT_EQ(only_reply(send(start_run(4, 700))).run_started().run_id(), run + 1);
  EXPECT_EQ(firmware_->replies_resent(), 0u);
}

TEST_F(RepeatedRequest, HelloStartsASessionWhoseRequestsAreDoneAfresh) {
  const Envelope start = start_run(4, 500);
  const std::uint64_t run = only_reply(send(start)).run_started().run_id();
  send(hello(1));  // a new session numbers its requests from the start again
  EXPECT_EQ(only_reply(send(start)).run_started().run_id(), run + 1);
  EXPECT_EQ(firmware_->replies_resent(), 0u);
}

TEST(RepeatedPbitRequest, AStartSamplingSentAgainStartsNoSecondRun) {
  PbitConfig config;
  config.rows = 4;
  config.cols = 4;
  config.degree = 8;
  PbitFirmware firmware(config);
  (void)firmware.on_bytes(encode_envelope(hello(1)));
  Envelope start = with_id(2);
  start.mutable_start_sampling()->set_sweeps(10);
  start.mutable_start_sampling()->set_chains(1);
  start.mutable_start_sampling()->set_sample_every(1);
  const Bytes first = firmware.on_bytes(encode_envelope(start));
  EXPECT_EQ(firmware.on_bytes(encode_envelope(start)), first);
  EXPECT_EQ(firmware.replies_resent(), 1u);
  Envelope next = start;
  next.set_request_id(3);
  EXPECT_EQ(only_reply(firmware.on_bytes(encode_envelope(next))).run_started().run_id(),
            only_reply(first).run_started().run_id() + 1);
}

// The host's side of a faulty link at its simplest: send a request, and again while no intact
// reply with its id has come (late or duplicate replies to earlier requests are skipped).
class PatientHost {
 public:
  explicit PatientHost(FirmwareEndpoint& board) : board_(board) {}
  Bytes exchange(const Envelope& request) {
    const Bytes frame = encode_envelope(request);
    for (int attempt = 0; attempt < 200; ++attempt) {
      decoder_.feed(board_.on_bytes(frame));
      while (auto decoded = decoder_.next()) {
        if (decoded->error)
          continue;
        const Envelope reply = firmware_protocol::parse_envelope(decoded->payload);
        if (reply.request_id() == request.request_id())
          return decoded->payload;
      }
      ++resends_;
    }
    ADD_FAILURE() << "no intact reply to request " << request.request_id();
    return {};
  }
  int resends() const { return resends_; }

 private:
  FirmwareEndpoint& board_;
  firmware_protocol::FrameDecoder decoder_;
  int resends_ = 0;
};

// The payloads of hello, program, noise and three runs with their results.
std::vector<Bytes> session(FirmwareEndpoint& board, int* resends = nullptr) {
  PatientHost host(board);
  std::vector<Bytes> replies;
  std::uint64_t id = 1;
  replies.push_back(host.exchange(hello(id++)));
  replies.push_back(host.exchange(program_couplings(id++, 4)));
  replies.push_back(host.exchange(set_noise(id++)));
  for (int run = 0; run < 3; ++run) {
    replies.push_back(host.exchange(start_run(id++, 400)));
    const auto started = firmware_protocol::parse_envelope(replies.back());
    replies.push_back(host.exchange(read_results(id++, started.run_started().run_id())));
  }
  if (resends != nullptr)
    *resends = host.resends();
  return replies;
}

TEST(RepeatedRequestBehindAFaultyLink, AskingAgainGivesTheCleanLinksRepliesByteForByte) {
  ResonatorConfig config;
  config.cells = 4;
  config.seed = 9;
  auto clean_board = make_resonator_firmware(config);
  const std::vector<Bytes> clean = session(*clean_board);
  for (const char* fault :
       {"drop:0.3", "corrupt:0.3", "duplicate:0.5", "reorder:0.5", "overflow:0.5",
        "drop:0.2,corrupt:0.2,duplicate:0.2,reorder:0.2,overflow:0.2"}) {
    FaultyLink board(make_resonator_firmware(config), parse_fault_spec(fault), 3);
    int resends = 0;
    EXPECT_EQ(session(board, &resends), clean) << fault;
    const FaultCounters n = board.counters();
    EXPECT_GT(n.dropped + n.corrupted + n.duplicated + n.reordered + n.overflows, 0u)
        << fault << ": the fault never struck";
    if (n.dropped + n.corrupted + n.reordered > 0) {
      EXPECT_GT(resends, 0) << fault;
    }
  }
}

}  // namespace
}  // namespace kelvin::sim_backend::testing
