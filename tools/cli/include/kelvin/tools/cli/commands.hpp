// The kelvin program's subcommands. Each registers its CLI11 sub-app with the shared options
// (options.hpp) and returns the action that runs once the command line has parsed. An action
// returns everything the command prints on stdout, so that a failure never leaves partial
// output, and throws on failure (main.cpp maps exceptions to exit codes).
//
// Thread contract: the program is single-threaded; commands keep no shared state.
#pragma once

#include <functional>
#include <stdexcept>
#include <string>

#include <CLI/CLI.hpp>

namespace kelvin::tools::cli {

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
Command add_sweep_command(CLI::App& app);
Command add_selftest_command(CLI::App& app);
Command add_conformance_command(CLI::App& app);
Command add_calibrate_command(CLI::App& app);
Command add_train_ebm_command(CLI::App& app);
Command add_generate_command(CLI::App& app);

// Exit code of a command that finished but lost data under --strict.
inline constexpr int kExitDataLoss = 3;
// Exit code of a command stopped by Ctrl-C (SIGINT) that printed what it had (128 + SIGINT).
inline constexpr int kExitInterrupted = 130;
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

}  // namespace kelvin::tools::cli
