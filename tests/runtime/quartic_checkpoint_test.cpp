// The quartic generator's checkpoint JSON (round trip, refusals naming file and field) and the
// calibration's documented corrections of generate_quartic().
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "kelvin/common/error.hpp"
#include "kelvin/runtime/calibration/calibration_file.hpp"
#include "kelvin/runtime/quartic_generation.hpp"
#include "kelvin/testing/boards.hpp"
#include "quartic_generator_fixture.hpp"

namespace kelvin::runtime {
namespace {

namespace fs = std::filesystem;
using testing::open_resonator_board;

fs::path temp_file(const std::string& name) {
  return fs::temp_directory_path() / ("kelvin-quartic-test-" + name);
}

void write_text(const fs::path& file, const std::string& text) {
  std::ofstream(file, std::ios::binary | std::ios::trunc) << text;
}

std::string error_of(const std::string& text) {
  try {
    parse_quartic_checkpoint(text, "mem.json");
  } catch (const common::Error& e) {
    EXPECT_EQ(e.kind(), common::ErrorKind::kInvalidArgument);
    return e.what();
  }
  return "no error";
}

TEST(QuarticCheckpoint, RoundTripKeepsEveryField) {
  QuarticGenerator g = testing::quartic::double_wells(3, 655);
  g.coupling_codes[1] = g.coupling_codes[3] = -77;
  g.bias_codes = {1, -2, 3};
  g.quartic_codes = {0, 65535, 7};
  g.visible = {2, 0};
  g.image_rows = 2;
  g.image_cols = 1;
  g.uncoupled_samples = 11;
  g.coupled_samples = 13;
  g.pixel_offset = 0.5;
  g.pixel_scale = 0.25;
  g.notes = "hand-made";
  const fs::path file = temp_file("roundtrip.json");
  write_quartic_checkpoint(file.string(), g);
  EXPECT_FALSE(fs::exists(fs::path(file).concat(".tmp")));
  const QuarticGenerator back = read_quartic_checkpoint(file.string());
  EXPECT_EQ(back.cells, g.cells);
  EXPECT_EQ(back.coupling_codes, g.coupling_codes);
  EXPECT_EQ(back.bias_codes, g.bias_codes);
  EXPECT_EQ(back.quartic_codes, g.quartic_codes);
  EXPECT_EQ(back.noise_code, g.noise_code);
  EXPECT_EQ(back.visible, g.visible);
  EXPECT_EQ(back.image_rows, g.image_rows);
  EXPECT_EQ(back.image_cols, g.image_cols);
  EXPECT_EQ(back.uncoupled_samples, g.uncoupled_samples);
  EXPECT_EQ(back.coupled_samples, g.coupled_samples);
  EXPECT_EQ(back.pixel_offset, g.pixel_offset);
  EXPECT_EQ(back.pixel_scale, g.pixel_scale);
  EXPECT_EQ(back.notes, g.notes);
  fs::remove(file);
}

TEST(QuarticCheckpoint, TheContractsExampleWithoutOptionalFieldsReads) {
  const QuarticGenerator g = parse_quartic_checkpoint(
      R"({"kind": "kelvin.quartic-generator", "version": 1, "cells": 2,
          "coupling_codes": [[-16384, 3], [3, -16384]], "bias_codes": [0, 5],
          "quartic_codes": [4096, 4096], "noise_code": 655, "visible": [1],
          "image_rows": 1, "image_cols": 1, "uncoupled_samples": 25, "coupled_samples": 25.0})",
      "mem.json");
  EXPECT_EQ(g.coupling(0, 1), 3);
  EXPECT_EQ(g.coupled_samples, 25u);
  EXPECT_EQ(g.pixel_scale, 1.0);
  EXPECT_EQ(g.pixel_offset, 0.0);
}

TEST(QuarticCheckpoint, BadFilesNameTheFileAndTheField) {
  const std::string good = quartic_checkpoint_json(testing::quartic::double_wells(2, 10));
  auto with = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    const auto at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return s.replace(at, from.size(), to);
  };
  EXPECT_NE(error_of("{").find("mem.json: not JSON"), std::string::npos);
  EXPECT_NE(error_of("[]").find("not a JSON object"), std::string::npos);
  EXPECT_NE(error_of(with("\"kind\":\"kelvin.quartic-generator\"", "\"kind\":\"x\""))
                .find("field \"kind\""),
            std::string::npos);
  EXPECT_NE(error_of(with("\"version\":1", "\"version\":2")).find("field \"version\""),
            std::string::npos);
  EXPECT_NE(error_of(with("\"noise_code\":10,", "")).find("field \"noise_code\": missing"),
            std::string::npos);
  EXPECT_NE(error_of(with("\"bias_codes\":[0,0]", "\"bias_codes\":[0,\"a\"]"))
                .find("field \"bias_codes[1]\": \"a\" is not an integer"),
            std::string::npos);
  EXPECT_NE(error_of(with("\"bias_codes\":[0,0]", "\"bias_codes\":[0,40000]"))
                .find("bias_codes[1]\": 40000 is out of range"),
            std::string::npos);
  EXPECT_NE(error_of(with("\"quartic_codes\":[4096,4096]", "\"quartic_codes\":[-1,4096]"))
                .find("quartic_codes[0]"),
            std::string::npos);
  EXPECT_NE(error_of(with("[[-16384,0],[0,-16384]]", "[[-16384,0]]")).find("coupling_codes"),
            std::string::npos);
  EXPECT_NE(error_of(with("[[-16384,0],[0,-16384]]", "[[-16384,1],[0,-16384]]"))
                .find("must be symmetric"),
            std::string::npos);
  EXPECT_NE(error_of(with("\"coupled_samples\":25", "\"coupled_samples\":2.5"))
                .find("field \"coupled_samples\""),
            std::string::npos);
  try {
    read_quartic_checkpoint("/nonexistent/q.json");
    ADD_FAILURE() << "a missing file was read";
  } catch (const common::Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/q.json: cannot be read"), std::string::npos);
  }
  EXPECT_THROW(
      write_quartic_checkpoint("/nonexistent/dir/q.json", testing::quartic::double_wells(2, 10)),
      common::Error);
}

