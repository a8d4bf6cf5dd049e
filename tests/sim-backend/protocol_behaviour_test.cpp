// The firmware's protocol behaviour, seen from the host side of the wire.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "board_client.hpp"

namespace kelvin::sim_backend::testing {
namespace {

std::vector<std::int16_t> diagonal_couplings(std::uint32_t n, std::int16_t diagonal,
                                             std::int16_t off_diagonal = 0) {
  return upper_codes(
      n, [&](std::uint32_t i, std::uint32_t j) { return i == j ? diagonal : off_diagonal; });
}

void expect_format(const firmware_protocol::wire::CodeFormat& f, bool is_signed,
                   std::int64_t min_code, std::int64_t max_code, double lsb,
                   const std::string& unit) {
  EXPECT_EQ(f.bits(), 16u);
  EXPECT_EQ(f.is_signed(), is_signed);
  EXPECT_EQ(f.min_code(), min_code);
  EXPECT_EQ(f.max_code(), max_code);
  EXPECT_EQ(f.lsb(), lsb);
  EXPECT_EQ(f.offset(), 0.0);
  EXPECT_EQ(f.unit(), unit);
}

TEST(ProtocolBehaviour, HelloReturnsTheCompleteDeviceInfo) {
  BoardClient board;
  const Envelope reply = board.hello(1, 6);
  ASSERT_TRUE(reply.has_device_info()) << reply.DebugString();
  const auto& info = reply.device_info();
  EXPECT_EQ(info.family(), firmware_protocol::wire::BOARD_FAMILY_RESONATOR);
  EXPECT_EQ(info.serial(), "SIM-RES-8-1");
  EXPECT_EQ(info.firmware_version(), "kelvin-sim 0.2.0");
  EXPECT_EQ(info.protocol_version(), 6u);
  EXPECT_EQ(info.model(), "overdamped-ou");
  EXPECT_EQ(info.cell_count(), 8u);
  expect_format(info.coupling_dac(), true, -32767, 32767, std::ldexp(1.0, -14), "1/us");
  expect_format(info.bias_dac(), true, -32767, 32767, std::ldexp(1.0, -13), "V/us");
  expect_format(info.noise_dac(), false, 0, 65535, std::ldexp(1.0, -16), "V^2/us");
  expect_format(info.adc(), true, -32768, 32767, std::ldexp(1.0, -14), "V");
  EXPECT_EQ(info.tick_rate_hz(), 100e6);
  EXPECT_EQ(info.ticks_per_sample(), 100u);
  EXPECT_EQ(info.capabilities(),
            static_cast<std::uint64_t>(firmware_protocol::wire::CAPABILITY_SECOND_MOMENTS |
                                       firmware_protocol::wire::CAPABILITY_SAMPLE_RECORD |
                                       firmware_protocol::wire::CAPABILITY_STATE_RESET |
                                       firmware_protocol::wire::CAPABILITY_RLC_DYNAMICS |
                                       firmware_protocol::wire::CAPABILITY_QUARTIC |
                                       firmware_protocol::wire::CAPABILITY_DECIMATION |
                                       firmware_protocol::wire::CAPABILITY_STREAMING |
                                       firmware_protocol::wire::CAPABILITY_TIMED_START |
                                       firmware_protocol::wire::CAPABILITY_RESUMABLE_READ));
  EXPECT_EQ(info.max_frame_payload(), 1u << 20);
  EXPECT_EQ(info.max_samples_per_run(), std::uint64_t{1} << 32);
  EXPECT_EQ(info.max_record_samples(), ((1u << 20) - 4096) / 16);
  ASSERT_TRUE(info.has_resonator());
  const auto& r = info.resonator();
  EXPECT_EQ(r.coupling_kind(), firmware_protocol::wire::COUPLING_KIND_SIGNED);
  ASSERT_EQ(r.dynamics_size(), 2);
  EXPECT_EQ(r.dynamics(1), firmware_protocol::wire::DYNAMICS_RLC);
  expect_format(r.quartic_dac(), false, 0, 65535, std::ldexp(1.0, -12), "1/(V^2 us)");
  EXPECT_EQ(r.quartic_substeps(), 16u);
  EXPECT_EQ(r.max_decimation(), 65536u);
  EXPECT_EQ(r.ring_capacity_samples(), (4u << 20) / 16);
  EXPECT_EQ(r.imperfections().name(), "ideal");
  EXPECT_EQ(r.imperfections().resistance(), 0.0);
  EXPECT_EQ(r.resistance_ohm(), 1e3);
  EXPECT_EQ(r.capacitance_per_unit(), 1e-9);
}

TEST(ProtocolBehaviour, ConfiguredSerialIsReported) {
  ResonatorConfig config;
  config.cells = 3;
  config.seed = 99;
  EXPECT_EQ(config.effective_serial(), "SIM-RES-3-99");
  config.serial = "BENCH-7";
  BoardClient board(config);
  EXPECT_EQ(board.hello().device_info().serial(), "BENCH-7");
}

TEST(ProtocolBehaviour, InvalidConfigIsRejectedAtPowerUp) {
  ResonatorConfig config;
  config.cells = 0;
  EXPECT_THROW(make_resonator_firmware(config), std::invalid_argument);
  config.cells = 257;
  EXPECT_THROW(make_resonator_firmware(config), std::invalid_argument);
}

TEST(ProtocolBehaviour, HelloWithoutVersionSixIsUnsupported) {
  BoardClient board;
  const Envelope reply = board.hello(7, 8);
  ASSERT_TRUE(IsError(reply, ErrorCode::ERROR_CODE_UNSUPPORTED_VERSION));
  EXPECT_NE(reply.error().message().find("version 6"), std::string::npos)
      << reply.error().message();
}

TEST(ProtocolBehaviour, OlderHostGetsAClearError) {
  BoardClient board;
  const Envelope reply = board.hello(1, 4);
  ASSERT_TRUE(IsError(reply, ErrorCode::ERROR_CODE_UNSUPPORTED_VERSION));
  EXPECT_NE(reply.error().message().find("speaks version 6 only"), std::string::npos)
      << reply.error().message();
}

TEST(ProtocolBehaviour, PingEchoesItsPayloadWithTheBoardClock) {
  BoardClient board;
  ASSERT_EQ(board.hello().body_case(), Envelope::kDeviceInfo);
  Envelope ping = board.request();
  ping.mutable_ping()->set_payload(std::string("\x00\x01kelvin\xff", 9));
  const Envelope pong = board.exchange(ping);
  ASSERT_EQ(pong.body_case(), Envelope::kPong) << pong.DebugString();
  EXPECT_EQ(pong.pong().payload(), ping.ping().payload());
  EXPECT_EQ(pong.request_id(), ping.request_id());

  Envelope huge = board.request();
  huge.mutable_ping()->set_payload(std::string(65537, 'x'));
  EXPECT_TRUE(IsError(board.exchange(huge), ErrorCode::ERROR_CODE_INVALID_ARGUMENT));
}

TEST(ProtocolBehaviour, BoardsRefuseTheServerHandshake) {
  BoardClient board;
  Envelope attach = board.request();
  attach.mutable_attach()->set_board(0);
  EXPECT_TRUE(IsError(board.exchange(attach), ErrorCode::ERROR_CODE_UNEXPECTED_MESSAGE));
}

TEST(ProtocolBehaviour, EnvelopeOfAnotherVersionIsUnsupportedAndItsBodyIgnored) {
  BoardClient board;
  ASSERT_TRUE(board.program_couplings(diagonal_couplings(8, 8192)).has_ack());
  Envelope e = board.request();
  e.set_protocol_version(7);
  e.mutable_start_run()->set_duration_ticks(1000);
  const Envelope reply = board.exchange(e);
  EXPECT_TRUE(IsError(reply, ErrorCode::ERROR_CODE_UNSUPPORTED_VERSION));
  // The run was not started: the next run is run 1 at tick 100.
  const Envelope started = board.start_run(100, false, false, false);
  ASSERT_TRUE(started.has_run_started());
  EXPECT_EQ(started.run_started().run_id(), 1u);
  EXPECT_EQ(started.run_started().first_tick(), 100u);
}

TEST(ProtocolBehaviour, RunBeforeProgrammingIsNotProgrammed) {
  BoardClient board;
  EXPECT_TRUE(
      IsError(board.start_run(1000, true, false, false), ErrorCode::ERROR_CODE_NOT_PROGRAMMED));
  // Biases and noise alone do not make the board runnable.
  ASSERT_TRUE(board.program_biases(std::vector<std::int16_t>(8, 100)).has_ack());
  ASSERT_TRUE(board.set_noise(10).has_ack());
  EXPECT_TRUE(
      IsError(board.start_run(1000, true, false, false), ErrorCode::ERROR_CODE_NOT_PROGRAMMED));
}

TEST(ProtocolBehaviour, WrongCouplingSizesAreInvalidArguments) {
  BoardClient board;
  auto codes = diagonal_couplings(8, 8192);
  codes.pop_back();
  Envelope reply = board.program_couplings(codes);
  ASSERT_TRUE(IsError(reply, ErrorCode::ERROR_CODE_INVALID_ARGUMENT));
  EXPECT_NE(reply.error().message().find("expected 72 bytes, got 70"), std::string::npos)
      << reply.error().message();

  Envelope e = board.request();
  e.mutable_program_couplings()->set_cells(4);
  e.mutable_program_couplings()->set_upper_codes_le16(le16(diagonal_couplings(4, 8192)));
  EXPECT_TRUE(IsError(board.exchange(e), ErrorCode::ERROR_CODE_INVALID_ARGUMENT));

  EXPECT_TRUE(IsError(board.program_biases(std::vector<std::int16_t>(9, 0)),
                      ErrorCode::ERROR_CODE_INVALID_ARGUMENT));
}

TEST(ProtocolBehaviour, ReservedAndOutOfRangeCodesAreOutOfRange) {
  BoardClient board;
  auto codes = diagonal_couplings(8, 8192);
  codes[5] = -32768;
  Envelope reply = board.program_couplings(codes);
  ASSERT_TRUE(IsError(reply, ErrorCode::ERROR_CODE_OUT_OF_RANGE));
  EXPECT_NE(reply.error().message().find("index 5"), std::string::npos) << reply.error().message();
  // The refused write changed nothing.
  EXPECT_TRUE(
      IsError(board.start_run(100, false, false, false), ErrorCode::ERROR_CODE_NOT_PROGRAMMED));

  std::vector<std::int16_t> biases(8, 0);
  biases[7] = -32768;
  reply = board.program_biases(biases);
  ASSERT_TRUE(IsError(reply, ErrorCode::ERROR_CODE_OUT_OF_RANGE));
  EXPECT_NE(reply.error().message().find("index 7"), std::string::npos);

  EXPECT_TRUE(IsError(board.set_noise(65536), ErrorCode::ERROR_CODE_OUT_OF_RANGE));
  EXPECT_TRUE(board.set_noise(65535).has_ack());
  EXPECT_TRUE(board.program_couplings(diagonal_couplings(8, -32767, 32767)).has_ack());
}

TEST(ProtocolBehaviour, DurationMustBeAPositiveMultipleOfTheSamplePeriod) {
  BoardClient board;
  ASSERT_TRUE(board.program_couplings(diagonal_couplings(8, 8192)).has_ack());
  Envelope reply = board.start_run(150, false, false, false);
  ASSERT_TRUE(IsError(reply, ErrorCode::ERROR_CODE_INVALID_ARGUMENT));
  EXPECT_NE(reply.error().message().find("multiple"), std::string::npos);
  EXPECT_TRUE(
      IsError(board.start_run(0, false, false, false), ErrorCode::ERROR_CODE_INVALID_ARGUMENT));
  EXPECT_TRUE(IsError(board.start_run((std::uint64_t{1} << 32) * 100 + 100, false, false, false),
                      ErrorCode::ERROR_CODE_INVALID_ARGUMENT));
}

TEST(ProtocolBehaviour, RecordingMoreThanTheLimitIsResourceExhausted) {
  BoardClient board;
  ASSERT_TRUE(board.program_couplings(diagonal_couplings(8, 8192)).has_ack());
  const std::uint32_t limit = board.hello().device_info().max_record_samples();
  EXPECT_TRUE(IsError(board.start_run((limit + 1) * 100ull, false, false, true),
                      ErrorCode::ERROR_CODE_RESOURCE_EXHAUSTED));
  // The limit itself fits in one reply frame, with every option on.
  const auto results = board.run(limit, true, true, true);
  EXPECT_EQ(results.samples_le16().size(), 2u * 8u * limit);
  // Without recording, the limit does not apply.
  EXPECT_TRUE(board.start_run((limit + 1) * 100ull, false, false, false).has_run_started());
}

TEST(ProtocolBehaviour, UnknownOrAlreadyReadRunIsUnknownRun) {
  BoardClient board;
  EXPECT_TRUE(IsError(board.read_results(1), ErrorCode::ERROR_CODE_UNKNOWN_RUN));
  ASSERT_TRUE(board.program_couplings(diagonal_couplings(8, 8192)).has_ack());
  const Envelope started = board.start_run(1000, true, false, false);
  ASSERT_TRUE(started.has_run_started());
  const std::uint64_t id = started.run_started().run_id();
  EXPECT_EQ(id, 1u);
  EXPECT_EQ(started.run_started().sample_count(), 10u);
  const Envelope results = board.read_results(id);
  ASSERT_TRUE(results.has_run_results());
  EXPECT_EQ(results.run_results().run_id(), id);
  EXPECT_EQ(results.run_results().cells(), 8u);
  EXPECT_EQ(results.run_results().sample_count(), 10u);
  EXPECT_EQ(results.run_results().first_tick(), 100u);
  EXPECT_EQ(results.run_results().sums_size(), 8);
  EXPECT_EQ(results.run_results().product_sums_size(), 0);
  EXPECT_TRUE(results.run_results().samples_le16().empty());
  EXPECT_TRUE(IsError(board.read_results(id), ErrorCode::ERROR_CODE_UNKNOWN_RUN));
  EXPECT_TRUE(IsError(board.read_results(id + 1), ErrorCode::ERROR_CODE_UNKNOWN_RUN));
}

TEST(ProtocolBehaviour, NineUnreadRunsOverflowTheResultBuffer) {
  BoardClient board;
  ASSERT_TRUE(board.program_couplings(diagonal_couplings(8, 8192)).has_ack());
  std::vector<std::uint64_t> ids;
  for (int k = 0; k < 9; ++k) {
    const Envelope started = board.start_run(100, false, false, false);
    ASSERT_TRUE(started.has_run_started());
    ids.push_back(started.run_started().run_id());
    EXPECT_EQ(started.run_started().first_tick(), 100u * (k + 1));
  }
  EXPECT_TRUE(IsError(board.read_results(ids[0]), ErrorCode::ERROR_CODE_UNKNOWN_RUN));
  for (std::size_t k = 1; k < ids.size(); ++k) {
    const Envelope results = board.read_results(ids[k]);
    ASSERT_TRUE(results.has_run_results());
    EXPECT_EQ(results.run_results().overflow_count(), 1u);
  }
}

TEST(ProtocolBehaviour, GarbageBytesGiveMalformedFrameRepliesAndTheBoardRecovers) {
  BoardClient board;
  std::mt19937 rng(2024);
  std::vector<std::uint8_t> garbage(3000);
  for (auto& byte : garbage)
    byte = static_cast<std::uint8_t>(rng() & 0xFF);
  const auto replies = board.send_bytes(garbage);
  ASSERT_FALSE(replies.empty());
  for (const Envelope& r : replies) {
    EXPECT_TRUE(IsError(r, ErrorCode::ERROR_CODE_MALFORMED_FRAME));
    EXPECT_EQ(r.request_id(), 0u);
  }
  EXPECT_TRUE(board.hello().has_device_info());
}

TEST(ProtocolBehaviour, UndecodablePayloadIsMalformedMessage) {
  BoardClient board;
  const std::vector<std::uint8_t> junk = {0xFF, 0xFF, 0xFF, 0xFF, 0x0F};
  const auto replies = board.send_bytes(firmware_protocol::encode_frame(junk));
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_TRUE(IsError(replies[0], ErrorCode::ERROR_CODE_MALFORMED_MESSAGE));
  EXPECT_EQ(replies[0].request_id(), 0u);
  EXPECT_TRUE(board.hello().has_device_info());
}

TEST(ProtocolBehaviour, ReplyBodiesAndEmptyBodiesAreUnexpectedMessages) {
  BoardClient board;
  Envelope ack = board.request();
  ack.mutable_ack();
  EXPECT_TRUE(IsError(board.exchange(ack), ErrorCode::ERROR_CODE_UNEXPECTED_MESSAGE));
  Envelope results = board.request();
  results.mutable_run_results()->set_run_id(1);
  EXPECT_TRUE(IsError(board.exchange(results), ErrorCode::ERROR_CODE_UNEXPECTED_MESSAGE));
  EXPECT_TRUE(IsError(board.exchange(board.request()), ErrorCode::ERROR_CODE_UNEXPECTED_MESSAGE));
}

TEST(ProtocolBehaviour, NonPositiveDefiniteCouplingsRailWithoutNaN) {
  BoardClient board;
  // A = -0.25 I: every cell runs away from 0 and must sit on the rails.
  ASSERT_TRUE(board.program_couplings(diagonal_couplings(8, -4096)).has_ack());
  ASSERT_TRUE(board.set_noise(500).has_ack());
  const auto r = board.run(200, true, true, true);
  EXPECT_GT(r.clipped_samples(), 0u);
  const auto codes = from_le16(r.samples_le16());
  const auto last = std::vector<std::int16_t>(codes.end() - 8, codes.end());
  for (const std::int16_t c : last)
    EXPECT_TRUE(c == 32767 || c == -32768) << c;
}

TEST(ProtocolBehaviour, ViolentlyUnstableCouplingsEngageTheOverflowGuard) {
  ResonatorConfig config;
  config.cells = 32;
  auto firmware = std::make_unique<ResonatorFirmware>(config);
  BoardClient client(config);  // only for building requests
  Envelope program = client.request();
  program.mutable_program_couplings()->set_cells(32);
  // Every A_ij = -2/us: one eigenvalue of -64/us, a gain of e^64 per sample period.
  program.mutable_program_couplings()->set_upper_codes_le16(
      le16(diagonal_couplings(32, -32767, -32767)));
  Envelope noise = client.request();
  noise.mutable_set_noise()->set_code(65535);
  Envelope run = client.request();
  run.mutable_start_run()->set_duration_ticks(5000);
  run.mutable_start_run()->set_record_samples(true);
  Envelope read = client.request();
  read.mutable_read_results()->set_run_id(1);
  for (const Envelope* e : {&program, &noise, &run}) {
    const auto replies = decode_replies(firmware->on_bytes(firmware_protocol::encode_envelope(*e)));
    ASSERT_EQ(replies.size(), 1u);
    ASSERT_FALSE(replies[0].has_error()) << replies[0].DebugString();
  }
  // The run is integrated before the next request is answered.
  const auto replies = decode_replies(firmware->on_bytes(firmware_protocol::encode_envelope(read)));
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].run_results().clipped_samples(), 50u);
  EXPECT_GT(firmware->model().substeps(), 1u);
  for (const double x : firmware->model().state()) {
    EXPECT_TRUE(std::isfinite(x));
    EXPECT_EQ(std::abs(x), 2.5);
  }
}

