// The libusb transport against an emulated board through real libusb (run under
// LD_PRELOAD=libumockdev-preload.so.0; see docs/usb.md).
#include "kelvin/driver/usb/usb_transport.hpp"

#include <chrono>
#include <future>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <libusb-1.0/libusb.h>

#include "driver_test_names.hpp"
#include "kelvin/driver/backends/backends.hpp"
#include "kelvin/driver/device.hpp"
#include "kelvin/driver/resonator/resonator_board.hpp"
#include "usb_fixture.hpp"

namespace kelvin::driver::testing {

using usb::list_usb_boards;
using usb::UsbSelector;
using usb::UsbTransport;
using usb::UsbTransportOptions;
namespace {

std::unique_ptr<UsbTransport> open_emulated(std::uint32_t transfers = 8) {
  UsbSelector selector;
  selector.serial = kSerial;
  UsbTransportOptions options;
  options.transfers_in_flight = transfers;
  return UsbTransport::open(selector, options);
}

using UsbTransportTest = UsbBoardTest;

TEST_F(UsbTransportTest, OpensTheBoardBySerialAndByBusPosition) {
  auto by_serial = open_emulated();
  EXPECT_EQ(by_serial->board().serial, kSerial);
  EXPECT_EQ(by_serial->board().bus, 1);
  EXPECT_EQ(by_serial->board().address, 2);
  EXPECT_TRUE(by_serial->is_open());
  by_serial.reset();

  UsbSelector by_position;
  by_position.bus = 1;
  by_position.address = 2;
  EXPECT_EQ(UsbTransport::open(by_position)->board().serial, kSerial);

  UsbSelector wrong;
  wrong.serial = "NO-SUCH-BOARD";
  EXPECT_EQ(kind_of([&] { UsbTransport::open(wrong); }), ErrorKind::kNotFound);
}

TEST_F(UsbTransportTest, RefusesBadOptions) {
  UsbTransportOptions options;
  options.transfers_in_flight = 4;
  EXPECT_EQ(kind_of([&] { UsbTransport::open({}, options); }), ErrorKind::kInvalidArgument);
  options = {};
  options.transfer_size = 1000;
  EXPECT_EQ(kind_of([&] { UsbTransport::open({}, options); }), ErrorKind::kInvalidArgument);
}

TEST_F(UsbTransportTest, KeepsSeveralInTransfersInFlight) {
  auto transport = open_emulated(16);
  // The board sees every IN URB the host queued, all at once, before any data exists.
  ASSERT_TRUE(eventually([&] { return board_.stats().in_urbs_pending == 16; }))
      << board_.stats().in_urbs_pending;
  EXPECT_EQ(transport->stats().in_transfers_pending, 16u);
  EXPECT_EQ(board_.stats().max_in_urbs_pending, 16u);
}

TEST_F(UsbTransportTest, ReadTimesOutAtItsDeadlineAndTheHandleKeepsWorking) {
  auto transport = open_emulated();
  std::vector<std::uint8_t> buffer(64);
  const auto start = Clock::now();
  EXPECT_EQ(kind_of([&] { transport->read_some(buffer, Deadline::after(300ms)); }),
            ErrorKind::kTimeout);
  const auto waited = Clock::now() - start;
  EXPECT_GE(waited, 300ms);
  EXPECT_LT(waited, 20s);  // an ignored deadline never returns; sanitizers on a loaded 2-core machine are slow
  EXPECT_TRUE(transport->is_open());
  // The classic failure (one timeout breaks the handle) would show here: the hello handshake
  // must still work through the same transport.
  Device device(std::move(transport), DeviceAddress::parse("usb:serial=KLV-EMU-0001"));
  EXPECT_EQ(device.description().serial, kSerial);
}

TEST_F(UsbTransportTest, CloseFromAnotherThreadWakesABlockedRead) {
  auto transport = open_emulated();
  auto reader = std::async(std::launch::async, [&] {
    std::vector<std::uint8_t> buffer(64);
    const auto start = Clock::now();
    const ErrorKind kind = kind_of([&] { transport->read_some(buffer, Deadline::after(120s)); });
    return std::make_pair(kind, Clock::now() - start);
  });
  // Either the read is already blocked (and must be woken) or it starts after close() (and must
  // fail at once); both must give kDisconnected long before the 120 s deadline.
  std::this_thread::sleep_for(100ms);
  transport->close();
  ASSERT_EQ(reader.wait_for(90s), std::future_status::ready);
  const auto [kind, waited] = reader.get();
  EXPECT_EQ(kind, ErrorKind::kDisconnected);
  EXPECT_LT(waited, 60s);  // well before the 120 s deadline
  EXPECT_FALSE(transport->is_open());
  const std::vector<std::uint8_t> bytes = {1, 2, 3};
  EXPECT_EQ(kind_of([&] { transport->write(bytes, Deadline::after(1s)); }),
            ErrorKind::kDisconnected);
}

TEST_F(UsbTransportTest, UnplugFailsABlockedReadAndEveryLaterCall) {
  auto transport = open_emulated();
  auto reader = std::async(std::launch::async, [&] {
    std::vector<std::uint8_t> buffer(64);
    const auto start = Clock::now();
    const ErrorKind kind = kind_of([&] { transport->read_some(buffer, Deadline::after(120s)); });
    return std::make_pair(kind, Clock::now() - start);
  });
  std::this_thread::sleep_for(100ms);  // see CloseFromAnotherThread...: either order must hold
  board_.unplug();
  ASSERT_EQ(reader.wait_for(90s), std::future_status::ready);
  const auto [kind, waited] = reader.get();
  EXPECT_EQ(kind, ErrorKind::kDisconnected);
  EXPECT_LT(waited, 60s);  // well before the 120 s deadline
  EXPECT_FALSE(transport->is_open());
  std::vector<std::uint8_t> buffer(8);
  EXPECT_EQ(kind_of([&] { transport->read_some(buffer, Deadline::after(1s)); }),
            ErrorKind::kDisconnected);
  const std::vector<std::uint8_t> bytes = {1, 2, 3};
  EXPECT_EQ(kind_of([&] { transport->write(bytes, Deadline::after(1s)); }),
            ErrorKind::kDisconnected);
  transport.reset();  // the destructor must return although the device is gone
  EXPECT_TRUE(eventually([] { return list_usb_boards().empty(); }));
}

TEST_F(UsbTransportTest, HotplugLeftAloneFailsABlockedRead) {
  if (libusb_has_capability(LIBUSB_CAP_HAS_HOTPLUG) == 0)
    GTEST_SKIP() << "libusb has no hotplug support here";
  auto transport = open_emulated();
  auto reader = std::async(std::launch::async, [&] {
    std::vector<std::uint8_t> buffer(64);
    const auto start = Clock::now();
    const ErrorKind kind = kind_of([&] { transport->read_some(buffer, Deadline::after(120s)); });
    return std::make_pair(kind, Clock::now() - start);
  });
  std::this_thread::sleep_for(100ms);  // either order must hold, as above
  // The URBs stay pending: only the hotplug LEFT event can tell the transport.
  board_.unplug(sim_backend::usb::EmulatedUsbBoard::Unplug::kAnnounceOnly);
  ASSERT_EQ(reader.wait_for(90s), std::future_status::ready);
  const auto [kind, waited] = reader.get();
  EXPECT_EQ(kind, ErrorKind::kDisconnected);
  EXPECT_LT(waited, 60s);  // well before the 120 s deadline
  EXPECT_FALSE(transport->is_open());
  transport.reset();  // cancels the URBs the board still holds, and returns
  EXPECT_EQ(board_.stats().in_urbs_pending, 0u);
}

TEST_F(UsbTransportTest, AFullHostQueueParksTransfersAndDropsNothing) {
  UsbSelector selector;
  selector.serial = kSerial;
  UsbTransportOptions options;
  options.transfer_size = 4096;
  options.queue_limit = 4096;  // room for one transfer: the 512 KiB reply must wait on the board
  auto owned = UsbTransport::open(selector, options);
  UsbTransport* transport = owned.get();
  ResonatorBoard board(
      std::make_unique<Device>(std::move(owned), DeviceAddress::parse("usb:serial=KLV-EMU-0001")));
  SymmetricCodes couplings(4);
  for (std::uint32_t i = 0; i < 4; ++i)
    couplings.set(i, i, 16384);
  board.program_couplings(couplings, Deadline::after(5s));
  board.set_noise(4096, Deadline::after(5s));
  RunRequest request;
  request.samples = board.description().max_record_samples;
  request.record_samples = true;
  const auto result = board.run(request, Deadline::after(8s));
  ASSERT_EQ(result.samples.size(), request.samples * 4);
  const auto stats = transport->stats();
  EXPECT_GT(stats.parked_transfers, 0u);
  EXPECT_EQ(stats.bytes_dropped, 0u);
  EXPECT_EQ(stats.transfer_errors, 0u);
  EXPECT_GT(stats.bytes_in, request.samples * 8);
  // Nothing was lost: the same job in process gives the same samples.
  ResonatorBoard reference(backends::open(same_board_in_process()));
  reference.program_couplings(couplings, Deadline::after(5s));
  reference.set_noise(4096, Deadline::after(5s));
  EXPECT_EQ(reference.run(request, Deadline::after(8s)).samples, result.samples);
}

TEST_F(UsbTransportTest, ListsTheAttachedBoardWithItsSerial) {
  const auto boards = list_usb_boards();
  ASSERT_EQ(boards.size(), 1u);
  EXPECT_EQ(boards[0].serial, kSerial);
  EXPECT_EQ(boards[0].serial_error, "");
}

}  // namespace
}  // namespace kelvin::driver::testing
