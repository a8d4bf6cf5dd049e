// Whole jobs over emulated USB through driver::backends::open("usb:..."): the same results as the
// in-process board, unplug in the middle of a request, replug and reopen by serial.
#include <algorithm>
#include <chrono>
#include <future>
#include <iostream>
#include <vector>

#include <gtest/gtest.h>

#include "driver_test_names.hpp"
#include "kelvin/driver/backends/backends.hpp"
#include "kelvin/driver/resonator/resonator_board.hpp"
#include "kelvin/driver/usb/usb_transport.hpp"
#include "usb_fixture.hpp"

namespace kelvin::driver::testing {
namespace {

const std::string kUri = std::string("usb:serial=") + kSerial;

// A small SPD system on 4 cells with noise, recorded: every sample must agree bit for bit.
RunResult run_small_job(ResonatorBoard& board) {
  SymmetricCodes couplings(4);
  for (std::uint32_t i = 0; i < 4; ++i)
    couplings.set(i, i, 16384);
  couplings.set(0, 1, -4096);
  couplings.set(1, 2, 2048);
  couplings.set(2, 3, -1024);
  board.program_couplings(couplings, Deadline::after(5s));
  const std::vector<std::int16_t> bias = {4096, -2048, 1024, 0};
  board.program_biases(bias, Deadline::after(5s));
  board.set_noise(4096, Deadline::after(5s));
  RunRequest request;
  request.samples = 2000;
  request.reset_state = true;
  request.accumulate_products = true;
  request.record_samples = true;
  return board.run(request, Deadline::after(8s));
}

using UsbBoardJobTest = UsbBoardTest;

TEST_F(UsbBoardJobTest, FindListsTheEmulatedBoard) {
  const auto found = backends::find("usb");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].to_string(), kUri);
  EXPECT_EQ(backends::find(kUri).size(), 1u);
  EXPECT_EQ(backends::find("usb:bus=1&address=2").size(), 1u);
  EXPECT_TRUE(backends::find("usb:serial=SOMETHING-ELSE").empty());
  EXPECT_EQ(kind_of([] { backends::find("usb:colour=red"); }), ErrorKind::kInvalidArgument);
  const auto all = backends::find();
  EXPECT_TRUE(std::any_of(all.begin(), all.end(),
                          [](const DeviceAddress& a) { return a.to_string() == kUri; }));
}

TEST_F(UsbBoardJobTest, AJobMatchesTheInProcessBoardBitForBit) {
  ResonatorBoard usb(backends::open(kUri));
  ResonatorBoard in_process(backends::open(same_board_in_process()));
  EXPECT_EQ(usb.description().serial, kSerial);
  // find() opens a second handle to read the serial while the transport's IN transfers wait:
  // neither may disturb the other.
  EXPECT_EQ(backends::find("usb").size(), 1u);
  const RunResult over_usb = run_small_job(usb);
  const RunResult reference = run_small_job(in_process);
  EXPECT_EQ(over_usb.sample_count, 2000u);
  EXPECT_EQ(over_usb.sums, reference.sums);
  EXPECT_EQ(over_usb.product_sums, reference.product_sums);
  EXPECT_EQ(over_usb.samples, reference.samples);
  EXPECT_EQ(over_usb.samples.size(), 2000u * 4u);
  EXPECT_EQ(over_usb.clipped_samples, reference.clipped_samples);
}

