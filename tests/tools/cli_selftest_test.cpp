// `kelvin selftest` end to end: exit codes, the text report, --json and --junit.
#include <fstream>
#include <iterator>
#include <string>

#include <gtest/gtest.h>

#include "cli_runner.hpp"

namespace kelvin::tools::matrix_io::testing {
namespace {

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(KelvinSelftest, AHealthyBoardPassesAndExitsZero) {
  TempDir dir;
  const Outcome o = run_kelvin(dir, {"selftest", "--uri", "sim:resonator?cells=4"});
  ASSERT_EQ(o.exit_code, 0) << o.err << o.out;
  EXPECT_NE(o.out.find("PASS noise[cell 3]"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("PASS coupling[pair 2-3]"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find(": PASS, 22 checks: 22 passed, 0 failed, 0 skipped; 6 of 6 pairs tested"),
            std::string::npos)
      << o.out;
}

TEST(KelvinSelftest, AFailurePrintsTheReportThenExitsOne) {
  TempDir dir;
  const Outcome o =
      run_kelvin(dir, {"selftest", "--uri", "sim:resonator?cells=4&defect=bias_dead:2"});
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_NE(o.out.find("FAIL dac_gain[cell 2]"), std::string::npos) << o.out;
  EXPECT_NE(o.err.find("selftest failed: 1 of 22 checks failed"), std::string::npos) << o.err;
}

TEST(KelvinSelftest, JsonListsEveryCheckWithItsNumbers) {
  TempDir dir;
  const Outcome o =
      run_kelvin(dir, {"selftest", "--uri", "sim:pbit?rows=4&cols=4&defect=noisy:5", "--json"});
  EXPECT_EQ(o.exit_code, 1) << o.err;
  const json r = parse_stdout(o);
  EXPECT_EQ(r["family"], "pbit");
  EXPECT_FALSE(r["passed"].get<bool>());
  EXPECT_EQ(r["checks_failed"].get<int>(), 1);
  ASSERT_EQ(r["failures"].size(), 1u);
  bool found = false;
  for (const json& c : r["check_results"]) {
    if (c["outcome"] == "fail") {
      found = true;
      EXPECT_EQ(c["check"], "noise");
      EXPECT_EQ(c["subject"], "p-bit 5");
      EXPECT_GT(std::abs(c["measured"].get<double>() - c["expected"].get<double>()),
                c["tolerance"].get<double>());
    }
  }
  EXPECT_TRUE(found);
  EXPECT_TRUE(r.contains("brief"));
  EXPECT_TRUE(r.contains("serial"));
}

TEST(KelvinSelftest, JunitNamesEachCheckAndTheFailure) {
  TempDir dir;
  const auto junit = dir / "selftest.xml";
  const Outcome o = run_kelvin(dir, {"selftest", "--uri", "sim:resonator?cells=3&defect=open:0-2",
                                     "--junit", junit.string()});
  EXPECT_EQ(o.exit_code, 1) << o.err;
  const std::string xml = read_file(junit);
  EXPECT_NE(xml.find("<testsuite name=\"kelvin selftest SIM-RES-3-1\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("name=\"coupling[pair 0-2]\" classname=\"selftest.resonator\""),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("<failure"), std::string::npos);
  EXPECT_NE(xml.find("name=\"noise[cell 1]\""), std::string::npos);
}

TEST(KelvinSelftest, ADefectOnACellTheBoardLacksIsRefusedNamingIt) {
  TempDir dir;
  const Outcome o = run_kelvin(dir, {"selftest", "--uri", "sim:resonator?cells=4&defect=stuck:9"});
  const std::string line = expect_one_error_line(o);
  EXPECT_NE(line.find("defect stuck:9: the board has 4 cells (0 to 3)"), std::string::npos) << line;
}

}  // namespace
}  // namespace kelvin::tools::matrix_io::testing
