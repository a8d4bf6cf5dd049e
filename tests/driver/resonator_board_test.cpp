#include "kelvin/driver/resonator/resonator_board.hpp"

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "driver_test_names.hpp"
#include "kelvin/driver/backends/backends.hpp"
#include "kelvin/firmware_protocol/wire.pb.h"
#include "kelvin/testing/boards.hpp"

namespace kelvin::driver {
namespace {

using kelvin::testing::open_resonator_board;

SymmetricCodes diagonal(std::uint32_t n, std::int16_t code) {
  SymmetricCodes codes(n);
  for (std::uint32_t i = 0; i < n; ++i)
    codes.set(i, i, code);
  return codes;
}

TEST(SymmetricCodes, StoresTheUpperTriangleRowByRow) {
  SymmetricCodes c(3);
  c.set(0, 1, 7);
  c.set(2, 1, -3);
  c.set(2, 2, 9);
  EXPECT_EQ(c.get(1, 0), 7);
  EXPECT_EQ(c.get(1, 2), -3);
  const std::vector<std::int16_t> expected = {0, 7, 0, 0, -3, 9};  // A00 A01 A02 A11 A12 A22
  EXPECT_EQ(std::vector<std::int16_t>(c.upper().begin(), c.upper().end()), expected);
  EXPECT_THROW(c.get(3, 0), Error);
}

TEST(ResonatorBoard, RunsAndReturnsSumsForEveryCell) {
  auto board = open_resonator_board(4, 5);
  board.program_couplings(diagonal(4, 16384), Deadline::after(5s));  // A = I / us
  const std::vector<std::int16_t> bias = {4096, -4096, 0, 2048};     // b = 0.5, -0.5, 0, 0.25 V/us
  board.program_biases(bias, Deadline::after(5s));
  board.set_noise(0, Deadline::after(5s));
  RunRequest request;
  request.samples = 200;
  request.reset_state = true;
  board.run(request, Deadline::after(5s));  // relax: 200 us >> 1 us
  request.reset_state = false;
  const auto result = board.run(request, Deadline::after(5s));
  EXPECT_EQ(result.sample_count, 200u);
  ASSERT_EQ(result.sums.size(), 4u);
  // Noise-free and relaxed: x = A^-1 b exactly, up to ADC rounding.
  EXPECT_NEAR(result.mean_physical(0), 0.5, 1e-4);
  EXPECT_NEAR(result.mean_physical(1), -0.5, 1e-4);
  EXPECT_NEAR(result.mean_physical(2), 0.0, 1e-4);
  EXPECT_NEAR(result.mean_physical(3), 0.25, 1e-4);
  EXPECT_EQ(result.clipped_samples, 0u);
}

TEST(ResonatorBoard, RefusesWrongSizesBeforeSendingAnything) {
  auto board = open_resonator_board(4, 5);
  const auto before = board.device().stats().requests;
  try {
    board.program_couplings(diagonal(3, 100), Deadline::after(1s));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument);
  }
  const std::vector<std::int16_t> three = {1, 2, 3};
  EXPECT_THROW(board.program_biases(three, Deadline::after(1s)), Error);
  EXPECT_EQ(board.device().stats().requests, before);
}

TEST(ResonatorBoard, RefusesCodesOutsideTheDacRange) {
  auto board = open_resonator_board(2, 5);
  auto codes = diagonal(2, 100);
  codes.set(0, 1, -32768);  // reserved code
  try {
    board.program_couplings(codes, Deadline::after(1s));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kOutOfRange);
  }
  EXPECT_THROW(board.set_noise(70000, Deadline::after(1s)), Error);
}

TEST(ResonatorBoard, RunBeforeProgrammingIsRefusedByTheBoard) {
  auto board = open_resonator_board(2, 5);
  RunRequest request;
  request.samples = 10;
  try {
    board.run(request, Deadline::after(1s));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kDevice);
    EXPECT_EQ(e.device_code(), firmware_protocol::wire::ERROR_CODE_NOT_PROGRAMMED);
  }
}

TEST(ResonatorBoard, RefusesRecordingMoreThanTheBoardCanReturn) {
  auto board = open_resonator_board(2, 5);
  board.program_couplings(diagonal(2, 16384), Deadline::after(1s));
  RunRequest request;
  request.samples = board.description().max_record_samples + 1;
  request.record_samples = true;
  EXPECT_THROW(board.start_run(request, Deadline::after(1s)), Error);
  request.samples = 0;
  request.record_samples = false;
  EXPECT_THROW(board.start_run(request, Deadline::after(1s)), Error);
}

TEST(ResonatorBoard, RecordedSamplesAgreeWithTheSums) {
  auto board = open_resonator_board(3, 5);
  board.program_couplings(diagonal(3, 16384), Deadline::after(1s));
  board.set_noise(4096, Deadline::after(1s));
  RunRequest request;
  request.samples = 500;
  request.record_samples = true;
  request.accumulate_products = true;
  const auto r = board.run(request, Deadline::after(5s));
  ASSERT_EQ(r.samples.size(), 500u * 3u);
  for (std::uint32_t i = 0; i < 3; ++i) {
    std::int64_t sum = 0;
    std::int64_t square = 0;
    for (std::size_t k = 0; k < 500; ++k) {
      sum += r.samples[k * 3 + i];
      square += std::int64_t{r.samples[k * 3 + i]} * r.samples[k * 3 + i];
    }
    EXPECT_EQ(sum, r.sums[i]);
    EXPECT_EQ(square, r.product_sum(i, i));
  }
}

