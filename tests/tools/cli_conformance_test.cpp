// kelvin conformance, end to end on the emulated board: a healthy board passes every case that
// can run against a plain URI (the rest are skipped with a reason); a board with a deliberately
// broken firmware behaviour (firmware_bug=) fails its case, with the report still printed, the
// exit code 1, and the JUnit file naming the failed case.
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

TEST(KelvinConformance, AHealthyBoardPassesEveryCaseThatCanRun) {
  TempDir dir;
  const Outcome o = run_kelvin(dir, {"conformance", "--uri", "sim:resonator?cells=4", "--json",
                                     "--junit", (dir / "cases.xml").string()});
  ASSERT_EQ(o.exit_code, 0) << o.out << o.err;
  const json r = parse_stdout(o);
  EXPECT_TRUE(r["ok"].get<bool>());
  EXPECT_EQ(r["failed"].get<int>(), 0);
  EXPECT_GE(r["passed"].get<int>(), 13);
  EXPECT_EQ(r["passed"].get<int>() + r["skipped"].get<int>(), static_cast<int>(r["cases"].size()));
  for (const json& c : r["cases"]) {
    if (c["outcome"] == "skipped") {
      EXPECT_FALSE(c["message"].get<std::string>().empty()) << c["id"] << " says why";
    }
  }
  const std::string xml = read_file(dir / "cases.xml");
  EXPECT_NE(xml.find("name=\"stream.timed_start\""), std::string::npos) << xml;
  EXPECT_EQ(xml.find("<failure"), std::string::npos) << xml;
}

TEST(KelvinConformance, ABrokenFirmwareFailsItsCaseAndStillPrintsTheReport) {
  TempDir dir;
  const Outcome o = run_kelvin(
      dir, {"conformance", "--uri", "sim:resonator?cells=4&firmware_bug=timed_start_ignored",
            "--junit", (dir / "cases.xml").string()});
  EXPECT_EQ(o.exit_code, 1) << o.err;
  EXPECT_NE(o.out.find("1 failed"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("failed  stream.timed_start"), std::string::npos) << o.out;
  // The failure names what was expected, what came and the frame that showed it.
  EXPECT_NE(o.out.find("expected first_tick"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("stream_started {"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("[frame 4b 56"), std::string::npos) << o.out;
  EXPECT_NE(o.err.find("1 of"), std::string::npos) << o.err;
  const std::string xml = read_file(dir / "cases.xml");
  const auto at = xml.find("name=\"stream.timed_start\"");
  ASSERT_NE(at, std::string::npos) << xml;
  EXPECT_NE(xml.find("<failure", at), std::string::npos) << xml;
}

TEST(KelvinConformance, JsonNamesTheFailedCase) {
  TempDir dir;
  const Outcome o = run_kelvin(
      dir, {"conformance", "--uri", "sim:resonator?cells=4&firmware_bug=out_of_range_acked",
            "--only", "requests.", "--json"});
  EXPECT_EQ(o.exit_code, 1) << o.err;
  const json r = parse_stdout(o);
  EXPECT_FALSE(r["ok"].get<bool>());
  EXPECT_EQ(r["failed"].get<int>(), 1);
  for (const json& c : r["cases"]) {
    EXPECT_EQ(c["id"].get<std::string>().rfind("requests.", 0), 0u) << "--only selects";
    EXPECT_EQ(c["outcome"] == "failed", c["id"] == "requests.out_of_range_is_refused") << c;
  }
}

TEST(KelvinConformance, AnUnknownFirmwareBugIsAUsageErrorNamingIt) {
  TempDir dir;
  const Outcome o =
      run_kelvin(dir, {"conformance", "--uri", "sim:resonator?cells=4&firmware_bug=flaky"});
  const std::string line = expect_one_error_line(o);
  EXPECT_NE(line.find("'flaky': unknown bug"), std::string::npos) << line;
}

}  // namespace
}  // namespace kelvin::tools::matrix_io::testing
