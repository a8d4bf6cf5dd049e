// The one JUnit XML writer of the kelvin program: `kelvin selftest --junit FILE` and `kelvin
// conformance --junit FILE` write their checks through it, so that a CI system (Jenkins, GitLab,
// GitHub's test reporters) shows each check as a test case with its failure message.
//
// Thread contract: pure functions; safe from any thread.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace kelvin::tools::cli {

// One check as a JUnit test case.
struct JunitCase {
  std::string name;                    // the check, e.g. "dac_adc_response[cell 3]"
  std::string classname;               // the group it belongs to, e.g. "selftest.resonator"
  double time_s = 0.0;                 // wall time of the check
  bool skipped = false;                // not run (the message, if any, says why)
  std::optional<std::string> failure;  // set when the check failed: what was wrong, by how much
  std::string output;                  // extra text for <system-out> (may be empty)
};

// A <testsuites> document with one <testsuite name=suite> holding `cases`; text is XML-escaped
// (control characters other than tab and newline become U+FFFD's XML form).
std::string junit_xml(std::string_view suite, std::span<const JunitCase> cases);
// Writes junit_xml() to `path` (replacing it). Throws std::runtime_error naming the path.
void write_junit_file(const std::string& path, std::string_view suite,
                      std::span<const JunitCase> cases);

}  // namespace kelvin::tools::cli
