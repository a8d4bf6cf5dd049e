// The registry with every built-in backend, and the one-line way to open a device by URI:
//   auto device = kelvin::driver::backends::open("sim:resonator?cells=8&seed=1");
// Built-in schemes: "sim" (emulated boards, in process), "tcp" and "unix" (boards served by
// kelvind: tcp:HOST:PORT or unix:/path, with ?board=N&token_file=PATH; the token otherwise comes
// from the environment variable KELVIN_TOKEN; see docs/remote-boards.md) and "usb" (boards on
// USB through libusb: usb:serial=ABC, usb:bus=1&address=2, or usb: for the first; docs/usb.md).
//
// The backends live apart from the driver core (kelvin_driver) so that the core does not depend
// on the emulator: kelvin_driver_backends links both.
//
// Thread contract: builtin_registry() is created once, thread-safely, on first use; open() and
// find() may be called from any thread.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "kelvin/driver/registry.hpp"

namespace kelvin::driver::backends {

const Registry& builtin_registry();

std::unique_ptr<Device> open(std::string_view uri, const OpenOptions& options = {});
std::vector<DeviceAddress> find(std::string_view filter = {});

// The emulated boards' URI parameters, for help texts:
//   sim:resonator?cells=N&seed=S&serial=TEXT&couplings=K&imperfections=I&ring=R
//       cells 1..256 (default 8), seed (default 1), couplings signed|capacitive (default
//       signed), imperfections ideal|typical (default ideal: no flaws; typical: the serial's
//       flaws drawn from +-1% component spreads), ring: stream ring buffer in samples (default
//       4 MiB of codes)
//   sim:pbit?rows=R&cols=C&degree=D&seed=S&serial=TEXT   rows, cols 1..256 (default 70),
//                                                       degree 8, 12 or 16 (default 12)
//   either board with &fault=drop:1e-3,delay:2ms,...: an emulated faulty link
//       (sim-backend/include/kelvin/sim_backend/fault_injection.hpp lists the faults)
inline constexpr std::string_view kSimUriHelp =
    "sim:resonator?cells=N&seed=S&serial=TEXT&couplings=signed|capacitive&imperfections="
    "ideal|typical&ring=SAMPLES (cells 1..256, default 8; seed default 1; couplings default "
    "signed; imperfections default ideal; ring default 4 MiB of codes)\n  "
    "sim:pbit?rows=R&cols=C&degree=D&seed=S&serial=TEXT (rows, cols 1..256, default 70; degree "
    "8, 12 or 16, default 12; seed default 1)\n  "
    "either with &fault=drop:P,corrupt:P,duplicate:P,reorder:P,delay:D,stall:D@T,"
    "disconnect:T,overflow:P (an emulated faulty link; D and T in us, ms or s)";

}  // namespace kelvin::driver::backends
