#include "usb_backend.hpp"

#include <charconv>
#include <map>
#include <set>

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

[[noreturn]] void bad(const DeviceAddress& address, const std::string& why) {
  throw Error(ErrorKind::kInvalidArgument, fmt::format("bad device address '{}': {} (expected {})",
                                                       address.to_string(), why, kUsbUriHelp));
}

// The target "serial=ABC" or "bus=1&address=2" as key/value pairs.
std::map<std::string, std::string> target_pairs(const DeviceAddress& address) {
  std::map<std::string, std::string> pairs;
  std::string_view rest = address.target;
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    if (pair.empty())
      continue;
    const auto eq = pair.find('=');
    if (eq == std::string_view::npos || eq == 0)
      bad(address, fmt::format("'{}' is not key=value", pair));
    const std::string key(pair.substr(0, eq));
    if (key != "serial" && key != "bus" && key != "address")
      bad(address, fmt::format("unknown key '{}' (known: serial, bus, address)", key));
    if (!pairs.emplace(key, std::string(pair.substr(eq + 1))).second)
      bad(address, fmt::format("'{}' given twice", key));
  }
  return pairs;
}

std::uint8_t parse_byte(const DeviceAddress& address, const std::string& key,
                        const std::string& text, unsigned min) {
  unsigned value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || ptr != text.data() + text.size() || value < min ||
      value > 255) {
    bad(address, fmt::format("{}={} must be an integer in [{}, 255]", key, text, min));
  }
  return static_cast<std::uint8_t>(value);
}

UsbSelector selector_of(const DeviceAddress& address) {
  UsbSelector selector;
  for (const auto& [key, value] : target_pairs(address)) {
    if (key == "serial") {
      if (value.empty())
        bad(address, "serial is empty");
      selector.serial = value;
    } else if (key == "bus") {
      selector.bus = parse_byte(address, key, value, 1);
    } else {
      selector.address = parse_byte(address, key, value, 1);
    }
  }
  return selector;
}

UsbTransportOptions options_of(const DeviceAddress& address) {
  for (const auto& [key, value] : address.params) {
    if (key != "transfers")
      bad(address, fmt::format("unknown parameter '{}' (known: transfers)", key));
  }
  UsbTransportOptions options;
  options.transfers_in_flight =
      static_cast<std::uint32_t>(address.get_uint("transfers", options.transfers_in_flight, 8, 32));
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
                             usb::kUsbProductId, kUsbUriHelp),
                 find, connect};
}

}  // namespace kelvin::driver::backends
