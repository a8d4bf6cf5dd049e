// libusb error codes and transfer statuses as driver Errors, with messages a user can act on.
//
// Thread contract: pure functions.
#pragma once

#include <string>

#include "kelvin/common/error.hpp"

namespace kelvin::driver::usb {

// The ErrorKind for a libusb_error code: ACCESS -> kPermissionDenied, NO_DEVICE ->
// kDisconnected, NOT_FOUND -> kNotFound, TIMEOUT -> kTimeout, BUSY -> kPermissionDenied (another
// program holds the interface), anything else -> kDisconnected (the link is unusable).
common::ErrorKind kind_of_libusb_error(int code) noexcept;

// Error(kind_of_libusb_error(code)) whose message is "<what>: <libusb's text>", plus the fix
// for permission problems: install the udev rule, reload udev and replug.
common::Error libusb_failure(int code, const std::string& what);

// The explanation appended to permission errors.
std::string permission_fix();

}  // namespace kelvin::driver::usb
