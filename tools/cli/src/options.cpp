#include "kelvin/tools/cli/options.hpp"

#include <map>

#include "kelvin/driver/backends/backends.hpp"
#include "kelvin/runtime/problem_compiler.hpp"
#include "kelvin/runtime/system_checks.hpp"
#include "run_file_output.hpp"

namespace kelvin::tools::cli {

std::chrono::milliseconds CommonOptions::timeout() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::duration<double>(timeout_s));
}

CLI::Option* add_uri_option(CLI::App& command, CommonOptions& options, driver::BoardFamily family) {
  options.uri = family == driver::BoardFamily::kPbit
                    ? std::string(driver::backends::kDefaultPbitUri)
                    : std::string(driver::backends::kDefaultResonatorUri);
  const char* what = family == driver::BoardFamily::kPbit ? "Device address of a p-bit board"
                                                          : "Device address, for example";
  return command
      .add_option("--uri", options.uri,
                  family == driver::BoardFamily::kPbit ? std::string(what)
                                                       : fmt::format("{} {}", what, options.uri))
      ->capture_default_str();
}

CLI::Option* add_json_flag(CLI::App& command, CommonOptions& options, std::string_view holds) {
  return command.add_flag("--json", options.json,
                          holds.empty()
                              ? std::string("Print one JSON object instead of text")
                              : fmt::format("Print one JSON object {{{}}} instead of text", holds));
}

CLI::Option* add_junit_option(CLI::App& command, std::string& path, std::string_view what) {
  return command
      .add_option("--junit", path, fmt::format("Also write {} as JUnit XML to FILE (for CI)", what))
      ->type_name("FILE");
}

CLI::Option* add_timeout_option(CLI::App& command, CommonOptions& options,
                                std::chrono::milliseconds fallback, std::string_view what) {
  options.timeout_s = std::chrono::duration<double>(fallback).count();
  return command
      .add_option("--timeout-s", options.timeout_s,
                  fmt::format("Deadline for {}, in seconds", what))
      ->check(CLI::Range(1e-3, 1e7))
      ->capture_default_str();
}

CLI::Option* add_preconditioning_option(CLI::App& command, runtime::Preconditioning& mode) {
  static const std::map<std::string, runtime::Preconditioning> kModes{
      {"auto", runtime::Preconditioning::kAuto},
      {"jacobi", runtime::Preconditioning::kJacobi},
      {"none", runtime::Preconditioning::kNone}};
  mode = runtime::Preconditioning::kAuto;
  return command
      .add_option("--preconditioning", mode,
                  "auto (Jacobi when it at least halves the predicted quantization error), "
                  "jacobi or none")
      ->transform(CLI::CheckedTransformer(kModes, CLI::ignore_case))
      ->default_str("auto");
}

CLI::Option* add_tolerance_option(CLI::App& command, double& tolerance, std::string_view what) {
  return command.add_option("--tolerance", tolerance, std::string(what))
      ->check(CLI::Range(1e-12, 0.5))
      ->capture_default_str();
}

CLI::Option* add_symmetry_tolerance_option(CLI::App& command, double& tolerance) {
  tolerance = runtime::kDefaultSymmetryTolerance;
  return command
      .add_option("--symmetry-tolerance", tolerance,
                  fmt::format("Accept a matrix as symmetric when max|A_ij - A_ji| <= this value x "
                              "max|A| (float32 data needs about 1e-6; at most {:g})",
                              runtime::kMaxSymmetryTolerance))
      ->default_str(fmt::format("{:g}", tolerance));
}

void add_independent_cells_options(CLI::App& command, std::int16_t& diagonal_code,
                                   std::uint32_t& noise_code) {
  diagonal_code = 9830;
  noise_code = 2000;
  command
      .add_option("--diagonal-code", diagonal_code,
                  "Coupling diagonal code programmed into every cell")
      ->check(CLI::Range(1, 32767))
      ->capture_default_str();
  command.add_option("--noise-code", noise_code, "Noise DAC code")->capture_default_str();
}

CLI::Option* add_run_file_option(CLI::App& command, std::string& path) {
  return command
      .add_option("-o,--output", path,
                  "Write the run (data, board description, settings, versions, summary) to "
                  "FILE.h5, an HDF5 run file (docs/run-files.md); never overwritten")
      ->check(
          [](const std::string& value) {
            return is_run_file_path(value) ? std::string()
                                           : std::string("run files end in .h5 or .hdf5: ") + value;
          },
          "FILE.h5");
}

CLI::Option* add_calibration_option(CLI::App& command,
                                    runtime::calibration::CalibrationSelection& selection) {
  selection = runtime::calibration::CalibrationSelection::automatic();
  return command
      .add_option_function<std::string>(
          "--calibration",
          [&selection](const std::string& text) {
            selection = runtime::calibration::CalibrationSelection::parse(text);
          },
          "Calibration to apply: a calibration file (kelvin calibrate), or none. Default: the "
          "board's <serial>.json in $KELVIN_CALIBRATION_DIR (else "
          "$XDG_DATA_HOME/kelvin/calibration, ~/.local/share/kelvin/calibration) if it exists")
      ->type_name("FILE|none");
}

std::string addresses_footer(std::string_view before) {
  return fmt::format("{}Device addresses:\n  {}", before, driver::backends::uri_help());
}

driver::ResonatorBoard open_resonator_board(const std::string& uri) {
  return driver::ResonatorBoard(driver::backends::open(uri));
}

driver::PbitBoard open_pbit_board(const std::string& uri) {
  return driver::PbitBoard(driver::backends::open(uri));
}

}  // namespace kelvin::tools::cli
