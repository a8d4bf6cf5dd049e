// kelvin calibrate --uri URI [-o FILE.json] [--json] [--mean-samples N] [--drift-samples N]
//                  [--timeout-s S]
//
// Measures a resonator board's ADC offsets and gains, effective temperatures, coupling-DAC gain
// and realized drift matrix (runtime/.../calibration/calibrate.hpp) and stores the calibration
// file: <serial>.json in the calibration directory, or FILE with -o. Jobs then apply it.
#include <filesystem>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "kelvin/runtime/calibration/calibrate.hpp"
#include "kelvin/runtime/calibration/calibration_file.hpp"
#include "kelvin/tools/cli/commands.hpp"
#include "kelvin/tools/cli/json_writer.hpp"
#include "kelvin/tools/cli/options.hpp"

namespace kelvin::tools::cli {

Command add_calibrate_command(CLI::App& app) {
  struct Options {
    CommonOptions common;
    std::string output;
    runtime::calibration::CalibrationOptions calibrate;
  };
  auto options = std::make_shared<Options>();
  namespace cal = runtime::calibration;

  CLI::App* command = app.add_subcommand(
      "calibrate", "Measure a resonator board's flaws and store its calibration file");
  add_uri_option(*command, options->common);
  command->add_option("-o,--output", options->output,
                      "Write the calibration to FILE.json instead of <serial>.json in the "
                      "calibration directory");
  command
      ->add_option("--mean-samples", options->calibrate.mean_samples,
                   "Samples per bias polarity for offsets, gains and temperatures (errors fall "
                   "as 1/sqrt)")
      ->capture_default_str();
  command
      ->add_option("--drift-samples", options->calibrate.drift_samples,
                   "Recorded samples for the drift-matrix fit")
      ->capture_default_str();
  add_timeout_option(*command, options->common, cal::CalibrationOptions{}.timeout,
                     "the whole measurement");
  add_json_flag(*command, options->common, "\"file\", \"summary\", \"calibration\"");
  command->footer(addresses_footer(
      "Calibration directory: $KELVIN_CALIBRATION_DIR, else $XDG_DATA_HOME/kelvin/calibration,\n"
      "else ~/.local/share/kelvin/calibration. Format and method: docs/calibration.md.\n"));

  return {
      command, [options] {
        cal::CalibrationOptions calibrate = options->calibrate;
        calibrate.timeout = options->common.timeout();
        validate_usage(calibrate, "calibrate");
        std::filesystem::path file = options->output;
        if (file.extension() == ".h5") {
          throw UsageError(
              "-o FILE.h5: HDF5 run files are not written by calibrate yet; give a .json "
              "file (see 'kelvin calibrate --help')");
        }
        if (!file.empty() && file.extension() != ".json")
          throw UsageError(
              "-o FILE: a calibration file ends in .json (see 'kelvin "
              "calibrate --help')");
        driver::ResonatorBoard board = open_resonator_board(options->common.uri);
        cal::CalibrationResult result = cal::calibrate(board, calibrate);
        if (file.empty())
          file = cal::calibration_path(result.calibration.serial);
        cal::write_calibration(result.calibration, file);
        result.summary.file = file.string();
        if (options->common.json) {
          return write_json(Json{{"file", file.string()},
                                 {"summary", summary_json(result.summary)},
                                 {"calibration", Json::parse(cal::to_json(result.calibration))}});
        }
        return fmt::format("calibration {} written to {}\n\n{}", result.calibration.id,
                           file.string(), result.summary.full_report());
      }};
}

}  // namespace kelvin::tools::cli
