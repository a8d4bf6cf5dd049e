// What `kelvin calibrate -o FILE.h5` puts under /data of its run file (docs/run-files.md): per
// cell [cells], each with its standard error in `<name>_stderr`: adc_offset_codes, readout_gain,
// adc_gain, capacitance, temperature; coupling_dac_gain and its stderr [1]; and the drift
// identification [cells x cells]: drift_programmed, drift, drift_stderr. The calibration file
// itself (JSON) is in the summary_json attribute as "calibration". For a p-bit board instead, per
// p-bit [nodes]: sigmoid_offset, sigmoid_gain and their `_stderr`.
//
// Thread contract: a pure function of its arguments (it writes to the file given).
#pragma once

#include "kelvin/runtime/calibration/board_calibration.hpp"
#include "kelvin/tools/run_file/run_file.hpp"

namespace kelvin::tools::cli {

void write_calibration_data(run_file::RunFile& file,
                            const runtime::calibration::BoardCalibration& calibration);

}  // namespace kelvin::tools::cli
