// The targets of the conformance suite: each serves the same emulated board (4 cells, seed 21)
// through a different path and hands out its URI:
//   sim   the board in this process (the reference)
//   tcp   a board server (kelvin_tools_kelvind) on 127.0.0.1, started by the target
//   unix  the same server on a Unix-domain socket
//   usb   the board behind an emulated USB device (umockdev), reached through real libusb; only
//         in builds with umockdev, and the test process must run under its preload library
// A target this build cannot provide is skipped, never silently passed.
//
// Each target can also put an emulated faulty link (sim_backend/fault_injection.hpp, `fault=` of
// docs/streaming.md) on the board's replies: in process, the board's own link; for tcp and
// unix, the link between kelvind and its board, whose damaged frames kelvind relays as they
// are; for usb, the link between the firmware and the bulk IN endpoint.
//
// Thread contract: a Target is used by one test at a time.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "kelvin/sim_backend/fault_injection.hpp"
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

// The reference board's URI behind a faulty link (`fault` empty: a clean one).
inline std::string reference_uri(const std::string& fault) {
  return fault.empty() ? std::string(kReferenceUri)
                       : std::string(kReferenceUri) + "&fault=" + fault;
}

class SimTarget final : public Target {
 public:
  explicit SimTarget(std::string fault = {}) : fault_(std::move(fault)) {}
  std::string uri() const override { return reference_uri(fault_); }

 private:
  std::string fault_;
};

// A board server serving the reference board, on its own thread for the life of the target.
class ServerTarget final : public Target {
 public:
  explicit ServerTarget(const std::string& listen, const std::string& fault = {})
      : server_(options(listen, fault)) {
    server_.start();
  }
  std::string uri() const override { return server_.listening_address(); }

 private:
  static tools::kelvind::ServerOptions options(const std::string& listen,
                                               const std::string& fault) {
    tools::kelvind::ServerOptions o;
    o.listen = listen;
    o.devices = {reference_uri(fault)};
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
  explicit UsbTarget(const std::string& fault = {}) : board_(options(fault)) {}
  std::string uri() const override { return "usb:serial=" + board_.serial(); }

 private:
  static sim_backend::usb::EmulatedUsbBoardOptions options(const std::string& fault) {
    sim_backend::usb::EmulatedUsbBoardOptions o;
    o.serial = "KLV-CONFORMANCE";  // as kReferenceUri
    o.firmware.cells = 4;
    o.firmware.seed = 21;
    o.faults = sim_backend::parse_fault_spec(fault);
    return o;
  }
  sim_backend::usb::EmulatedUsbBoard board_;
};
#endif

inline std::vector<TargetKind> all_targets() {
  return {TargetKind::kSim, TargetKind::kTcp, TargetKind::kUnix, TargetKind::kUsb};
}

// The target, with its board's replies behind a faulty link `fault` (empty: a clean link); null
// when this build cannot provide it.
inline std::unique_ptr<Target> make_target(TargetKind kind, const std::string& fault = {}) {
  switch (kind) {
    case TargetKind::kSim:
      return std::make_unique<SimTarget>(fault);
    case TargetKind::kTcp:
      return std::make_unique<ServerTarget>("tcp:127.0.0.1:0", fault);
    case TargetKind::kUnix:
      return std::make_unique<ServerTarget>("unix:" + unix_socket_path(), fault);
    case TargetKind::kUsb:
#ifdef KELVIN_CONFORMANCE_USB
      return std::make_unique<UsbTarget>(fault);
#else
      return nullptr;
#endif
  }
  return nullptr;
}

}  // namespace kelvin::conformance