TEST_F(UsbBoardJobTest, UnplugMidRequestFailsTheCallWithinItsDeadline) {
  ResonatorBoard board(backends::open(kUri));
  SymmetricCodes couplings(4);
  for (std::uint32_t i = 0; i < 4; ++i)
    couplings.set(i, i, 16384);
  board.program_couplings(couplings, Deadline::after(5s));
  // A run far too long to finish: the reply can only come after the unplug.
  RunRequest request;
  request.samples = std::uint64_t{1} << 32;
  auto job = std::async(std::launch::async, [&] {
    const auto start = Clock::now();
    const ErrorKind kind = kind_of([&] { board.run(request, Deadline::after(120s)); });
    return std::make_pair(kind, Clock::now() - start);
  });
  std::this_thread::sleep_for(200ms);  // let the request reach the board (either way it fails)
  board_.unplug();
  ASSERT_EQ(job.wait_for(90s), std::future_status::ready);
  const auto [kind, waited] = job.get();
  EXPECT_EQ(kind, ErrorKind::kDisconnected);
  EXPECT_LT(waited, 60s);  // well before the 120 s deadline
  EXPECT_EQ(kind_of([&] { board.set_noise(0, Deadline::after(1s)); }), ErrorKind::kDisconnected);
  // The process is healthy: the in-process board still works, and find() answers.
  ResonatorBoard other(backends::open(same_board_in_process()));
  other.set_noise(0, Deadline::after(5s));
  EXPECT_TRUE(eventually([] { return backends::find("usb").empty(); }));
}

TEST_F(UsbBoardJobTest, ReopenBySerialWorksAfterReplug) {
  {
    ResonatorBoard board(backends::open(kUri));
    board.set_noise(0, Deadline::after(5s));
    board_.unplug();
    EXPECT_EQ(kind_of([&] { board.set_noise(0, Deadline::after(3s)); }), ErrorKind::kDisconnected);
  }
  ASSERT_TRUE(eventually([] { return backends::find("usb").empty(); }));
  EXPECT_EQ(kind_of([] { backends::open(kUri); }), ErrorKind::kNotFound);
  board_.plug();
  ASSERT_TRUE(eventually([] { return backends::find("usb").size() == 1; }));
  ResonatorBoard again(backends::open(kUri));
  ResonatorBoard in_process(backends::open(same_board_in_process()));
  EXPECT_EQ(run_small_job(again).samples, run_small_job(in_process).samples);
}

// Not a pass/fail check of speed (the emulation, not USB, sets these numbers): it prints the
// round trip and bulk IN rate seen through umockdev, for docs/usb.md.
TEST_F(UsbBoardJobTest, MeasuresRoundTripAndBulkThroughput) {
  auto device = backends::open(kUri + "?transfers=8");
  ResonatorBoard board(std::move(device));
  std::vector<double> round_trips_ms;
  for (int i = 0; i < 40; ++i) {
    const auto start = Clock::now();
    board.set_noise(0, Deadline::after(5s));
    round_trips_ms.push_back(
        std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  std::sort(round_trips_ms.begin(), round_trips_ms.end());
  SymmetricCodes couplings(4);
  for (std::uint32_t i = 0; i < 4; ++i)
    couplings.set(i, i, 16384);
  board.program_couplings(couplings, Deadline::after(5s));
  RunRequest request;
  request.samples = board.description().max_record_samples;
  request.record_samples = true;
  std::vector<double> rates;
  for (int i = 0; i < 5; ++i) {
    const auto ticket = board.start_run(request, Deadline::after(5s));
    board.set_noise(0, Deadline::after(5s));  // the run is integrated before this is answered
    const auto start = Clock::now();
    const RunResult result = board.read_results(ticket.run_id, Deadline::after(8s));
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    ASSERT_EQ(result.samples.size(), request.samples * 4);
    rates.push_back(static_cast<double>(result.samples.size() * 2) / seconds / (1024.0 * 1024.0));
  }
  std::sort(rates.begin(), rates.end());
  std::cout << "[usb-emulated] round trip median " << round_trips_ms[round_trips_ms.size() / 2]
            << " ms (min " << round_trips_ms.front() << ", max " << round_trips_ms.back()
            << "); bulk IN median " << rates[rates.size() / 2] << " MiB/s over "
            << request.samples * 8 / 1024 << " KiB results (min " << rates.front() << ", max "
            << rates.back() << ")\n";
  RecordProperty("round_trip_median_ms", std::to_string(round_trips_ms[round_trips_ms.size() / 2]));
  RecordProperty("bulk_in_median_mib_s", std::to_string(rates[rates.size() / 2]));
}

}  // namespace
}  // namespace kelvin::driver::testing
