// The kelvin program's usability: `kelvin --help` lists every command declared in commands.hpp
// with a one-line description, KELVIN_LOG_LEVEL sets the level of the libraries' loggers
// (--log-level wins), and the progress bar's text (rate, ETA) without a terminal.
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <limits>
#include <regex>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "cli_runner.hpp"
#include "progress_bar.hpp"

namespace kelvin::tools::matrix_io::testing {
namespace {

// Sets an environment variable for the scope (the child inherits it through popen).
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) { ::setenv(name, value, 1); }
  ~ScopedEnv() { ::unsetenv(name_); }

 private:
  const char* name_;
};

TEST(KelvinHelp, ListsEveryDeclaredCommandWithOneLine) {
  std::ifstream header(KELVIN_COMMANDS_HPP);
  const std::string text{std::istreambuf_iterator<char>(header), std::istreambuf_iterator<char>()};
  const std::regex declared(R"(Command add_(\w+)_command\(CLI::App& app\);)");
  std::set<std::string> commands;
  for (std::sregex_iterator it(text.begin(), text.end(), declared), end; it != end; ++it)
    commands.insert(std::regex_replace((*it)[1].str(), std::regex("_"), "-"));  // train-ebm
  ASSERT_GE(commands.size(), 10u) << "commands.hpp: " << KELVIN_COMMANDS_HPP;

  TempDir dir;
  const Outcome o = run_kelvin(dir, {"--help"});
  ASSERT_EQ(o.exit_code, 0) << o.err;
  std::istringstream lines(o.out);
  std::set<std::string> listed;
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    // "  name      Description" on one line (CLI11's SUBCOMMANDS block).
    if (std::regex_match(line, m, std::regex(R"(\s+([\w-]+)\s{2,}(\S.*))")) && commands.count(m[1]))
      listed.insert(m[1].str());
  }
  for (const std::string& c : commands)
    EXPECT_TRUE(listed.count(c)) << "'" << c << "' has no one-line entry in:\n" << o.out;
}

const std::vector<std::string> kSmallSweep{"sweep",    "--uri",  "sim:resonator?cells=2",
                                           "--set",    "bias:0", "--from",
                                           "0",        "--to",   "0.1",
                                           "--points", "2",      "--samples",
                                           "200"};

TEST(KelvinLogLevel, TheEnvironmentVariableSetsEveryLoggersLevel) {
  TempDir dir;
  {
    ScopedEnv env("KELVIN_LOG_LEVEL", "debug");
    const Outcome o = run_kelvin(dir, kSmallSweep);
    ASSERT_EQ(o.exit_code, 0) << o.err;
    EXPECT_NE(o.err.find("[debug] kelvin.runtime: point 2 of 2 measured"), std::string::npos)
        << o.err;
    // The command line wins.
    std::vector<std::string> quiet = kSmallSweep;
    quiet.insert(quiet.end(), {"--log-level", "warn"});
    const Outcome q = run_kelvin(dir, quiet);
    ASSERT_EQ(q.exit_code, 0) << q.err;
    EXPECT_EQ(q.err, "");
  }
  {
    ScopedEnv env("KELVIN_LOG_LEVEL", "off");
    const Outcome o = run_kelvin(dir, kSmallSweep);
    ASSERT_EQ(o.exit_code, 0);
    EXPECT_EQ(o.err, "");
  }
  {
    ScopedEnv env("KELVIN_LOG_LEVEL", "loud");
    const Outcome o = run_kelvin(dir, kSmallSweep);
    ASSERT_EQ(o.exit_code, 0) << o.err;
    ASSERT_EQ(o.err_lines().size(), 1u) << o.err;
    EXPECT_NE(o.err.find("KELVIN_LOG_LEVEL='loud' is not a log level"), std::string::npos);
  }
}

TEST(ProgressBar, ShowsRateAndEta) {
  const std::string line = cli::format_progress("sweep", 25, 100, "points", 5.0, true, "", 80);
  EXPECT_NE(line.find(" 25%"), std::string::npos) << line;
  EXPECT_NE(line.find("25/100 points"), std::string::npos) << line;
  EXPECT_NE(line.find("5 points/s"), std::string::npos) << line;  // 25 in 5 s
  EXPECT_NE(line.find("ETA 0:15"), std::string::npos) << line;    // 75 left at 5/s
  EXPECT_EQ(line.size(), 80u) << line;                            // the bar fills the width
  EXPECT_NE(line.find("[#####"), std::string::npos) << line;
}

TEST(ProgressBar, HasNoRateOrEtaBeforeTheFirstStep) {
  const std::string line = cli::format_progress("stream", 0, 2, "s", 0.0, false, "lost 0", 60);
  EXPECT_NE(line.find("ETA --:--"), std::string::npos) << line;
  EXPECT_EQ(line.find("/s"), std::string::npos) << line;
  EXPECT_NE(line.find("lost 0"), std::string::npos) << line;
  EXPECT_NE(cli::format_progress("x", 0, 2, "points", 0.0, true, "", 60).find("- points/s"),
            std::string::npos);
}

TEST(ProgressBar, FormatsLongEtas) {
  EXPECT_EQ(cli::format_eta(0.4), "0:00");
  EXPECT_EQ(cli::format_eta(65), "1:05");
  EXPECT_EQ(cli::format_eta(3725), "1:02:05");
  EXPECT_EQ(cli::format_eta(-1), "--:--");
  EXPECT_EQ(cli::format_eta(std::numeric_limits<double>::infinity()), "--:--");
}

}  // namespace
}  // namespace kelvin::tools::matrix_io::testing
