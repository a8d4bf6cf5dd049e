// The JUnit writer that selftest and conformance share: counts, failure messages and escaping.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "kelvin/tools/cli/junit_writer.hpp"

namespace kelvin::tools::cli {
namespace {

TEST(JunitWriter, CountsFailuresAndSkipsAndKeepsTheMessage) {
  std::vector<JunitCase> cases(3);
  cases[0].name = "link";
  cases[0].classname = "selftest.resonator";
  cases[1].name = "dac_adc_response[cell 3]";
  cases[1].classname = "selftest.resonator";
  cases[1].failure = "gain 0.02 (expected 1 +- 0.05)";
  cases[2].name = "pairs";
  cases[2].skipped = true;
  const std::string xml = junit_xml("selftest", cases);
  EXPECT_NE(xml.find("tests=\"3\" failures=\"1\" skipped=\"1\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("<failure message=\"gain 0.02 (expected 1 +- 0.05)\">"), std::string::npos);
  EXPECT_NE(xml.find("<testcase name=\"link\" classname=\"selftest.resonator\""),
            std::string::npos);
  EXPECT_NE(xml.find("<skipped/>"), std::string::npos);
}

TEST(JunitWriter, EscapesMarkupAndControlCharacters) {
  std::vector<JunitCase> cases(1);
  cases[0].name = "a<b & \"c\"";
  cases[0].failure = std::string("frame \x01 'x'");
  const std::string xml = junit_xml("s", cases);
  EXPECT_NE(xml.find("a&lt;b &amp; &quot;c&quot;"), std::string::npos) << xml;
  EXPECT_NE(xml.find("frame &#xFFFD; &apos;x&apos;"), std::string::npos) << xml;
  EXPECT_EQ(xml.find('\x01'), std::string::npos);
}

TEST(JunitWriter, WritingToAMissingDirectoryNamesThePath) {
  const std::vector<JunitCase> cases(1);
  try {
    write_junit_file("/nonexistent-dir/report.xml", "s", cases);
    FAIL() << "expected a failure";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/report.xml"), std::string::npos);
  }
}

}  // namespace
}  // namespace kelvin::tools::cli
