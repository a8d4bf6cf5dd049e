// kelvin calibrate --uri URI [-o FILE.json|FILE.h5] [--json] [--mean-samples N] [--drift-samples N]
//                  [--timeout-s S]
//
// Measures a resonator board's ADC offsets and gains, effective temperatures, coupling-DAC gain
// and realized drift matrix, or a p-bit board's sigmoid offsets and gains
// (runtime/.../calibration/calibrate.hpp), and stores the calibration file: <serial>.json in the
// calibration directory, or FILE with -o. Jobs then apply it.
#include <filesystem>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "calibration_run_file.hpp"
#include "kelvin/driver/backends/backends.hpp"
#include "kelvin/runtime/calibration/calibrate.hpp"
#include "kelvin/runtime/calibration/calibration_file.hpp"
#include "kelvin/tools/cli/commands.hpp"
#include "kelvin/tools/cli/json_writer.hpp"
#include "kelvin/tools/cli/options.hpp"
#include "run_file_output.hpp"

namespace kelvin::tools::cli {

Command add_calibrate_command(CLI::App& app) {
  struct Options {
    CommonOptions common;
    std::string output;
    runtime::calibration::CalibrationOptions calibrate;
  };
  auto options = std::make_shared<Options>();
  namespace cal = runtime::calibration;

  CLI::App* command =
      app.add_subcommand("calibrate", "Measure a board's flaws and store its calibration file");
  add_uri_option(*command, options->common);
  command->add_option("-o,--output", options->output,
                      "FILE.json: write the calibration there instead of <serial>.json in the "
                      "calibration directory; FILE.h5: also keep the run as a run file "
                      "(docs/run-files.md)");
  command
      ->add_option("--mean-samples", options->calibrate.mean_samples,
                   "Samples per bias polarity for offsets, gains and temperatures (errors fall "
                   "as 1/sqrt); on a p-bit board, samples per bias code (default 16384)")
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

  return {command, [options, command] {
            cal::CalibrationOptions calibrate = options->calibrate;
            calibrate.timeout = options->common.timeout();
            cal::PbitCalibrationOptions pbit_options;
            pbit_options.timeout = calibrate.timeout;
            if (command->count("--mean-samples") > 0)
              pbit_options.samples_per_code = calibrate.mean_samples;
            // -o FILE.h5 keeps the run as a run file (the calibration still goes to the directory);
            // -o FILE.json writes the calibration there instead.
            const bool run_file = is_run_file_path(options->output);
            std::filesystem::path file =
                run_file ? std::filesystem::path() : std::filesystem::path(options->output);
            if (!file.empty() && file.extension() != ".json") {
              throw UsageError(
                  "-o FILE: a calibration file ends in .json, a run file in .h5 (see 'kelvin "
                  "calibrate --help')");
            }
            const std::shared_ptr<driver::Device> device =
                driver::backends::open(options->common.uri);
            const bool pbit = device->description().family == driver::BoardFamily::kPbit;
            if (pbit)
              validate_usage(pbit_options, "calibrate");
            else
              validate_usage(calibrate, "calibrate");
            RunRecord record{"calibrate", options->common.uri, device->description()};
            record.settings = pbit ? Json{{"samples_per_code", pbit_options.samples_per_code},
                                          {"beta_code", pbit_options.beta_code},
                                          {"bias_codes", pbit_options.bias_codes}}
                                   : Json{{"mean_samples", calibrate.mean_samples},
                                          {"drift_samples", calibrate.drift_samples}};
            auto h5 = open_run_file_if(run_file ? options->output : std::string(), record);
            cal::CalibrationResult result = recording_failure(h5, [&] {
              if (pbit) {
                driver::PbitBoard board(device);
                return cal::calibrate(board, pbit_options);
              }
              driver::ResonatorBoard board(device);
              return cal::calibrate(board, calibrate);
            });
            if (file.empty())
              file = cal::calibration_path(result.calibration.serial);
            cal::write_calibration(result.calibration, file);
            result.summary.file = file.string();
            const Json json{{"file", file.string()},
                            {"calibration_id", result.calibration.id},
                            {"summary", summary_json(result.summary)},
                            {"calibration", Json::parse(cal::to_json(result.calibration))}};
            if (h5) {
              write_calibration_data(*h5, result.calibration);
              finish_run_file(*h5, json);
            }
            if (options->common.json)
              return write_json(json);
            return fmt::format("calibration {} written to {}\n\n{}", result.calibration.id,
                               file.string(), result.summary.full_report());
          }};
}

}  // namespace kelvin::tools::cli
