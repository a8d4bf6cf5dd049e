// An emulated kelvin board on an emulated USB bus, for tests of the real libusb transport.
//
// umockdev (https://github.com/martinpitt/umockdev) redirects /sys, /dev and the udev netlink
// socket of this process into a temporary testbed, so libusb enumerates a device that exists
// only here; every ioctl on its usbfs node is answered by this class's handler, which speaks
// usbdevfs (URB submit/reap/discard, control transfers for string descriptors) and feeds the
// bulk OUT bytes to the emulated firmware (sim_backend::make_resonator_firmware), whose replies
// complete the pending bulk IN URBs. The firmware runs on its own thread, as in the in-process
// transport.
//
// Requirements: the process runs with LD_PRELOAD=libumockdev-preload.so.0, and the board (the
// testbed) is created BEFORE libusb is initialized (libusb enumerates in libusb_init) and
// destroyed only after every libusb user has gone. One EmulatedUsbBoard per process at a time.
//
// Thread contract: plug(), unplug() and stats() may be called from any thread; the usbdevfs
// handler runs on umockdev's worker thread and shares state with them under a mutex. The
// destructor never throws.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "kelvin/sim_backend/fault_injection.hpp"
#include "kelvin/sim_backend/resonator_config.hpp"

namespace kelvin::sim_backend::usb {

struct EmulatedUsbBoardOptions {
  // Reported in the USB serial number string descriptor (index 3).
  std::string serial = "KLV-EMU-0001";
  // Firmware behind the bulk endpoints; its own serial is set to `serial` as well.
  ResonatorConfig firmware;
  // An emulated faulty link between the firmware and the bulk IN endpoint (fault_injection.hpp;
  // seeded by firmware.seed), as `fault=` gives an in-process board. Default: none. A scheduled
  // disconnect hangs the board (it stops answering) rather than unplugging it.
  FaultSpec faults;
  // Delay before answering "no URB to reap" (EAGAIN). The usbfs node is a regular file under
  // umockdev, so poll() always reports it ready and libusb's event loop would spin on reaps; a
  // millisecond keeps a waiting test from burning a core (poll(2): regular files always poll
  // ready).
  std::uint32_t idle_reap_delay_us = 1000;
};

struct EmulatedUsbStats {
  std::uint64_t urbs_submitted = 0;
  std::uint64_t bytes_out = 0;  // bulk OUT bytes given to the firmware
  std::uint64_t bytes_in = 0;   // bulk IN bytes delivered to the host
  std::uint32_t in_urbs_pending = 0;
  std::uint32_t max_in_urbs_pending = 0;  // most bulk IN URBs the host had queued at once
  std::uint64_t discarded_urbs = 0;
  std::uint64_t control_transfers = 0;
};

class EmulatedUsbBoard {
 public:
  // Creates the testbed and plugs the board in (bus 1, address 2). Throws std::runtime_error if
  // umockdev is not active (no LD_PRELOAD) or the device cannot be added.
  explicit EmulatedUsbBoard(EmulatedUsbBoardOptions options = {});
  ~EmulatedUsbBoard();
  EmulatedUsbBoard(const EmulatedUsbBoard&) = delete;
  EmulatedUsbBoard& operator=(const EmulatedUsbBoard&) = delete;

  // How unplug() behaves towards URBs the host has queued.
  enum class Unplug {
    // As the kernel does: every pending URB completes with -ENODEV at once.
    kCompleteUrbs,
    // Pending URBs stay pending (until discarded); only udev's "remove" tells the host. This
    // isolates the host's hotplug path from its transfer-status path.
    kAnnounceOnly,
  };

  // Cuts the cable: later ioctls fail with ENODEV, the firmware is powered off and udev
  // announces "remove". No-op when already unplugged.
  void unplug(Unplug style = Unplug::kCompleteUrbs);
  // Plugs the board back in with freshly powered-up firmware ("add" uevent). No-op when plugged.
  void plug();
  bool plugged() const;

  EmulatedUsbStats stats() const;
  const std::string& serial() const noexcept;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace kelvin::sim_backend::usb
