// Calibration files: a round trip keeps every value; the directory follows
// KELVIN_CALIBRATION_DIR / XDG_DATA_HOME / HOME; and every refusal names what is wrong: not
// JSON, a missing field, a newer format version, another board's serial or cell count. The
// automatic lookup finds nothing for a board without a file and applies none.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "calibration_dir_fixture.hpp"
#include "kelvin/common/error.hpp"
#include "kelvin/runtime/calibration/calibration_file.hpp"

namespace kelvin::runtime::calibration {
namespace {

namespace fs = std::filesystem;

BoardCalibration sample_calibration(const std::string& serial, std::uint32_t cells) {
  BoardCalibration c;
  c.serial = serial;
  c.id = serial + "-20261206T220000Z";
  c.date = "2026-12-06T22:00:00Z";
  c.conditions.cells = cells;
  c.conditions.firmware_version = "kelvin-sim 0.2.0";
  c.conditions.protocol_version = 6;
  c.conditions.imperfections = "typical";
  c.conditions.noise_code = 7;
  c.conditions.diffusion = 7.0 / 65536.0;
  c.conditions.sample_period_s = 1e-6;
  c.conditions.kelvin_version = "0.1.0";
  c.conditions.mean_samples = 1024;
  c.conditions.drift_samples = 2048;
  c.coupling_dac_gain = {1.0012, 1e-5};
  for (std::uint32_t i = 0; i < cells; ++i) {
    CellCalibration cell;
    cell.adc_offset_codes = {0.5 + i, 0.25};
    cell.readout_gain = {0.999 + 1e-4 * i, 2e-5};
    cell.adc_gain = {1.0 + 1e-4 * i, 2e-5};
    cell.capacitance = {1.0 - 1e-3 * i, 3e-3};
    cell.temperature = {1.01, 2e-3};
    c.cells.push_back(cell);
  }
  c.drift_programmed = Eigen::MatrixXd::Identity(cells, cells);
  c.drift = -1.001 * Eigen::MatrixXd::Identity(cells, cells);
  c.drift_standard_error = Eigen::MatrixXd::Constant(cells, cells, 1e-3);
  return c;
}

class CalibrationFile : public CalibrationDirTest {
 protected:
  void write_text(const fs::path& file, const std::string& text) {
    fs::create_directories(file.parent_path());
    std::ofstream(file) << text;
  }
  // The message of the refusal of `file` for board (serial, cells).
  std::string refusal(const fs::path& file, const std::string& serial, std::uint32_t cells) {
    try {
      resolve_calibration(CalibrationSelection::from_file(file), board_of(serial, cells));
    } catch (const common::Error& e) {
      EXPECT_EQ(e.kind(), common::ErrorKind::kInvalidArgument);
      return e.what();
    }
    ADD_FAILURE() << "no refusal";
    return {};
  }
};

TEST_F(CalibrationFile, RoundTripKeepsEveryValue) {
  const BoardCalibration c = sample_calibration("SIM-RES-4-1", 4);
  const fs::path file = calibration_path(c.serial);
  EXPECT_EQ(file, dir_ / "SIM-RES-4-1.json");
  write_calibration(c, file);
  const BoardCalibration back = read_calibration(file);
  EXPECT_EQ(to_json(back), to_json(c));
  EXPECT_EQ(back.id, c.id);
  EXPECT_EQ(back.cells[3].adc_offset_codes.value, 3.5);
  EXPECT_EQ(back.conditions.noise_code, 7u);
}

TEST_F(CalibrationFile, AutomaticLookupFindsTheBoardsFileByItsSerial) {
  const BoardCalibration c = sample_calibration("SIM-RES-4-1", 4);
  write_calibration(c, calibration_path(c.serial));
  const AppliedCalibration found =
      resolve_calibration(CalibrationSelection::automatic(), board_of("SIM-RES-4-1", 4));
  ASSERT_TRUE(found.applied());
  EXPECT_EQ(found.id(), c.id);
  EXPECT_EQ(found.file, dir_ / "SIM-RES-4-1.json");
  const AppliedCalibration other =
      resolve_calibration(CalibrationSelection::automatic(), board_of("SIM-RES-4-2", 4));
  EXPECT_FALSE(other.applied());
  EXPECT_EQ(other.id(), "none");
  const AppliedCalibration none =
      resolve_calibration(CalibrationSelection::none(), board_of("SIM-RES-4-1", 4));
  EXPECT_FALSE(none.applied());
}

TEST_F(CalibrationFile, DirectoryFollowsTheEnvironment) {
  ::unsetenv("KELVIN_CALIBRATION_DIR");
  ::setenv("XDG_DATA_HOME", "/xdg", 1);
  EXPECT_EQ(calibration_directory(), fs::path("/xdg/kelvin/calibration"));
  ::unsetenv("XDG_DATA_HOME");
  ::setenv("HOME", "/home/someone", 1);
  EXPECT_EQ(calibration_directory(), fs::path("/home/someone/.local/share/kelvin/calibration"));
}

TEST_F(CalibrationFile, RefusesAnotherBoardsFile) {
  const fs::path file = dir_ / "x.json";
  write_calibration(sample_calibration("SIM-RES-4-1", 4), file);
  EXPECT_NE(refusal(file, "SIM-RES-4-2", 4)
                .find("for board SIM-RES-4-1, not for this board "
                      "SIM-RES-4-2"),
            std::string::npos);
  EXPECT_NE(refusal(file, "SIM-RES-4-1", 8).find("for 4 cells"), std::string::npos);
  // Under the looked-up name of another serial, too: a wrong board's file is never applied.
  write_calibration(sample_calibration("SIM-RES-4-1", 4), calibration_path("SIM-RES-4-9"));
  EXPECT_THROW(resolve_calibration(CalibrationSelection::automatic(), board_of("SIM-RES-4-9", 4)),
               common::Error);
}

TEST_F(CalibrationFile, RefusesMalformedFiles) {
  const fs::path file = dir_ / "bad.json";
  write_text(file, "{ not json");
  EXPECT_NE(refusal(file, "S", 4).find("not JSON"), std::string::npos);
  write_text(file, "{\"format\": \"something else\"}");
  EXPECT_NE(refusal(file, "S", 4).find("not a kelvin calibration file"), std::string::npos);
  std::string text = to_json(sample_calibration("S", 4));
  text.replace(text.find("\"readout_gain\""), 14, "\"readout_gian\"");
  write_text(file, text);
  EXPECT_NE(refusal(file, "S", 4).find("malformed"), std::string::npos);
  EXPECT_NE(refusal(dir_ / "missing.json", "S", 4).find("cannot be read"), std::string::npos);
}

TEST_F(CalibrationFile, RefusesANewerFormatVersion) {
  const fs::path file = dir_ / "new.json";
  std::string text = to_json(sample_calibration("S", 4));
  text.replace(text.find("\"format_version\": 2"), 19, "\"format_version\": 3");
  write_text(file, text);
  EXPECT_NE(refusal(file, "S", 4).find("format version 3 is newer"), std::string::npos);
}

TEST_F(CalibrationFile, SelectionParsesFileNoneAndAuto) {
  EXPECT_EQ(CalibrationSelection::parse("none").mode, CalibrationSelection::Mode::kNone);
  EXPECT_EQ(CalibrationSelection::parse("auto").mode, CalibrationSelection::Mode::kAuto);
  const CalibrationSelection f = CalibrationSelection::parse("a/b.json");
  EXPECT_EQ(f.mode, CalibrationSelection::Mode::kFile);
  EXPECT_EQ(f.to_string(), "a/b.json");
  EXPECT_THROW(CalibrationSelection::parse(""), common::Error);
}

}  // namespace
}  // namespace kelvin::runtime::calibration
