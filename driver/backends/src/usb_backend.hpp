// The "usb" scheme: kelvin boards on USB through libusb (kelvin::driver::UsbTransport).
//   usb:serial=ABC            the board with this serial number
//   usb:bus=1&address=2       the board at this bus position (changes on replug)
//   usb:                      the first kelvin board found
// Query parameters tune the transport: ?transfers=8..32 (IN transfers in flight, default 8).
// The target keys and the query parameters are one UriParameterTable (the backend's uri_tables),
// from which both the parser and the help are made.
//
// Thread contract: make_*_backend() may be called from any thread. The Backend's find() and
// connect() may run concurrently, as Registry allows: each call opens its own transport, and the
// parameter tables are built once (function-local statics) and only read afterwards.
#pragma once

#include "kelvin/driver/registry.hpp"

namespace kelvin::driver::backends {

Backend make_usb_backend();

}  // namespace kelvin::driver::backends
