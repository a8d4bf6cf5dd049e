// `kelvin sample` end to end (run as a child process on the emulated p-bit board): the error
// bars and diagnostics in its JSON and text, and what it refuses before touching the board.
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli_runner.hpp"
#include "test_files.hpp"

namespace kelvin::tools::matrix_io {
namespace {

using nlohmann::json;
using testing::expect_one_error_line;
using testing::Outcome;
using testing::parse_stdout;
using testing::run_kelvin;
using testing::TempDir;

constexpr const char* kSmallBoard = "sim:pbit?rows=4&cols=4&degree=8&seed=1";
constexpr const char* kChainModel =
    R"({"nodes": 3, "edges": [[0, 1, 2], [1, 2, -1]], "bias": [1, 0, 0]})";
// A ferromagnetic ring of 8 spins on the 2 x 4 lattice, J = 2: at beta 0.75 its magnetization
// reverses about once per 100 sweeps, too slowly for a default job of 1,000.
constexpr const char* kRingModel =
    R"({"nodes": 8, "edges": [[0, 1, 2], [1, 2, 2], [2, 3, 2], [3, 7, 2], [7, 6, 2], [6, 5, 2],
        [5, 4, 2], [4, 0, 2]], "bias": [1, 0, 0, 0, 0, 0, 0, 0]})";

TEST(KelvinCliSample, JsonGivesAStderrPerMeanAndPerCorrelationAndSaysHow) {
  TempDir dir;
  const auto model = dir.write("model.json", kChainModel);
  const Outcome outcome =
      run_kelvin(dir, {"sample", "--uri", kSmallBoard, "--model", model.string(), "--chains", "4",
                       "--beta", "0.5", "--json"});
  ASSERT_EQ(outcome.exit_code, 0) << outcome.err;
  const json r = parse_stdout(outcome);
  ASSERT_EQ(r["mean_stderr"].size(), 3u);
  ASSERT_EQ(r["edge_correlation_stderr"].size(), 2u);
  for (const auto& key : {"mean_stderr", "edge_correlation_stderr"}) {
    for (const auto& se : r[key]) {
      ASSERT_TRUE(se.is_number()) << key << ": " << r[key].dump();
      EXPECT_GT(se.get<double>(), 0.0);
      EXPECT_LT(se.get<double>(), 0.1);
    }
  }
  EXPECT_EQ(r.value("stderr_dof", 0), 3);
  EXPECT_NE(r.value("stderr_method", "").find("4 chain means"), std::string::npos);
  EXPECT_EQ(r["mean_ess"].size(), 3u);
  EXPECT_EQ(r["mean_split_rhat"].size(), 3u);
  const json& s = r["summary"];
  EXPECT_EQ(s.value("error_bars_given", ""), "auto");
  EXPECT_EQ(s.value("error_bars_used", ""), "chains");
  EXPECT_EQ(s.value("stderr_dof", 0), 3);
  EXPECT_LT(s.value("split_rhat_max", 9.0), 1.01);
  EXPECT_EQ(s.value("nodes_swept", 0), 16);
  EXPECT_TRUE(r["warnings"].empty()) << r["warnings"].dump();
}

TEST(KelvinCliSample, WarnsInTextAndJsonWhenTheChainsHaveNotMixed) {
  TempDir dir;
  const auto model = dir.write("ring.json", kRingModel);
  const std::vector<std::string> args = {
      "sample", "--uri", "sim:pbit?rows=2&cols=4&degree=8", "--model", model.string(),
      "--beta", "0.75"};
  const Outcome text = run_kelvin(dir, args);
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("stderr: batch means of the chain (20 batches"), std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("warning: the chains have not mixed: split R-hat"), std::string::npos)
      << text.out;
  std::vector<std::string> json_args = args;
  json_args.push_back("--json");
  const Outcome as_json = run_kelvin(dir, json_args);
  ASSERT_EQ(as_json.exit_code, 0) << as_json.err;
  const json r = parse_stdout(as_json);
  ASSERT_FALSE(r["warnings"].empty());
  EXPECT_NE(r["warnings"][0].get<std::string>().find("--chains"), std::string::npos);
  EXPECT_GT(r["summary"].value("split_rhat_max", 0.0), 1.01);
  EXPECT_EQ(r["summary"]["warnings"], r["warnings"]);
}

TEST(KelvinCliSample, RefusesMoreChainsThanTheBoardRunsNamingItsLimit) {
  TempDir dir;
  const auto model = dir.write("model.json", kChainModel);
  const Outcome outcome = run_kelvin(
      dir, {"sample", "--uri", kSmallBoard, "--model", model.string(), "--chains", "1024"});
  EXPECT_EQ(outcome.exit_code, 2);
  const std::string line = expect_one_error_line(outcome);
  EXPECT_NE(line.find("chains = 1024 (the board runs at most 64 chains"), std::string::npos)
      << line;
}

TEST(KelvinCliSample, RefusesABetaThatRoundsToTheUniformLawAndWarnsOfOneFarOff) {
  TempDir dir;
  const auto model = dir.write("model.json", kChainModel);
  const Outcome refused = run_kelvin(
      dir, {"sample", "--uri", kSmallBoard, "--model", model.string(), "--beta", "0.001"});
  EXPECT_EQ(refused.exit_code, 2);
  const std::string line = expect_one_error_line(refused);
  EXPECT_NE(line.find("beta = 0.001 rounds to beta code 0"), std::string::npos) << line;
  EXPECT_NE(line.find("smallest positive beta is 0.00390625"), std::string::npos) << line;

  const Outcome off = run_kelvin(dir, {"sample", "--uri", kSmallBoard, "--model", model.string(),
                                       "--beta", "0.01", "--sweeps", "50", "--json"});
  ASSERT_EQ(off.exit_code, 0) << off.err;
  const json r = parse_stdout(off);
  EXPECT_EQ(r.value("beta_given", 0.0), 0.01);
  EXPECT_EQ(r.value("beta", 0.0), 3.0 / 256);
  EXPECT_EQ(r["summary"].value("beta_step", 0.0), 1.0 / 256);
  bool warned = false;
  for (const auto& w : r["warnings"])
    warned = warned || w.get<std::string>().find("is realized as 0.0117188") != std::string::npos;
  EXPECT_TRUE(warned) << r["warnings"].dump();
}

TEST(KelvinCliSample, HelpExplainsTheErrorBarsAndTheLimits) {
  TempDir dir;
  const Outcome outcome = run_kelvin(dir, {"sample", "--help"});
  ASSERT_EQ(outcome.exit_code, 0) << outcome.err;
  for (const char* text :
       {"--error-bars", "--batches", "Error bars:", "R-hat > 1.01", "max_chains", "1/256"})
    EXPECT_NE(outcome.out.find(text), std::string::npos) << text;
}

}  // namespace
}  // namespace kelvin::tools::matrix_io
