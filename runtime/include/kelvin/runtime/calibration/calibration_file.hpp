// Calibration files: versioned JSON keyed by the board's serial, stored in the calibration
// directory as <serial>.json, and the lookup a job makes before it programs the board.
//
// Directory: $KELVIN_CALIBRATION_DIR if set, else $XDG_DATA_HOME/kelvin/calibration, else
// ~/.local/share/kelvin/calibration. The format is in docs/calibration.md.
//
// Every refusal is a common::Error(kInvalidArgument) naming the file and what is wrong: not
// readable or not JSON, a missing or mistyped field, a format version newer than this kelvin
// reads, a serial or cell count that is not the board's. A wrong board's file is never applied.
//
// Thread contract: functions only; the file system is the shared state (write_calibration
// writes a temporary file and renames it, so a reader never sees half a file).
#pragma once

#include <filesystem>
#include <string>

#include "kelvin/driver/device_description.hpp"
#include "kelvin/runtime/calibration/board_calibration.hpp"

namespace kelvin::runtime::calibration {

std::filesystem::path calibration_directory();
// calibration_directory() / "<serial>.json".
std::filesystem::path calibration_path(const std::string& serial);

// Writes `c` as JSON (creating the directory).
void write_calibration(const BoardCalibration& c, const std::filesystem::path& file);
BoardCalibration read_calibration(const std::filesystem::path& file);
// The JSON text, as written to files.
std::string to_json(const BoardCalibration& c);
BoardCalibration from_json(const std::string& text, const std::string& origin);

// Throws unless `c` is for this board (serial and cell count).
void check_board(const BoardCalibration& c, const driver::DeviceDescription& board,
                 const std::filesystem::path& file);

// The calibration `selection` asks for on `board`: none; the given file (which must exist, parse
// and match); or, automatically, <serial>.json in the calibration directory if it exists (a file
// there that is malformed or for another board is an error, never skipped).
AppliedCalibration resolve_calibration(const CalibrationSelection& selection,
                                       const driver::DeviceDescription& board);

}  // namespace kelvin::runtime::calibration