TEST(ProtocolBehaviour, A256CellBoardProgramsAndRuns) {
  ResonatorConfig config;
  config.cells = 256;
  BoardClient board(config);
  ASSERT_EQ(board.hello().device_info().cell_count(), 256u);
  ASSERT_TRUE(board.program_couplings(diagonal_couplings(256, 8192, 16)).has_ack());
  ASSERT_TRUE(board.program_biases(std::vector<std::int16_t>(256, 1000)).has_ack());
  ASSERT_TRUE(board.set_noise(1000).has_ack());
  const auto r = board.run(20, true, true, true);
  EXPECT_EQ(r.cells(), 256u);
  EXPECT_EQ(r.sums_size(), 256);
  EXPECT_EQ(r.product_sums_size(), 256 * 257 / 2);
  EXPECT_EQ(r.samples_le16().size(), 2u * 256u * 20u);
  EXPECT_EQ(r.clipped_samples(), 0u);
  // Recording the maximum with products could overflow a reply frame: refused up front.
  const std::uint32_t limit = board.hello().device_info().max_record_samples();
  EXPECT_TRUE(IsError(board.start_run(limit * 100ull, false, true, true),
                      ErrorCode::ERROR_CODE_RESOURCE_EXHAUSTED));
}

}  // namespace
}  // namespace kelvin::sim_backend::testing

