// kelvin: the command-line front end of the host runtime (find, probe, solve, demo, sample, ...).
//
// stdout carries only a command's output, written in one piece after the command succeeded;
// logs and the one-line error message go to stderr. Exit codes: 0 success, 1 runtime or device
// error, 2 usage error.
#include <algorithm>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "kelvin/common/error.hpp"
#include "kelvin/common/log_level.hpp"
#include "kelvin/tools/cli/commands.hpp"
#include "kelvin/tools/cli/options.hpp"

namespace {

constexpr int kExitRuntimeError = 1;
constexpr int kExitUsageError = 2;

// The libraries log through named loggers that copy the default logger's sinks when they are
// first used, so this must run before any library code.
// KELVIN_LOG_LEVEL sets every logger's level (--log-level, applied after parsing, wins); an
// invalid value is warned about and the level stays "warn".
void set_up_logging() {
  auto logger = spdlog::stderr_color_mt("kelvin");
  logger->set_pattern("[%H:%M:%S.%e] [%^%l%$] %n: %v");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::warn);
  std::string invalid;
  if (const auto level = kelvin::common::log_level_from_environment(&invalid))
    spdlog::set_level(*level);
  if (!invalid.empty())
    logger->warn("{}", invalid);
}

void print_error(const std::string& reason) {
  std::string line = reason;
  std::replace(line.begin(), line.end(), '\n', ' ');
  std::fprintf(stderr, "kelvin: error: %s\n", line.c_str());
}

std::string driver_error_reason(const kelvin::common::Error& e) {
  using kelvin::common::ErrorKind;
  switch (e.kind()) {
    case ErrorKind::kInvalidArgument:
    case ErrorKind::kOutOfRange:
    case ErrorKind::kNotSupported:
    case ErrorKind::kNotFound:
      return e.what();  // the message says what is wrong with the input
    case ErrorKind::kDevice:
      if (e.device_code()) {
        return fmt::format("{} (code {}): {}", kelvin::common::to_string(e.kind()),
                           *e.device_code(), e.what());
      }
      break;
    default:
      break;
  }
  return fmt::format("{}: {}", kelvin::common::to_string(e.kind()), e.what());
}

// Levenshtein distance, for suggesting the command a typo meant.
std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

// "unknown command 'solv'; did you mean 'solve'?" when the first argument is not an option and
// names no command; empty otherwise (CLI11's own message is kept).
std::string unknown_command(int argc, char** argv,
                            const std::vector<kelvin::tools::cli::Command>& commands) {
  if (argc < 2 || argv[1][0] == '-')
    return {};
  const std::string given = argv[1];
  std::string best;
  std::size_t best_distance = 3;  // more than 2 edits is not a typo
  std::vector<std::string> names;
  for (const auto& command : commands) {
    const std::string name = command.app->get_name();
    if (name == given)
      return {};
    names.push_back(name);
    const std::size_t d = edit_distance(given, name);
    if (d < best_distance) {
      best_distance = d;
      best = name;
    }
  }
  if (!best.empty())
    return fmt::format("unknown command '{}'; did you mean '{}'?", given, best);
  return fmt::format("unknown command '{}'; the commands are {}", given, fmt::join(names, ", "));
}

// A deadline that passed says which option sets it and its value, so that the user knows what to
// raise (or that the board, not the deadline, is the problem).
std::string timeout_hint(const CLI::App& command) {
  const CLI::Option* timeout = command.get_option_no_throw("--timeout-s");
  if (timeout == nullptr)
    return {};
  return fmt::format(" (the deadline is --timeout-s {}; raise it if the job needs longer)",
                     timeout->as<double>());
}

}  // namespace

int main(int argc, char** argv) {
  try {
    set_up_logging();
  } catch (const std::exception& e) {
    print_error(fmt::format("cannot set up logging: {}", e.what()));
    return kExitRuntimeError;
  }

  CLI::App app{"kelvin: host tools for analog thermodynamic-computing boards.", "kelvin"};
  app.require_subcommand(0, 1);  // none: an error below, after --help had its chance
  app.fallthrough();             // global options may follow the subcommand
  std::string log_level;
  app.add_option("--log-level", log_level,
                 "Log verbosity on stderr (default: $KELVIN_LOG_LEVEL, else warn)")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  app.footer(kelvin::tools::cli::addresses_footer() +
             "\n\nRun 'kelvin COMMAND --help' for a command's options.\n");

  std::vector<kelvin::tools::cli::Command> commands;
  try {
    commands = {kelvin::tools::cli::add_find_command(app),
                kelvin::tools::cli::add_probe_command(app),
                kelvin::tools::cli::add_solve_command(app),
                kelvin::tools::cli::add_demo_command(app),
                kelvin::tools::cli::add_sample_command(app),
                kelvin::tools::cli::add_natgrad_command(app),
                kelvin::tools::cli::add_logdet_command(app),
                kelvin::tools::cli::add_stream_command(app),
                kelvin::tools::cli::add_ping_command(app),
                kelvin::tools::cli::add_sweep_command(app),
                kelvin::tools::cli::add_selftest_command(app),
                kelvin::tools::cli::add_conformance_command(app),
                kelvin::tools::cli::add_calibrate_command(app),
                kelvin::tools::cli::add_train_ebm_command(app),
                kelvin::tools::cli::add_generate_command(app)};
  } catch (const std::exception& e) {
    print_error(e.what());
    return kExitRuntimeError;
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) {
      return app.exit(e);  // --help: prints to stdout
    }
    std::string help = "kelvin --help";
    bool in_command = false;
    for (const auto& command : commands) {
      if (command.app->parsed()) {
        help = "kelvin " + command.app->get_name() + " --help";
        in_command = true;
      }
    }
    if (const std::string typo = in_command ? std::string() : unknown_command(argc, argv, commands);
        !typo.empty()) {
      print_error(fmt::format("{} (see '{}')", typo, help));
      return kExitUsageError;
    }
    print_error(fmt::format("{} (see '{}')", e.what(), help));
    return kExitUsageError;
  }

  if (!log_level.empty())
    spdlog::set_level(spdlog::level::from_str(log_level));

  for (const auto& command : commands) {
    if (!command.app->parsed())
      continue;
    std::string output;
    try {
      output = command.run();
    } catch (const kelvin::tools::cli::ExitWithOutput& e) {
      std::fwrite(e.output().data(), 1, e.output().size(), stdout);
      std::fflush(stdout);
      print_error(e.what());
      return e.exit_code();
    } catch (const kelvin::tools::cli::UsageError& e) {
      print_error(e.what());
      return kExitUsageError;
    } catch (const kelvin::common::Error& e) {
      const std::string hint = e.kind() == kelvin::common::ErrorKind::kTimeout
                                   ? timeout_hint(*command.app)
                                   : std::string();
      print_error(driver_error_reason(e) + hint);
      return kExitRuntimeError;
    } catch (const std::exception& e) {
      print_error(e.what());
      return kExitRuntimeError;
    } catch (...) {
      print_error("unknown failure");
      return kExitRuntimeError;
    }
    if (std::fwrite(output.data(), 1, output.size(), stdout) != output.size() ||
        std::fflush(stdout) != 0) {
      print_error("cannot write to stdout");
      return kExitRuntimeError;
    }
    return 0;
  }
  print_error("no command given (see 'kelvin --help')");
  return kExitUsageError;
}
