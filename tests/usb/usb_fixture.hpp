// Test fixture: an emulated resonator board on an emulated USB bus (umockdev), created before
// anything in the test touches libusb and destroyed after it (members are destroyed in reverse
// order, so declare transports and devices in the test body, never as earlier members).
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "kelvin/sim_backend/usb/emulated_usb_board.hpp"

namespace kelvin::driver::testing {

inline constexpr const char* kSerial = "KLV-EMU-0001";

inline sim_backend::usb::EmulatedUsbBoardOptions emulated_board_options() {
  sim_backend::usb::EmulatedUsbBoardOptions options;
  options.serial = kSerial;
  options.firmware.cells = 4;
  options.firmware.seed = 5;
  return options;
}

// The same board in process, for bit-for-bit comparisons.
inline std::string same_board_in_process() {
  return std::string("sim:resonator?cells=4&seed=5&serial=") + kSerial;
}

// Polls a condition that has no notification to wait on (the emulated bus's state as libusb's
// hotplug thread sees it) until it holds or the budget runs out.
inline bool eventually(const std::function<bool()>& condition,
                       std::chrono::milliseconds budget = std::chrono::seconds(5)) {
  const auto until = std::chrono::steady_clock::now() + budget;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= until)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

class UsbBoardTest : public ::testing::Test {
 protected:
  sim_backend::usb::EmulatedUsbBoard board_{emulated_board_options()};
};

}  // namespace kelvin::driver::testing
