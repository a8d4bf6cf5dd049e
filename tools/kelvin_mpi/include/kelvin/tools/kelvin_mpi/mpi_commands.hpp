// kelvin-mpi's subcommands: the runtime's distributed jobs (docs/scale-out.md), one board per MPI
// rank. Each registers its CLI11 sub-app with the shared options (RankOptions below, and the
// kelvin CLI's --json and --timeout-s) and returns the action that runs once the command line has
// parsed. Every rank runs the action; rank 0's return value is what the program prints on stdout
// (the other ranks' is dropped), so an action returns its whole output and throws on failure.
//
// Thread contract: the program is single-threaded (MPI is called from the main thread only).
#pragma once

#include <functional>
#include <string>

#include <CLI/CLI.hpp>

#include "kelvin/runtime/collective.hpp"
#include "kelvin/tools/cli/options.hpp"

namespace kelvin::tools::kelvin_mpi {

// Which board each rank drives: --uri TEMPLATE, in which "{rank}" is replaced by the rank and
// "{local_rank}" by the rank among the ranks on the same host (`sim:pbit?seed={rank}`,
// `tcp:127.0.0.1:7817?board={local_rank}`: each host's kelvind serves its own boards), or
// --uris A,B,... with one URI per rank (a list of the wrong length is a usage error).
struct RankOptions {
  std::string uri_template;
  std::vector<std::string> uris;
};
void add_rank_options(CLI::App& command, RankOptions& options, const std::string& default_uri);
// The rank among the ranks of this host, set once by main() (MPI_Comm_split_type); default 0.
void set_local_rank(int local_rank);
// This rank's URI. Throws cli::UsageError for a --uris list whose length is not the group's size.
std::string rank_uri(const RankOptions& options, const runtime::Collective& group);
// "board URI (serial S)": what names a rank's board in errors (Collective::set_label).
std::string board_label(const std::string& uri, const std::string& serial);

struct Command {
  CLI::App* app = nullptr;
  std::function<std::string(runtime::Collective&)> run;
};

Command add_ping_command(CLI::App& app);
Command add_sample_command(CLI::App& app);
Command add_temper_command(CLI::App& app);
Command add_solve_command(CLI::App& app);

}  // namespace kelvin::tools::kelvin_mpi