TEST(ResonatorBoard, DescribesItsCouplingKindDynamicsAndImperfectionModel) {
  ResonatorBoard board(
      backends::open("sim:resonator?cells=4&couplings=capacitive&imperfections=typical"));
  ASSERT_TRUE(board.description().resonator.has_value());
  const ResonatorDescription& r = *board.description().resonator;
  EXPECT_EQ(r.coupling_kind, CouplingKind::kCapacitive);
  EXPECT_TRUE(r.supports(Dynamics::kRlc));
  EXPECT_EQ(r.imperfections.name, "typical");
  EXPECT_DOUBLE_EQ(r.imperfections.resistance, 0.01);
  EXPECT_EQ(r.quartic.bits, 16u);
  EXPECT_EQ(r.max_decimation, 65536u);
  EXPECT_TRUE(board.description().has_capability(capability::kStreaming));
  EXPECT_TRUE(board.description().has_capability(capability::kTimedStart));
  EXPECT_EQ(capability_names(capability::kTimedStart), std::vector<std::string>{"timed_start"});
  EXPECT_EQ(capability_names(capability::kResumableRead),
            std::vector<std::string>{"resumable_read"});
}

TEST(ResonatorBoard, CapacitiveBoardRefusesAPositiveCouplingBeforeSending) {
  ResonatorBoard board(backends::open("sim:resonator?cells=3&couplings=capacitive"));
  SymmetricCodes codes = diagonal(3, 16384);
  codes.set(0, 2, -100);
  board.program_couplings(codes, Deadline::after(5s));
  codes.set(1, 2, 5);
  const auto sent = board.device().stats().requests;
  try {
    board.program_couplings(codes, Deadline::after(5s));
    FAIL() << "a positive coupling reached a capacitive board";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kOutOfRange);
    EXPECT_NE(std::string(e.what()).find("(1, 2)"), std::string::npos) << e.what();
  }
  EXPECT_EQ(board.device().stats().requests, sent);
}

TEST(ResonatorBoard, RlcAndDecimatedRunsGoThroughTheDriver) {
  auto board = open_resonator_board(4, 5);
  board.program_couplings(diagonal(4, 16384), Deadline::after(5s));
  board.set_noise(6554, Deadline::after(5s));
  RunRequest request;
  request.samples = 1000;
  request.dynamics = Dynamics::kRlc;
  request.decimation = 4;
  request.average = true;
  request.accumulate_products = true;
  const auto ticket = board.start_run(request, Deadline::after(5s));
  EXPECT_EQ(ticket.sample_count, 1000u);
  const auto result = board.read_results(ticket.run_id, Deadline::after(5s));
  EXPECT_EQ(result.sample_count, 1000u);
  EXPECT_GT(result.product_sum(0, 0), 0);
  request.decimation = 0;
  EXPECT_THROW(board.start_run(request, Deadline::after(5s)), Error);
}

TEST(ResonatorBoard, SetQuarticValidatesSizesBeforeSending) {
  auto board = open_resonator_board(4, 5);
  const std::vector<std::uint16_t> three = {1, 2, 3};
  EXPECT_THROW(board.set_quartic(three, Deadline::after(5s)), Error);
  const std::vector<std::uint16_t> four = {0, 4096, 0, 0};
  board.set_quartic(four, Deadline::after(5s));
}

// Streaming against the wall clock: whatever the timing, the counters add up exactly, and a
// stopped stream stays readable.
TEST(ResonatorBoard, StreamCountersAddUpAndTheRingOutlivesTheStream) {
  ResonatorBoard board(backends::open("sim:resonator?cells=4&ring=2048"));
  board.program_couplings(diagonal(4, 16384), Deadline::after(5s));
  board.set_noise(1000, Deadline::after(5s));
  const auto ticket = board.start_stream(StreamRequest{}, Deadline::after(5s));
  EXPECT_EQ(ticket.ring_capacity_samples, 2048u);
  EXPECT_THROW(board.start_stream(StreamRequest{}, Deadline::after(5s)), Error);
  std::uint64_t delivered = 0;
  std::uint64_t next_sequence = 0;
  StreamChunk chunk;
  const auto check = [&](const StreamChunk& c) {
    EXPECT_EQ(c.first_sequence, next_sequence + (c.lost - chunk.lost));
    next_sequence = c.first_sequence + c.sample_count;
    delivered += c.sample_count;
    EXPECT_EQ(c.samples.size(), c.sample_count * 4);
    EXPECT_EQ(delivered + c.lost + c.buffered, c.produced);
    chunk = c;
  };
  for (int k = 0; k < 3; ++k) {
    std::this_thread::sleep_for(5ms);  // 2048 samples take about 2 ms: this overflows
    check(board.read_stream(0, Deadline::after(5s)));
  }
  EXPECT_GT(chunk.lost, 0u);
  EXPECT_GE(chunk.overruns, 1u);
  board.stop_stream(Deadline::after(5s));
  StreamChunk last;
  do {
    last = board.read_stream(512, Deadline::after(5s));
    check(last);
  } while (last.sample_count > 0);
  EXPECT_FALSE(last.running);
  EXPECT_EQ(last.buffered, 0u);
  EXPECT_EQ(delivered + last.lost, last.produced);
}

}  // namespace
}  // namespace kelvin::driver
