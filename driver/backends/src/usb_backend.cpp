#include "usb_backend.hpp"

#include <cstdint>
#include <string>

#include <fmt/format.h>

#include "kelvin/common/error.hpp"
#include "kelvin/common/logging.hpp"
#include "kelvin/driver/usb/usb_transport.hpp"

namespace kelvin::driver::backends {

using common::Error;
using common::ErrorKind;
using usb::list_usb_boards;
using usb::UsbBoardInfo;
using usb::UsbSelector;
using usb::UsbTransport;
using usb::UsbTransportOptions;
namespace {

// serial, bus and address are keys of the target (usb:serial=ABC, usb:bus=1&address=2), so that
// the address names the board the way `kelvin find` lists it; the query tunes the transport.
const UriParameterTable& usb_table() {
  static const UriParameterTable table = [] {
    const UsbTransportOptions defaults;
    return UriParameterTable{
        "usb",
        "[serial=SERIAL|bus=BUS&address=ADDRESS]",
        fmt::format("a kelvin board on USB, VID:PID {:04x}:{:04x} (no target: the first found)",
                    usb::kUsbVendorId, usb::kUsbProductId),
        {UriParameter::text("serial", std::string(kNoDefault), "the board with this serial number")
             .in_target(),
         UriParameter::unsigned_integer("bus", 1, 255, std::string(kNoDefault),
                                        "the board on this USB bus (changes on replug)")
             .in_target(),
         UriParameter::unsigned_integer("address", 1, 255, std::string(kNoDefault),
                                        "the board at this device address on its bus")
             .in_target(),
         UriParameter::unsigned_integer("transfers", 8, 32,
                                        std::to_string(defaults.transfers_in_flight),
                                        "bulk IN transfers kept in flight")}};
  }();
  return table;
}

UsbSelector selector_of(const DeviceAddress& address) {
  const UriParameterTable& table = usb_table();
  table.validate(address);
  UsbSelector selector;
  selector.serial = table.get_text(address, "serial");
  if (selector.serial && selector.serial->empty()) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("bad device address '{}': serial is empty (expected {})",
                            address.to_string(), table.synopsis()));
  }
  if (const auto bus = table.find_uint(address, "bus"))
    selector.bus = static_cast<std::uint8_t>(*bus);
  if (const auto position = table.find_uint(address, "address"))
    selector.address = static_cast<std::uint8_t>(*position);
  return selector;
}

UsbTransportOptions options_of(const DeviceAddress& address) {
  UsbTransportOptions options;
  options.transfers_in_flight =
      static_cast<std::uint32_t>(usb_table().get_uint(address, "transfers"));
  return options;
}

bool matches(const UsbSelector& selector, const UsbBoardInfo& board) {
  return (!selector.serial || *selector.serial == board.serial) &&
         (!selector.bus || *selector.bus == board.bus) &&
         (!selector.address || *selector.address == board.address);
}

// The address find() reports: by serial when the board has one (stable across replugs), else by
// bus position.
DeviceAddress address_of(const UsbBoardInfo& board) {
  if (!board.serial.empty())
    return DeviceAddress{"usb", "serial=" + board.serial, {}};
  return DeviceAddress{"usb", fmt::format("bus={}&address={}", board.bus, board.address), {}};
}

std::vector<DeviceAddress> find(const DeviceAddress& hint) {
  const UsbSelector selector = selector_of(hint);
  std::vector<UsbBoardInfo> boards;
  try {
    boards = list_usb_boards();
  } catch (const Error& e) {
    // A machine without USB support (no usbfs) simply has no USB boards; find() over all
    // schemes must still list the others.
    common::logger("kelvin.usb")->debug("no USB boards listed: {}", e.what());
    return {};
  }
  std::vector<DeviceAddress> found;
  for (const auto& board : boards) {
    if (!board.serial_error.empty()) {
      common::logger("kelvin.usb")
          ->warn("kelvin board on bus {} address {}: {}", board.bus, board.address,
                 board.serial_error);
    }
    if (matches(selector, board))
      found.push_back(address_of(board));
  }
  return found;
}

std::unique_ptr<Transport> connect(const DeviceAddress& address) {
  const UsbSelector selector = selector_of(address);
  const UsbTransportOptions options = options_of(address);
  try {
    return UsbTransport::open(selector, options);
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::kNotSupported) {
      throw Error(ErrorKind::kNotFound,
                  fmt::format("cannot open '{}': {}", address.to_string(), e.what()));
    }
    throw;
  }
}

}  // namespace

Backend make_usb_backend() {
  return Backend{"usb",
                 fmt::format("kelvin boards on USB, VID:PID {:04x}:{:04x} ({})", usb::kUsbVendorId,
                             usb::kUsbProductId, usb_table().synopsis()),
                 find,
                 connect,
                 {usb_table()}};
}

}  // namespace kelvin::driver::backends
