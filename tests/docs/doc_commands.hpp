// The kelvin command lines that README.md and docs/*.md show, found the way a reader finds them:
// lines of fenced code blocks and inline code spans that start with `kelvin ` (after optional
// VAR=value assignments). Each is classified so that the docs test knows what it can run:
//   kRun       a complete command on an emulated board: run it, it must exit as documented
//   kSynopsis  a usage line with placeholders ([--json], URI, FILE, a|b): every option it names
//              must exist in the command's --help
//   kRemote    a complete command that needs a server or USB board (tcp:, unix:, usb:): its
//              options are checked like a synopsis; it is not run
// The expected exit code is 0 unless the line's comment says "exit N" or "exits N".
//
// Thread contract: plain functions and value types; safe from any thread.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace kelvin::testing::docs {

enum class DocCommandKind { kRun, kSynopsis, kRemote };

struct DocCommand {
  std::string file;  // relative to the source tree, e.g. "docs/streaming.md"
  int line = 0;      // where it starts, 1-based
  std::string text;  // the command line, comment removed, continuation lines joined
  DocCommandKind kind = DocCommandKind::kRun;
  int expected_exit = 0;

  // "docs/streaming.md:148: kelvin stream ..."
  std::string where() const;
  // The subcommand ("solve"), or empty for a bare `kelvin`.
  std::string subcommand() const;
  // Every "--option" token of the line (without any "=value").
  std::vector<std::string> options() const;
};

// Files whose names are placeholders in the docs ("--matrix A --rhs b") and that the docs test
// provides, so that such lines run rather than count as synopses.
const std::vector<std::string>& fixture_file_names();

// The commands of one Markdown text.
std::vector<DocCommand> extract_commands(const std::string& markdown, const std::string& file);

// README.md and every docs/*.md under `source_dir`, in file order.
std::vector<DocCommand> extract_all_commands(const std::filesystem::path& source_dir);

}  // namespace kelvin::testing::docs
