// The "usb" scheme: kelvin boards on USB through libusb (kelvin::driver::UsbTransport).
//   usb:serial=ABC            the board with this serial number
//   usb:bus=1&address=2       the board at this bus position (changes on replug)
//   usb:                      the first kelvin board found
// Query parameters tune the transport: ?transfers=8..32 (IN transfers in flight, default 8).
#pragma once

#include <string_view>

#include "kelvin/driver/registry.hpp"

namespace kelvin::driver::backends {

Backend make_usb_backend();

inline constexpr std::string_view kUsbUriHelp =
    "usb:serial=TEXT | usb:bus=B&address=A | usb: (first board), optional ?transfers=8..32";

}  // namespace kelvin::driver::backends
