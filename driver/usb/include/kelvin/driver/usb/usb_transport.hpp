// USB transport: a kelvin board's vendor-specific interface 0 with bulk OUT 0x01 and bulk IN
// 0x81, driven through libusb-1.0's asynchronous API (docs/usb.md).
//
// Several bulk IN transfers are kept in flight (8 by default) and resubmitted as they complete;
// their bytes go into a bounded host queue that read_some() drains. When the queue has no room
// for another full transfer, completed IN transfers are parked instead of resubmitted and the
// board's data waits on the board (USB back-pressure), so the host never drops bytes. Writes are
// asynchronous bulk OUT transfers. Deadlines are total: a read or write that runs out of time
// cancels only its own work, so one timeout never breaks the handle.
//
// libusb events are handled by ONE thread per libusb context, shared by every transport in the
// process (libusb_handle_events_timeout_completed in a loop); transfer callbacks run there.
//
// Thread contract: as for Transport. write() and read_some() may run concurrently (one writer,
// one reader); close() may be called from any thread at any time and wakes every blocked caller
// with Error(kDisconnected). A board that is unplugged (transfer status NO_DEVICE or a hotplug
// LEFT event) fails every blocked and later call with Error(kDisconnected). stats() may be called
// from any thread. The destructor closes, waits for the cancelled transfers and never throws.
// list_usb_boards() and UsbTransport::open() may be called from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "kelvin/driver/transport.hpp"

namespace kelvin::driver::usb {

// kelvin boards enumerate as VID:PID 1209:AC01. 0x1209 is pid.codes' open vendor ID; 0xAC01 is
// taken from its test range (0x0001-0xFFFF "testing only"), to be replaced by an allocated PID
// before boards ship. The udev rule driver/udev/70-kelvin.rules must match these values.
inline constexpr std::uint16_t kUsbVendorId = 0x1209;
inline constexpr std::uint16_t kUsbProductId = 0xAC01;
inline constexpr std::uint8_t kUsbInterface = 0;
inline constexpr std::uint8_t kUsbEndpointOut = 0x01;
inline constexpr std::uint8_t kUsbEndpointIn = 0x81;

// Where the udev rule lives in the source tree and where it must be installed; quoted by the
// permission-denied error.
inline constexpr const char* kUdevRuleSource = "driver/udev/70-kelvin.rules";
inline constexpr const char* kUdevRuleInstallPath = "/etc/udev/rules.d/70-kelvin.rules";

struct UsbTransportOptions {
  // Bulk IN transfers kept in flight, 8 to 32. Default 8.
  std::uint32_t transfers_in_flight = 8;
  // Size of each bulk IN transfer, a multiple of 512 from 512 B to 1 MiB. Default 16 KiB.
  std::uint32_t transfer_size = 16 * 1024;
  // Bytes the host queue holds before IN transfers are parked; at least one transfer. Default
  // 4 MiB.
  std::size_t queue_limit = 4 * 1024 * 1024;

  // Throws Error(kInvalidArgument) naming the bad field.
  void validate() const;
};

// Counters since open(), for probes and tests.
struct UsbTransferStats {
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  std::uint64_t in_transfers_completed = 0;
  std::uint64_t out_transfers_completed = 0;
  std::uint64_t transfer_errors = 0;       // transfers that ended in an error status
  std::uint64_t parked_transfers = 0;      // IN completions not resubmitted at once (queue full)
  std::uint64_t bytes_dropped = 0;         // always 0: back-pressure parks transfers instead
  std::uint32_t in_transfers_pending = 0;  // IN transfers in flight now
};

// Selects one board: by serial number, or by bus number and device address, or (all empty) the
// first kelvin board found.
struct UsbSelector {
  std::optional<std::string> serial;
  std::optional<std::uint8_t> bus;
  std::optional<std::uint8_t> address;
};

struct UsbBoardInfo {
  std::uint8_t bus = 0;
  std::uint8_t address = 0;
  // Empty when the board could not be opened to read it (see serial_error).
  std::string serial;
  std::string serial_error;
};

// The kelvin boards attached now. Throws Error if libusb cannot start.
std::vector<UsbBoardInfo> list_usb_boards();

class UsbTransport final : public Transport {
 public:
  // Opens the selected board and claims its interface. Throws Error(kNotFound) if no attached
  // board matches, Error(kPermissionDenied) with the fix when the OS refuses access, and
  // Error(kInvalidArgument) for bad options.
  static std::unique_ptr<UsbTransport> open(const UsbSelector& selector,
                                            const UsbTransportOptions& options = {});

  ~UsbTransport() override;
  UsbTransport(const UsbTransport&) = delete;
  UsbTransport& operator=(const UsbTransport&) = delete;

  void write(std::span<const std::uint8_t> bytes, common::Deadline deadline) override;
  std::size_t read_some(std::span<std::uint8_t> out, common::Deadline deadline) override;
  void close() noexcept override;
  bool is_open() const noexcept override;
  std::string describe() const override;

  UsbTransferStats stats() const;
  // The board's serial number, bus and address as opened.
  const UsbBoardInfo& board() const noexcept;

  struct Impl;

 private:
  explicit UsbTransport(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kelvin::driver::usb
