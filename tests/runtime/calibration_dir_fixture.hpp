// Shared by the calibration file tests: a calibration directory of the test's own, set as
// KELVIN_CALIBRATION_DIR while the test runs (KELVIN_CALIBRATION_DIR, XDG_DATA_HOME and HOME are
// restored afterwards), and the description of a board by serial and cell count.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "kelvin/driver/device_description.hpp"

namespace kelvin::runtime::calibration {

inline driver::DeviceDescription board_of(const std::string& serial, std::uint32_t cells) {
  driver::DeviceDescription d;
  d.serial = serial;
  d.cells = cells;
  return d;
}

// dir_ is not created: a test that needs it there creates it.
class CalibrationDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           ("kelvin-calibration-" + std::to_string(::getpid()) + "-" + info->test_suite_name() +
            "-" + info->name());
    std::filesystem::remove_all(dir_);
    for (const char* name : {"KELVIN_CALIBRATION_DIR", "XDG_DATA_HOME", "HOME"}) {
      const char* v = std::getenv(name);
      saved_.emplace_back(name, v ? std::optional<std::string>(v) : std::nullopt);
    }
    ::setenv("KELVIN_CALIBRATION_DIR", dir_.c_str(), 1);
  }
  void TearDown() override {
    std::filesystem::remove_all(dir_);
    for (const auto& [name, value] : saved_) {
      if (value)
        ::setenv(name.c_str(), value->c_str(), 1);
      else
        ::unsetenv(name.c_str());
    }
  }

  std::filesystem::path dir_;

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

}  // namespace kelvin::runtime::calibration
