// Internals of the `kelvin` command-line program, shared by its source files: the subcommand
// registrations, the JSON conversions and small helpers. Not a library API.
//
// Thread contract: the program is single-threaded; these functions keep no shared state.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <Eigen/Core>
#include <nlohmann/json.hpp>

#include "kelvin/driver/device_description.hpp"
#include "kelvin/driver/pbit/pbit_board.hpp"
#include "kelvin/driver/resonator/resonator_board.hpp"
#include "kelvin/runtime/solve.hpp"

namespace kelvin::tools::cli {

inline constexpr const char* kDefaultUri = "sim:resonator?cells=8&seed=1";
// Default device of `kelvin sample`.
inline constexpr const char* kDefaultPbitUri = "sim:pbit?rows=70&cols=70&degree=12&seed=1";

// A bad command line found after parsing (for example solver options out of range): reported
// like CLI11's usage errors, with exit code 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A registered subcommand: its CLI11 sub-app and the action to run once the command line has
// parsed. The action returns everything the command prints on stdout (so that a failure never
// leaves partial output) and throws on failure.
struct Command {
  CLI::App* app = nullptr;
  std::function<std::string()> run;
};

Command add_find_command(CLI::App& app);
Command add_probe_command(CLI::App& app);
Command add_solve_command(CLI::App& app);
Command add_demo_command(CLI::App& app);
Command add_sample_command(CLI::App& app);
Command add_natgrad_command(CLI::App& app);
Command add_logdet_command(CLI::App& app);
Command add_stream_command(CLI::App& app);
Command add_ping_command(CLI::App& app);

// Exit code of a command that finished but lost data under --strict.
inline constexpr int kExitDataLoss = 3;
// A command that has a result to print and still fails: main prints `output` on stdout, then
// the reason on stderr, and exits with `exit_code`.
class ExitWithOutput : public std::runtime_error {
 public:
  ExitWithOutput(std::string output, int exit_code, const std::string& reason)
      : std::runtime_error(reason), output_(std::move(output)), exit_code_(exit_code) {}
  const std::string& output() const noexcept { return output_; }
  int exit_code() const noexcept { return exit_code_; }

 private:
  std::string output_;
  int exit_code_;
};

// --- common.cpp ---
// Adds "--uri URI" (default kDefaultUri) to a subcommand.
CLI::Option* add_uri_option(CLI::App& command, std::string& uri);
// Adds "--preconditioning auto|jacobi|none" (default auto; runtime/.../preconditioning.hpp).
CLI::Option* add_preconditioning_option(CLI::App& command, runtime::Preconditioning& mode);
// The summary's preconditioning fields as JSON: {"jacobi", "reason",
// "predicted_quantization_error"}.
nlohmann::ordered_json preconditioning_json(bool jacobi, const std::string& reason,
                                            double predicted_quantization_error);
// Opens the device at `uri` and wraps it as a resonator board (throws common::Error).
driver::ResonatorBoard open_resonator_board(const std::string& uri);

// --- json_output.cpp ---
nlohmann::ordered_json vector_json(const Eigen::VectorXd& v);
nlohmann::ordered_json code_scale_json(const driver::CodeScale& scale);
nlohmann::ordered_json description_json(const driver::DeviceDescription& description,
                                        const std::string& uri);
// Every SolveSummary field by name, plus "brief": brief_report().
nlohmann::ordered_json summary_json(const runtime::SolveSummary& summary);
// The energy ledger by component, with its counts and the GPU comparison.
nlohmann::ordered_json energy_json(const runtime::EnergyLedger& ledger);
// {"x": [...], "stderr": [...], "summary": {...}, "energy": {...}}
nlohmann::ordered_json solve_result_json(const runtime::SolveResult& result);
// Pretty-printed, with a final newline.
std::string dump_json(const nlohmann::ordered_json& json);

}  // namespace kelvin::tools::cli