// A calibration whose numbers are chosen, not measured: coupling-DAC gain g, ADC offset o and
// absolute gain a per cell, temperature t per cell.
fs::path chosen_calibration(const driver::DeviceDescription& d, double g, double o, double a,
                            double t) {
  calibration::BoardCalibration c;
  c.serial = d.serial;
  c.id = d.serial + "-chosen";
  c.date = "2026-12-07T00:00:00Z";
  c.conditions.cells = d.cells;
  c.coupling_dac_gain = {g, 0.0};
  for (std::uint32_t i = 0; i < d.cells; ++i)
    c.cells.push_back({{o, 0.0}, {a / g, 0.0}, {a, 0.0}, {1.0, 0.0}, {t, 0.0}});
  const auto n = static_cast<Eigen::Index>(d.cells);
  c.drift_programmed = c.drift = c.drift_standard_error = Eigen::MatrixXd::Zero(n, n);
  const fs::path file = temp_file(d.serial + "-calibration.json");
  calibration::write_calibration(c, file);
  return file;
}

// One linear cell without noise, A = 1/us and b = 0.25 V/us: the end state is b / A. A
// calibration saying g = 2 halves the coupling code, so the ideal board settles at 0.5 V; the
// read-out subtracts o and divides by a exactly; t = 0.5 doubles the noise code.
TEST(QuarticCalibration, TheCorrectionsChangeCodesAndReadOutAsDocumented) {
  QuarticGenerator g = testing::quartic::double_wells(1, 0);
  g.coupling_codes = {16384};
  g.bias_codes = {2048};
  g.quartic_codes = {0};
  g.coupled_samples = 60;
  QuarticGenerationOptions o;
  o.samples = 1;
  o.calibration = calibration::CalibrationSelection::none();
  auto board = open_resonator_board(1, 3);
  const double raw = generate_quartic(board, g, o).images[0][0];
  EXPECT_NEAR(raw, 0.25, 2 * testing::quartic::kAdcLsb);

  const fs::path gain_file = chosen_calibration(board.description(), 2.0, 0.0, 1.0, 1.0);
  o.calibration = calibration::CalibrationSelection::from_file(gain_file);
  const QuarticGenerationResult halved = generate_quartic(board, g, o);
  EXPECT_NEAR(halved.images[0][0], 0.5, 2 * testing::quartic::kAdcLsb);
  EXPECT_EQ(halved.summary.coupling_gain_correction, 0.5);
  EXPECT_EQ(halved.summary.calibration, board.description().serial + "-chosen");
  EXPECT_FALSE(halved.summary.corrected.empty());
  EXPECT_FALSE(halved.summary.not_corrected.empty());

  const fs::path readout_file = chosen_calibration(board.description(), 1.0, 100.0, 0.5, 0.5);
  o.calibration = calibration::CalibrationSelection::from_file(readout_file);
  g.noise_code = 64;  // a little noise so that the temperature correction shows in the summary
  const QuarticGenerationResult read = generate_quartic(board, g, o);
  EXPECT_EQ(read.summary.noise_code_used, 128u);
  g.noise_code = 0;
  const QuarticGenerationResult exact = generate_quartic(board, g, o);
  EXPECT_NEAR(exact.images[0][0], (raw - 100.0 * testing::quartic::kAdcLsb) / 0.5, 1e-12);
  fs::remove(gain_file);
  fs::remove(readout_file);
}

TEST(QuarticCalibration, ACalibrationForAnotherBoardIsRefused) {
  auto board = open_resonator_board(1, 3);
  auto other = open_resonator_board(2, 3);
  const fs::path file = chosen_calibration(other.description(), 1.0, 0.0, 1.0, 1.0);
  QuarticGenerationOptions o;
  o.samples = 1;
  o.calibration = calibration::CalibrationSelection::from_file(file);
  EXPECT_THROW(generate_quartic(board, testing::quartic::double_wells(1, 10), o), common::Error);
  fs::remove(file);
}

}  // namespace
}  // namespace kelvin::runtime
