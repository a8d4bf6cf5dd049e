// Runs the kelvin program as a child process for the CLI tests: stdout through a pipe, stderr
// through a file in the test's TempDir, and the checks every CLI test shares.
//
// Thread contract: one call at a time per TempDir.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <Eigen/Dense>
#include <nlohmann/json.hpp>

#include "test_files.hpp"

namespace kelvin::tools::matrix_io::testing {

using json = nlohmann::json;

struct Outcome {
  int exit_code = -1;
  std::string out;
  std::string err;

  std::vector<std::string> err_lines() const {
    std::vector<std::string> lines;
    std::istringstream in(err);
    for (std::string line; std::getline(in, line);)
      lines.push_back(line);
    return lines;
  }
};

inline std::string shell_quote(const std::string& arg) {
  std::string quoted = "'";
  for (const char c : arg) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  return quoted + "'";
}

// Runs the kelvin binary with `args`; stdout is captured through the pipe, stderr via a file in
// `dir`.
inline Outcome run_kelvin(const TempDir& dir, const std::vector<std::string>& args) {
  const auto err_file = dir / "stderr.txt";
  std::string command = shell_quote(KELVIN_CLI_PATH);
  for (const auto& arg : args)
    command += " " + shell_quote(arg);
  command += " 2>" + shell_quote(err_file.string());

  Outcome outcome;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) {
    ADD_FAILURE() << "popen failed for: " << command;
    return outcome;
  }
  char buffer[4096];
  std::size_t got = 0;
  while ((got = std::fread(buffer, 1, sizeof buffer, pipe)) > 0)
    outcome.out.append(buffer, got);
  const int status = ::pclose(pipe);
  outcome.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream err(err_file);
  outcome.err.assign(std::istreambuf_iterator<char>(err), std::istreambuf_iterator<char>());
  return outcome;
}

inline json parse_stdout(const Outcome& outcome) {
  try {
    return json::parse(outcome.out);
  } catch (const json::exception& e) {
    ADD_FAILURE() << "stdout is not JSON (" << e.what() << "):\n" << outcome.out;
    return json::object();
  }
}

// A failure: non-zero exit, nothing on stdout, and exactly one "kelvin: error: ..." line on
// stderr, which is returned.
inline std::string expect_one_error_line(const Outcome& outcome) {
  EXPECT_NE(outcome.exit_code, 0);
  EXPECT_EQ(outcome.out, "");
  const auto lines = outcome.err_lines();
  EXPECT_EQ(lines.size(), 1u) << "stderr:\n" << outcome.err;
  if (lines.empty())
    return {};
  EXPECT_EQ(lines[0].rfind("kelvin: error: ", 0), 0u) << lines[0];
  return lines[0];
}

inline Eigen::MatrixXd small_spd_matrix() {
  Eigen::MatrixXd a(4, 4);
  a << 3.0, -0.8, 0.4, 0.0,  //
      -0.8, 2.5, 0.6, -0.3,  //
      0.4, 0.6, 2.0, 0.5,    //
      0.0, -0.3, 0.5, 1.5;
  return a;
}

}  // namespace kelvin::tools::matrix_io::testing
