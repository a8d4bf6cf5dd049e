// The targets of the conformance suite: each serves the same emulated board (4 cells, seed 21)
// through a different path and hands out its URI:
//   sim   the board in this process (the reference)
//   tcp   a board server (kelvin_tools_kelvind) on 127.0.0.1, started by the target
//   unix  the same server on a Unix-domain socket
//   usb   the board behind an emulated USB device (umockdev), reached through real libusb; only
//         in builds with umockdev, and the test process must run under its preload library
// A target this build cannot provide is skipped, never silently passed.
//
// Thread contract: a Target is used by one test at a time.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "kelvin/tools/kelvind/board_server.hpp"
#ifdef KELVIN_CONFORMANCE_USB
#include "kelvin/sim_backend/usb/emulated_usb_board.hpp"
#endif

namespace kelvin::conformance {

// The board as the in-process emulator serves it: the reference for bit-for-bit comparisons.
inline constexpr const char* kReferenceUri = "sim:resonator?cells=4&seed=21&serial=KLV-CONFORMANCE";

enum class TargetKind { kSim, kTcp, kUnix, kUsb };

inline const char* to_string(TargetKind kind) {
  switch (kind) {
    case TargetKind::kSim:
      return "sim";
    case TargetKind::kTcp:
      return "tcp";
    case TargetKind::kUnix:
      return "unix";
    case TargetKind::kUsb:
      return "usb";
  }
  return "unknown";
}

class Target {
 public:
  virtual ~Target() = default;
  virtual std::string uri() const = 0;
};

class SimTarget final : public Target {
 public:
  std::string uri() const override { return kReferenceUri; }
};

// A board server serving the reference board, on its own thread for the life of the target.
class ServerTarget final : public Target {
 public:
  explicit ServerTarget(const std::string& listen) : server_(options(listen)) { server_.start(); }
  std::string uri() const override { return server_.listening_address(); }

 private:
  static tools::kelvind::ServerOptions options(const std::string& listen) {
    tools::kelvind::ServerOptions o;
    o.listen = listen;
    o.devices = {kReferenceUri};
    return o;
  }
  tools::kelvind::BoardServer server_;
};

inline std::string unix_socket_path() {
  static int counter = 0;
  return (std::filesystem::temp_directory_path() /
          ("kelvin-conformance-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) +
           ".sock"))
      .string();
}

#ifdef KELVIN_CONFORMANCE_USB
class UsbTarget final : public Target {
 public:
  UsbTarget() : board_(options()) {}
  std::string uri() const override { return "usb:serial=" + board_.serial(); }

 private:
  static sim_backend::usb::EmulatedUsbBoardOptions options() {
    sim_backend::usb::EmulatedUsbBoardOptions o;
    o.serial = "KLV-CONFORMANCE";  // as kReferenceUri
    o.firmware.cells = 4;
    o.firmware.seed = 21;
    return o;
  }
  sim_backend::usb::EmulatedUsbBoard board_;
};
#endif

inline std::vector<TargetKind> all_targets() {
  return {TargetKind::kSim, TargetKind::kTcp, TargetKind::kUnix, TargetKind::kUsb};
}

inline std::unique_ptr<Target> make_target(TargetKind kind) {
  switch (kind) {
    case TargetKind::kSim:
      return std::make_unique<SimTarget>();
    case TargetKind::kTcp:
      return std::make_unique<ServerTarget>("tcp:127.0.0.1:0");
    case TargetKind::kUnix:
      return std::make_unique<ServerTarget>("unix:" + unix_socket_path());
    case TargetKind::kUsb:
#ifdef KELVIN_CONFORMANCE_USB
      return std::make_unique<UsbTarget>();
#else
      return nullptr;
#endif
  }
  return nullptr;
}

}  // namespace kelvin::conformance
