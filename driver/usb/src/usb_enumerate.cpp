#include "usb_enumerate.hpp"

#include <memory>
#include <string>

#include <fmt/format.h>

#include "kelvin/common/error.hpp"
#include "kelvin/common/logging.hpp"
#include "usb_errors.hpp"

namespace kelvin::driver::usb {

using common::Error;
using common::ErrorKind;
namespace {

struct DeviceList {
  libusb_device** devices = nullptr;
  ssize_t count = 0;
  ~DeviceList() {
    if (devices != nullptr)
      libusb_free_device_list(devices, 1);
  }
};

bool is_kelvin_board(libusb_device* device, libusb_device_descriptor& desc) {
  return libusb_get_device_descriptor(device, &desc) == LIBUSB_SUCCESS &&
         desc.idVendor == kUsbVendorId && desc.idProduct == kUsbProductId;
}

// The serial string, or throws the libusb failure.
std::string read_serial(libusb_device_handle* handle, const libusb_device_descriptor& desc) {
  if (desc.iSerialNumber == 0)
    return {};
  unsigned char text[256] = {};
  const int n = libusb_get_string_descriptor_ascii(handle, desc.iSerialNumber, text, sizeof text);
  if (n < 0)
    throw libusb_failure(n, "cannot read the board's serial number");
  return std::string(reinterpret_cast<const char*>(text), static_cast<std::size_t>(n));
}

bool position_matches(const UsbSelector& selector, const UsbBoardInfo& info) {
  return (!selector.bus || *selector.bus == info.bus) &&
         (!selector.address || *selector.address == info.address);
}

std::string describe(const UsbBoardInfo& info) {
  return fmt::format("bus {} address {} serial '{}'", info.bus, info.address, info.serial);
}

}  // namespace

std::vector<UsbBoardInfo> enumerate_boards(UsbContext& context) {
  DeviceList list;
  list.count = libusb_get_device_list(context.raw(), &list.devices);
  if (list.count < 0)
    throw libusb_failure(static_cast<int>(list.count), "cannot list USB devices");
  std::vector<UsbBoardInfo> boards;
  for (ssize_t i = 0; i < list.count; ++i) {
    libusb_device_descriptor desc{};
    if (!is_kelvin_board(list.devices[i], desc))
      continue;
    UsbBoardInfo info;
    info.bus = libusb_get_bus_number(list.devices[i]);
    info.address = libusb_get_device_address(list.devices[i]);
    libusb_device_handle* handle = nullptr;
    const int rc = libusb_open(list.devices[i], &handle);
    if (rc != LIBUSB_SUCCESS) {
      info.serial_error = libusb_failure(rc, "cannot open the board").what();
    } else {
      try {
        info.serial = read_serial(handle, desc);
      } catch (const Error& e) {
        info.serial_error = e.what();
      }
      libusb_close(handle);
    }
    boards.push_back(std::move(info));
  }
  return boards;
}

OpenedBoard open_board(UsbContext& context, const UsbSelector& selector) {
  DeviceList list;
  list.count = libusb_get_device_list(context.raw(), &list.devices);
  if (list.count < 0)
    throw libusb_failure(static_cast<int>(list.count), "cannot list USB devices");
  std::vector<std::string> seen;
  for (ssize_t i = 0; i < list.count; ++i) {
    libusb_device_descriptor desc{};
    if (!is_kelvin_board(list.devices[i], desc))
      continue;
    OpenedBoard board;
    board.info.bus = libusb_get_bus_number(list.devices[i]);
    board.info.address = libusb_get_device_address(list.devices[i]);
    if (!position_matches(selector, board.info)) {
      seen.push_back(fmt::format("bus {} address {}", board.info.bus, board.info.address));
      continue;
    }
    const int rc = libusb_open(list.devices[i], &board.handle);
    if (rc != LIBUSB_SUCCESS) {
      throw libusb_failure(rc, fmt::format("cannot open the kelvin board on bus {} address {}",
                                           board.info.bus, board.info.address));
    }
    try {
      board.info.serial = read_serial(board.handle, desc);
    } catch (...) {
      libusb_close(board.handle);
      throw;
    }
    if (selector.serial && *selector.serial != board.info.serial) {
      seen.push_back(describe(board.info));
      libusb_close(board.handle);
      continue;
    }
    return board;
  }
  const std::string wanted =
      fmt::format("{}{}{}", selector.serial ? "serial '" + *selector.serial + "' " : "",
                  selector.bus ? fmt::format("bus {} ", *selector.bus) : "",
                  selector.address ? fmt::format("address {} ", *selector.address) : "");
  throw Error(ErrorKind::kNotFound,
              fmt::format("no kelvin USB board ({:04x}:{:04x}) {}is attached{}", kUsbVendorId,
                          kUsbProductId, wanted.empty() ? "" : "with " + wanted,
                          seen.empty() ? "" : fmt::format(" (found: {})", fmt::join(seen, "; "))));
}

}  // namespace kelvin::driver::usb
