// One conformance suite for every way of reaching a board. Each target is a URI (and whatever
// serves it: an in-process board, a board server on loopback, an emulated USB device); every
// test runs against each target and must behave the same: what a user can do with one
// transport works, unchanged, with the others.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "conformance_targets.hpp"
#include "kelvin/common/error.hpp"
#include "kelvin/driver/backends/backends.hpp"
#include "kelvin/driver/ping.hpp"
#include "kelvin/driver/resonator/resonator_board.hpp"
#include "kelvin/driver/resonator/sample_stream.hpp"
#include "kelvin/testing/errors.hpp"

namespace kelvin::conformance {
namespace {

using namespace std::chrono_literals;
using common::Deadline;
using common::ErrorKind;
using kelvin::testing::kind_of;
using Clock = std::chrono::steady_clock;

// The board every target serves: 4 cells, seed 21, serial KLV-CONFORMANCE
// (conformance_targets.hpp).
constexpr std::uint32_t kCells = 4;

void program(driver::ResonatorBoard& board) {
  driver::SymmetricCodes a(kCells);
  for (std::uint32_t i = 0; i < kCells; ++i) {
    a.set(i, i, 9830);
    if (i + 1 < kCells)
      a.set(i, i + 1, -1638);
  }
  const std::vector<std::int16_t> b{-820, -410, 0, 410};
  board.program_couplings(a, Deadline::after(5s));
  board.program_biases(b, Deadline::after(5s));
  board.set_noise(2000, Deadline::after(5s));
}

class Conformance : public ::testing::TestWithParam<TargetKind> {
 protected:
  void SetUp() override {
    target_ = make_target(GetParam());
    if (!target_)
      GTEST_SKIP() << "target not available in this build";
  }
  driver::ResonatorBoard open_board() {
    return driver::ResonatorBoard(driver::backends::open(target_->uri()));
  }

  std::unique_ptr<Target> target_;
};

TEST_P(Conformance, OpensAndDescribesTheBoard) {
  auto board = open_board();
  EXPECT_EQ(board.description().family, driver::BoardFamily::kResonator);
  EXPECT_EQ(board.cells(), kCells);
  EXPECT_FALSE(board.description().serial.empty());
  EXPECT_EQ(board.description().protocol_version, 6u);
}

TEST_P(Conformance, PingEchoesItsPayload) {
  auto device = driver::backends::open(target_->uri());
  for (const std::size_t bytes : {std::size_t{0}, std::size_t{1000}, driver::kMaxPingPayload}) {
    const auto reply = driver::ping(*device, bytes, Deadline::after(5s));
    EXPECT_GT(reply.round_trip.count(), 0);
  }
}

// The same job gives the same ADC codes, bit for bit, whatever carries the frames.
TEST_P(Conformance, RunMatchesTheInProcessBoardBitForBit) {
  driver::RunRequest request;
  request.samples = 2000;
  request.record_samples = true;
  request.accumulate_products = true;
  auto board = open_board();
  program(board);
  const auto result = board.run(request, Deadline::after(10s));

  driver::ResonatorBoard reference(driver::backends::open(kReferenceUri));
  program(reference);
  const auto expected = reference.run(request, Deadline::after(10s));
  EXPECT_EQ(result.samples, expected.samples);
  EXPECT_EQ(result.sums, expected.sums);
  EXPECT_EQ(result.product_sums, expected.product_sums);
}

TEST_P(Conformance, StreamAccountsForEverySample) {
  auto board = open_board();
  program(board);
  driver::StreamOptions options;
  options.max_samples_per_frame = 4096;
  driver::SampleStream stream(board, options, Deadline::after(5s));
  const auto end = Clock::now() + 200ms;
  while (Clock::now() < end)
    (void)stream.recv(Deadline::at(end));
  stream.stop(Deadline::after(5s));
  for (;;) {
    const auto frame = stream.recv(Deadline::after(10s));
    ASSERT_NE(frame.metadata.error, driver::StreamErrorKind::kTimeout);
    if (frame.metadata.end_of_stream)
      break;
  }
  const auto n = stream.counters();
  EXPECT_GT(n.received, 0u);
  EXPECT_EQ(n.produced, n.received + n.lost);
  EXPECT_EQ(n.buffered, 0u);
}

// One timeout must not break the handle: the late reply is skipped and the next request works.
TEST_P(Conformance, ATimedOutRequestLeavesTheHandleUsable) {
  auto board = open_board();
  program(board);
  driver::RunRequest long_run;
  long_run.samples = 2'000'000;  // seconds of emulation
  const auto ticket = board.start_run(long_run, Deadline::after(5s));
  const auto begin = Clock::now();
  EXPECT_EQ(kind_of([&] { (void)board.read_results(ticket.run_id, Deadline::after(50ms)); }),
            ErrorKind::kTimeout);
  EXPECT_LT(Clock::now() - begin, 1s) << "the deadline is total";
  const auto reply = driver::ping(board.device(), 16, Deadline::after(60s));
  EXPECT_GT(reply.device_tick, 0u);
}

TEST_P(Conformance, CloseFromAnotherThreadWakesABlockedCaller) {
  auto board = open_board();
  program(board);
  driver::RunRequest long_run;
  long_run.samples = 2'000'000;
  const auto ticket = board.start_run(long_run, Deadline::after(5s));
  std::thread closer([&] {
    std::this_thread::sleep_for(100ms);
    board.device().close();
  });
  const auto begin = Clock::now();
  EXPECT_EQ(kind_of([&] { (void)board.read_results(ticket.run_id, Deadline::after(30s)); }),
            ErrorKind::kDisconnected);
  EXPECT_LT(Clock::now() - begin, 5s);
  closer.join();
  EXPECT_EQ(kind_of([&] { (void)driver::ping(board.device(), 0, Deadline::after(1s)); }),
            ErrorKind::kDisconnected);
}

INSTANTIATE_TEST_SUITE_P(EveryTransport, Conformance, ::testing::ValuesIn(all_targets()),
                         [](const ::testing::TestParamInfo<TargetKind>& target) {
                           return std::string(to_string(target.param));
                         });

}  // namespace
}  // namespace kelvin::conformance
