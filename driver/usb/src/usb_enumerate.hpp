// Finding kelvin boards on the bus: VID:PID match, then bus/address and the serial number string
// descriptor (read by opening the board).
//
// Thread contract: free functions, callable from any thread.
#pragma once

#include <vector>

#include <libusb-1.0/libusb.h>

#include "kelvin/driver/usb/usb_transport.hpp"
#include "usb_context.hpp"

namespace kelvin::driver::usb {

std::vector<UsbBoardInfo> enumerate_boards(UsbContext& context);

struct OpenedBoard {
  libusb_device_handle* handle = nullptr;  // owned by the caller (libusb_close)
  UsbBoardInfo info;
};

// Opens the first board the selector matches. Throws Error(kNotFound) listing the boards seen,
// or the libusb failure (Error(kPermissionDenied) with the fix for LIBUSB_ERROR_ACCESS).
OpenedBoard open_board(UsbContext& context, const UsbSelector& selector);

}  // namespace kelvin::driver::usb
