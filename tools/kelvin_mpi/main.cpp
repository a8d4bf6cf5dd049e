// kelvin-mpi: the runtime's distributed jobs from the command line, one board per MPI rank
// (docs/scale-out.md):
//
//   mpirun -np 4 kelvin-mpi ping --uri 'sim:resonator?cells=8&seed={rank}'
//
// Every rank parses the same command line and runs the command; rank 0 prints the result on
// stdout. Errors: every rank prints its own one line on stderr ("kelvin-mpi: rank R: error:
// ..."); a failure on one rank's board is agreed on by all (runtime/collective.hpp), so each rank
// names the failing rank and its board, and all exit 1. A collective that timed out cannot be
// agreed on: that rank ends the whole job with MPI_Abort (exit code 1). Usage errors exit 2.
#include <algorithm>
#include <cstdio>
#include <exception>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "kelvin/common/error.hpp"
#include "kelvin/common/log_level.hpp"
#include "kelvin/runtime/mpi/mpi_collective.hpp"
#include "kelvin/tools/kelvin_mpi/mpi_commands.hpp"

namespace {

constexpr int kExitRuntimeError = 1;
constexpr int kExitUsageError = 2;

void print_error(int rank, const std::string& reason) {
  std::string line = reason;
  std::replace(line.begin(), line.end(), '\n', ' ');
  std::fprintf(stderr, "kelvin-mpi: rank %d: error: %s\n", rank, line.c_str());
  std::fflush(stderr);
}

}  // namespace

int main(int argc, char** argv) {
  namespace km = kelvin::tools::kelvin_mpi;
  auto logger = spdlog::stderr_color_mt("kelvin-mpi");
  logger->set_pattern("[%H:%M:%S.%e] [%^%l%$] %n: %v");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::warn);
  if (const auto level = kelvin::common::log_level_from_environment(nullptr))
    spdlog::set_level(*level);

  std::optional<kelvin::runtime::mpi::MpiSession> session;
  try {
    session.emplace(&argc, &argv);
  } catch (const std::exception& e) {
    print_error(0, fmt::format("cannot start MPI: {}", e.what()));
    return kExitRuntimeError;
  }
  const int rank = session->world_rank();

  CLI::App app{"kelvin-mpi: kelvin's distributed jobs, one board per MPI rank.", "kelvin-mpi"};
  app.require_subcommand(1);
  std::vector<km::Command> commands = {km::add_ping_command(app), km::add_solve_command(app),
                                       km::add_temper_command(app), km::add_sample_command(app)};
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // Every rank parsed the same line; rank 0 alone prints help or the usage error.
    const int code = rank == 0 ? app.exit(e) : (e.get_exit_code() == 0 ? 0 : kExitUsageError);
    return code == 0 ? 0 : kExitUsageError;
  }
  kelvin::runtime::mpi::MpiCollective group;
  try {
    km::set_local_rank(session->local_rank());
  } catch (const std::exception& e) {
    print_error(rank, e.what());
    return kExitRuntimeError;
  }
  for (const auto& command : commands) {
    if (!command.app->parsed())
      continue;
    try {
      const std::string out = command.run(group);
      if (rank == 0)
        std::fputs(out.c_str(), stdout);
      return 0;
    } catch (const kelvin::tools::cli::UsageError& e) {
      if (rank == 0)
        print_error(rank, e.what());
      return kExitUsageError;
    } catch (const kelvin::common::Error& e) {
      print_error(rank, fmt::format("{}: {}", kelvin::common::to_string(e.kind()), e.what()));
      if (group.poisoned())
        session->abort(kExitRuntimeError);
      return kExitRuntimeError;
    } catch (const std::exception& e) {
      print_error(rank, e.what());
      session->abort(kExitRuntimeError);
    }
  }
  return kExitUsageError;
}