namespace kelvin::sim_backend::testing {
namespace {

TEST(ProtocolBehaviour, StartRunIsAcknowledgedBeforeTheRunIsIntegrated) {
  ResonatorConfig config;
  config.cells = 8;
  auto firmware = std::make_unique<ResonatorFirmware>(config);
  BoardClient client(config);
  Envelope program = client.request();
  program.mutable_program_couplings()->set_cells(8);
  program.mutable_program_couplings()->set_upper_codes_le16(le16(diagonal_couplings(8, 16384, 0)));
  Envelope run = client.request();
  run.mutable_start_run()->set_duration_ticks(std::uint64_t{100} << 30);  // 1.1e9 samples: minutes
  ASSERT_EQ(decode_replies(firmware->on_bytes(firmware_protocol::encode_envelope(program))).size(),
            1u);
  const auto start = std::chrono::steady_clock::now();
  const auto started = decode_replies(firmware->on_bytes(firmware_protocol::encode_envelope(run)));
  ASSERT_EQ(started.size(), 1u);
  EXPECT_TRUE(started[0].has_run_started()) << started[0].DebugString();
  // Integrating the run before answering would take minutes; 10 s is room for a loaded machine.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));

  // Power goes off while the board integrates in its idle time: the run stops promptly and the
  // board falls silent.
  std::thread cut([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    firmware->power_off();
  });
  firmware->on_idle();
  cut.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
  Envelope read = client.request();
  read.mutable_read_results()->set_run_id(1);
  EXPECT_TRUE(firmware->on_bytes(firmware_protocol::encode_envelope(read)).empty());
}

}  // namespace
}  // namespace kelvin::sim_backend::testing
