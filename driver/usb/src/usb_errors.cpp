#include "usb_errors.hpp"

#include <fmt/format.h>
#include <libusb-1.0/libusb.h>

#include "kelvin/driver/usb/usb_transport.hpp"

namespace kelvin::driver::usb {

using common::Error;
using common::ErrorKind;

ErrorKind kind_of_libusb_error(int code) noexcept {
  switch (code) {
    case LIBUSB_ERROR_ACCESS:
    case LIBUSB_ERROR_BUSY:
      return ErrorKind::kPermissionDenied;
    case LIBUSB_ERROR_NO_DEVICE:
      return ErrorKind::kDisconnected;
    case LIBUSB_ERROR_NOT_FOUND:
      return ErrorKind::kNotFound;
    case LIBUSB_ERROR_TIMEOUT:
      return ErrorKind::kTimeout;
    case LIBUSB_ERROR_INVALID_PARAM:
      return ErrorKind::kInvalidArgument;
    case LIBUSB_ERROR_NOT_SUPPORTED:
      return ErrorKind::kNotSupported;
    default:
      return ErrorKind::kDisconnected;
  }
}

std::string permission_fix() {
  return fmt::format(
      "this user may not open kelvin boards (VID:PID {:04x}:{:04x}). Install the udev rule "
      "from the kelvin sources and reload udev, then unplug and replug the board:\n"
      "  sudo cp {} {}\n"
      "  sudo udevadm control --reload\n"
      "The rule gives the logged-in user access (TAG+=\"uaccess\"); on a headless machine add "
      "GROUP=\"plugdev\" to it and join that group",
      kUsbVendorId, kUsbProductId, kUdevRuleSource, kUdevRuleInstallPath);
}

Error libusb_failure(int code, const std::string& what) {
  const ErrorKind kind = kind_of_libusb_error(code);
  std::string message = fmt::format("{}: {}", what, libusb_strerror(code));
  if (code == LIBUSB_ERROR_ACCESS)
    message += "; " + permission_fix();
  if (code == LIBUSB_ERROR_BUSY)
    message += "; another program has claimed the board (close it, or check `lsof /dev/bus/usb`)";
  return Error(kind, message);
}

}  // namespace kelvin::driver::usb
