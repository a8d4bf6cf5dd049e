// kelvin sweep end to end on the emulated boards: every point in the JSON and the CSV, the
// library's refusal of a point outside a limit, and Ctrl-C (SIGINT sent to the running program)
// keeping the points measured so far, with exit code 130.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "cli_runner.hpp"

extern char** environ;

namespace kelvin::tools::matrix_io::testing {
namespace {

std::string read_all(const std::filesystem::path& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  return lines;
}

TEST(KelvinSweep, JsonAndCsvHoldEveryPoint) {
  TempDir dir;
  const auto csv = dir / "points.csv";
  const Outcome o = run_kelvin(
      dir, {"sweep", "--uri", "sim:resonator?cells=2&seed=4", "--set", "bias:0", "--from", "0",
            "--to", "0.2", "--points", "3", "--samples", "2000", "--json", "-o", csv.string()});
  ASSERT_EQ(o.exit_code, 0) << o.err;
  EXPECT_EQ(o.err, "");  // stderr is a file, not a terminal: no progress bar
  const json r = parse_stdout(o);
  ASSERT_EQ(r["points"].size(), 3u);
  EXPECT_EQ(r["points_done"], 3);
  EXPECT_FALSE(r["interrupted"].get<bool>());
  EXPECT_TRUE(r["restored"].get<bool>());
  EXPECT_EQ(r["settings"][0], "bias:0");
  // 0.2 V/us rounds to the nearest bias code (lsb 2^-13 V/us).
  EXPECT_NEAR(r["points"][2]["set_value_1"].get<double>(), 0.2, 0.5 / 8192.0);
  EXPECT_EQ(r["points"][2]["set_code_1"], 1638);
  EXPECT_EQ(r["points"][0]["mean"].size(), 2u);
  EXPECT_EQ(r["points"][0]["mean_stderr"].size(), 2u);
  EXPECT_TRUE(r.contains("applied"));
  const auto rows = lines_of(read_all(csv));
  ASSERT_EQ(rows.size(), 5u);  // the brief report, the header, 3 points
  EXPECT_EQ(rows[1].rfind("index,set_value_1,set_code_1,mean_c0,mean_c1,", 0), 0u) << rows[1];
}

TEST(KelvinSweep, APointOutsideTheLimitIsRefusedWithOneLine) {
  TempDir dir;
  const Outcome o =
      run_kelvin(dir, {"sweep", "--uri", "sim:resonator?cells=2", "--set", "bias:0", "--from", "0",
                       "--to", "0.5", "--points", "3", "--limit", "bias:0=-0.1:0.3"});
  const std::string line = expect_one_error_line(o);
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_NE(line.find("bias:0 = 0.5"), std::string::npos) << line;
  EXPECT_NE(line.find("nothing was applied"), std::string::npos) << line;
}

// Starts kelvin with stdout and stderr in files; returns its pid.
pid_t spawn_kelvin(const std::vector<std::string>& args, const std::filesystem::path& out,
                   const std::filesystem::path& err) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out.c_str(), O_WRONLY | O_CREAT, 0644);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err.c_str(), O_WRONLY | O_CREAT, 0644);
  std::vector<std::string> all{KELVIN_CLI_PATH};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, KELVIN_CLI_PATH, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  EXPECT_EQ(rc, 0);
  return pid;
}

TEST(KelvinSweep, CtrlCKeepsTheMeasuredPointsAndExitsWith130) {
  TempDir dir;
  const auto out = dir / "out.json";
  const auto err = dir / "err.txt";
  const auto csv = dir / "points.csv";
  // 100000 points of 20000 samples: minutes of work, far more than is measured before the
  // signal arrives.
  const pid_t pid = spawn_kelvin({"sweep", "--uri", "sim:resonator?cells=2", "--set", "bias:0",
                                  "--from", "0", "--to", "0.5", "--points", "100000", "--samples",
                                  "20000", "--json", "-o", csv.string(), "--log-level", "debug"},
                                 out, err);
  ASSERT_GT(pid, 0);
  // Wait (up to 60 s) until the program has logged its third point.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (read_all(err).find("point 3 of 100000 measured") == std::string::npos &&
         std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(::kill(pid, SIGINT), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << "killed by signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 130) << read_all(err);
  const json r = json::parse(read_all(out));
  EXPECT_TRUE(r["interrupted"].get<bool>());
  EXPECT_TRUE(r["restored"].get<bool>());
  const std::size_t done = r["points_done"].get<std::size_t>();
  EXPECT_GE(done, 3u);
  EXPECT_LT(done, 100000u);
  ASSERT_EQ(r["points"].size(), done);
  for (std::size_t k = 0; k < done; ++k)
    EXPECT_EQ(r["points"][k]["index"], k);
  EXPECT_EQ(lines_of(read_all(csv)).size(), done + 2);  // the brief report, the header
  EXPECT_NE(read_all(err).find("kelvin: error: interrupted"), std::string::npos);
}

}  // namespace
}  // namespace kelvin::tools::matrix_io::testing
