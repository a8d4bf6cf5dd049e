// The registry with every built-in backend, and the one-line way to open a device by URI:
//   auto device = kelvin::driver::backends::open(kelvin::driver::backends::kDefaultResonatorUri);
// Built-in schemes: "sim" (emulated boards, in process), "tcp" and "unix" (boards served by
// kelvind: tcp:HOST:PORT or unix:/path, with ?board=N&token_file=PATH; the token otherwise comes
// from the environment variable KELVIN_TOKEN; see docs/remote-boards.md) and "usb" (boards on
// USB through libusb: usb:serial=ABC, usb:bus=1&address=2, or usb: for the first; docs/usb.md).
//
// The backends live apart from the driver core (kelvin_driver) so that the core does not depend
// on the emulator: kelvin_driver_backends links both.
//
// Thread contract: builtin_registry() is created once, thread-safely, on first use; open(),
// find() and uri_help() may be called from any thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kelvin/driver/registry.hpp"

namespace kelvin::driver::backends {

const Registry& builtin_registry();

std::unique_ptr<Device> open(std::string_view uri, const OpenOptions& options = {});
std::vector<DeviceAddress> find(std::string_view filter = {});

// The default devices: the first resonator board and the first p-bit board find() lists, and
// what the tools open when no address is given. String literals, so .data() is a C string.
// Their parameters spell out the sim tables' defaults (tests/driver/uri_parameters_test.cpp).
inline constexpr std::string_view kDefaultResonatorUri = "sim:resonator?cells=8&seed=1";
inline constexpr std::string_view kDefaultPbitUri = "sim:pbit?rows=70&cols=70&degree=12&seed=1";

// The URI parameters of every built-in scheme (empty), or of one ("sim", "tcp", "unix", "usb"):
// each address form with its parameters, their values, defaults and meanings, made from the
// tables the backends parse with (Registry::uri_help()). For help footers, every line after the
// first starts with two spaces, so the text reads as one block after a two-space indent:
//   fmt::format("Device addresses:\n  {}", uri_help())
// Throws Error(kNotFound) for an unknown scheme.
std::string uri_help(std::string_view scheme = {});

}  // namespace kelvin::driver::backends
