#include "calibration_run_file.hpp"

#include <string>
#include <vector>

#include "run_file_output.hpp"

namespace kelvin::tools::cli {

namespace {

using runtime::calibration::BoardCalibration;
using runtime::calibration::CellCalibration;
using runtime::calibration::Estimate;

// One per-cell quantity and its standard errors as two datasets.
void write_cells(run_file::RunFile& file, const BoardCalibration& c, const std::string& name,
                 Estimate CellCalibration::*member) {
  std::vector<double> values, errors;
  for (const CellCalibration& cell : c.cells) {
    values.push_back((cell.*member).value);
    errors.push_back((cell.*member).standard_error);
  }
  write_data(file, name, values);
  write_data(file, name + "_stderr", errors);
}

}  // namespace

void write_calibration_data(run_file::RunFile& file, const BoardCalibration& c) {
  if (c.is_pbit()) {
    std::vector<double> offsets, offset_se, gains, gain_se;
    for (const auto& p : c.pbits) {
      offsets.push_back(p.sigmoid_offset.value);
      offset_se.push_back(p.sigmoid_offset.standard_error);
      gains.push_back(p.sigmoid_gain.value);
      gain_se.push_back(p.sigmoid_gain.standard_error);
    }
    write_data(file, "sigmoid_offset", offsets);
    write_data(file, "sigmoid_offset_stderr", offset_se);
    write_data(file, "sigmoid_gain", gains);
    write_data(file, "sigmoid_gain_stderr", gain_se);
    return;
  }
  write_cells(file, c, "adc_offset_codes", &CellCalibration::adc_offset_codes);
  write_cells(file, c, "readout_gain", &CellCalibration::readout_gain);
  write_cells(file, c, "adc_gain", &CellCalibration::adc_gain);
  write_cells(file, c, "capacitance", &CellCalibration::capacitance);
  write_cells(file, c, "temperature", &CellCalibration::temperature);
  write_data(file, "coupling_dac_gain", std::vector<double>{c.coupling_dac_gain.value});
  write_data(file, "coupling_dac_gain_stderr",
             std::vector<double>{c.coupling_dac_gain.standard_error});
  write_data(file, "drift_programmed", c.drift_programmed);
  write_data(file, "drift", c.drift);
  write_data(file, "drift_stderr", c.drift_standard_error);
}

}  // namespace kelvin::tools::cli
