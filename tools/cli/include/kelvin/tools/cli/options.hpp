// The options every kelvin command shares, defined once (libiio's common options): --uri with
// the family's default device, --json, --timeout-s with the job's own default, the device
// addresses footer made from the backends' parameter tables, opening a board of a family, and
// turning a job's Options::validate() failure into a usage error (exit code 2). `--log-level`
// is global (main.cpp). A flag means the same thing in every command because it is added here.
//
// Thread contract: the program is single-threaded; these functions keep no shared state.
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <stdexcept>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "kelvin/driver/device_description.hpp"
#include "kelvin/driver/pbit/pbit_board.hpp"
#include "kelvin/driver/resonator/resonator_board.hpp"
#include "kelvin/runtime/calibration/board_calibration.hpp"
#include "kelvin/runtime/preconditioning.hpp"

namespace kelvin::tools::cli {

// A bad command line found after parsing (for example solver options out of range): reported
// like CLI11's usage errors, with exit code 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct CommonOptions {
  std::string uri;         // --uri
  bool json = false;       // --json
  double timeout_s = 0.0;  // --timeout-s, for commands with a deadline

  std::chrono::milliseconds timeout() const;
};

// --uri URI, defaulting to the driver's default device of `family`.
CLI::Option* add_uri_option(CLI::App& command, CommonOptions& options,
                            driver::BoardFamily family = driver::BoardFamily::kResonator);
// --json: "Print one JSON object {<holds>} instead of text".
CLI::Option* add_json_flag(CLI::App& command, CommonOptions& options, std::string_view holds);
// --timeout-s S: the total deadline of `what`, defaulting to the job's own default.
CLI::Option* add_timeout_option(CLI::App& command, CommonOptions& options,
                                std::chrono::milliseconds fallback, std::string_view what);
// --junit FILE: "Also write <what> as JUnit XML to FILE" (through junit_writer.hpp).
CLI::Option* add_junit_option(CLI::App& command, std::string& path, std::string_view what);
// --preconditioning auto|jacobi|none (default auto; runtime/.../preconditioning.hpp).
CLI::Option* add_preconditioning_option(CLI::App& command, runtime::Preconditioning& mode);
// --tolerance R: the relative residual ||b - A x|| / ||b|| at which an iterative solve stops
// (range [1e-12, 0.5]); `what` completes the help text.
CLI::Option* add_tolerance_option(CLI::App& command, double& tolerance, std::string_view what);
// --symmetry-tolerance TOL: the job's Options::symmetry_tolerance (every resonator job has it,
// with the same default and range; runtime/.../system_checks.hpp). Its value is checked by the
// job's validate() (through validate_usage), so the refusal reads the same as the runtime's.
CLI::Option* add_symmetry_tolerance_option(CLI::App& command, double& tolerance);
// --diagonal-code C and --noise-code C: the independent relaxing cells that `stream` and `sweep`
// program on a resonator board (defaults 9830, 0.6/us on the emulated board, and 2000).
void add_independent_cells_options(CLI::App& command, std::int16_t& diagonal_code,
                                   std::uint32_t& noise_code);
// -o,--output FILE.h5: write the run as one HDF5 run file (docs/run-files.md); a name that does
// not end in .h5 or .hdf5 is refused (the file is created by run_file_output.hpp).
CLI::Option* add_run_file_option(CLI::App& command, std::string& path);
// --calibration FILE|none: which calibration the job applies (default: the board's file in the
// calibration directory, if any; runtime/.../calibration/board_calibration.hpp).
CLI::Option* add_calibration_option(CLI::App& command,
                                    runtime::calibration::CalibrationSelection& selection);
// "<before>Device addresses:\n  <every built-in scheme's parameters>".
std::string addresses_footer(std::string_view before = {});

// Options::validate() of a runtime job; a refusal becomes a UsageError naming the command.
template <typename Options>
void validate_usage(const Options& options, std::string_view command) {
  try {
    options.validate();
  } catch (const std::exception& e) {
    throw UsageError(fmt::format("{} (see 'kelvin {} --help')", e.what(), command));
  }
}

// The board at `uri`, of the family asked for (common::Error(kNotSupported) naming the family
// it is otherwise).
driver::ResonatorBoard open_resonator_board(const std::string& uri);
driver::PbitBoard open_pbit_board(const std::string& uri);

}  // namespace kelvin::tools::cli
