#include "kelvin/runtime/calibration/board_calibration.hpp"

#include <algorithm>
#include <cmath>

#include "kelvin/common/error.hpp"

namespace kelvin::runtime::calibration {

double BoardCalibration::volts(std::uint32_t cell, double code,
                               const driver::CodeScale& adc) const {
  const CellCalibration& c = cells.at(cell);
  return adc.to_physical(code - c.adc_offset_codes.value) / c.readout_gain.value;
}

CalibrationSelection CalibrationSelection::parse(const std::string& text) {
  if (text == "auto")
    return automatic();
  if (text == "none")
    return none();
  if (text.empty())
    throw common::Error(common::ErrorKind::kInvalidArgument,
                        "calibration: empty (give FILE, none or auto)");
  return from_file(text);
}

std::string CalibrationSelection::to_string() const {
  switch (mode) {
    case Mode::kAuto:
      return "auto";
    case Mode::kNone:
      return "none";
    case Mode::kFile:
      break;
  }
  return file.string();
}

void CalibrationSelection::validate() const {
  if (mode == Mode::kFile && file.empty())
    throw common::Error(common::ErrorKind::kInvalidArgument,
                        "calibration: a file selection needs a path");
}

std::string AppliedCalibration::id() const {
  return calibration ? calibration->id : std::string("none");
}

double AppliedCalibration::volts(std::uint32_t cell, double code,
                                 const driver::CodeScale& adc) const {
  return calibration ? calibration->volts(cell, code, adc) : adc.to_physical(code);
}

void AppliedCalibration::correct_pbit_biases(driver::LatticeProgram& program,
                                             const driver::PbitDescription& board) const {
  if (!calibration || !calibration->is_pbit())
    return;
  const std::size_t n = std::min(program.biases.size(), calibration->pbits.size());
  for (std::size_t i = 0; i < n; ++i) {
    const PbitNodeCalibration& c = calibration->pbits[i];
    const double b = (program.biases[i] - c.sigmoid_offset.value) / c.sigmoid_gain.value;
    program.biases[i] = static_cast<std::int8_t>(
        std::clamp<long long>(std::llround(b), board.bias.min_code, board.bias.max_code));
  }
}

}  // namespace kelvin::runtime::calibration
