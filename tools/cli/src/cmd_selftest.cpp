// kelvin selftest [--uri URI] [--json] [--junit FILE] [--timeout-s S]
//
// Bring-up checks of a board (runtime/selftest/selftest.hpp): link and register writes, each
// cell's or p-bit's response, noise and read-out, each pair's coupling (or a stated sample), the
// board's counters and the stream path. Prints every check (or one JSON object) and exits 1 when
// any check failed, after printing the report; --junit FILE also writes the checks as JUnit XML.
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "kelvin/driver/backends/backends.hpp"
#include "kelvin/runtime/selftest/selftest.hpp"
#include "kelvin/tools/cli/commands.hpp"
#include "kelvin/tools/cli/json_writer.hpp"
#include "kelvin/tools/cli/junit_writer.hpp"
#include "kelvin/tools/cli/options.hpp"

namespace kelvin::tools::cli {

namespace {

namespace selftest = runtime::selftest;

struct SelftestOptions {
  CommonOptions common;
  std::string junit;
};

Json check_json(const selftest::CheckResult& c) {
  const auto number = [](const std::optional<double>& v) { return v ? Json(*v) : Json(nullptr); };
  return Json{{"check", c.check},
              {"subject", c.subject},
              {"outcome", selftest::to_string(c.outcome)},
              {"measured", number(c.measured)},
              {"expected", number(c.expected)},
              {"tolerance", number(c.tolerance)},
              {"unit", c.unit},
              {"message", c.message},
              {"time_s", c.time_s}};
}

std::vector<JunitCase> junit_cases(const selftest::Summary& s) {
  std::vector<JunitCase> cases;
  for (const selftest::CheckResult& c : s.checks) {
    JunitCase j;
    j.name = c.name();
    j.classname = "selftest." + s.family;
    j.time_s = c.time_s;
    j.skipped = c.outcome == selftest::Outcome::kSkip;
    if (c.outcome == selftest::Outcome::kFail)
      j.failure = c.line();
    j.output = c.line();
    cases.push_back(std::move(j));
  }
  return cases;
}

std::string run_selftest(const SelftestOptions& o) {
  selftest::Options options;
  options.timeout = o.common.timeout();
  auto device = driver::backends::open(o.common.uri);
  selftest::Summary summary;
  if (device->description().family == driver::BoardFamily::kPbit) {
    driver::PbitBoard board(std::move(device));
    summary = selftest::run_pbit_selftest(board, options);
  } else {
    driver::ResonatorBoard board(std::move(device));
    summary = selftest::run_resonator_selftest(board, options);
  }
  if (!o.junit.empty())
    write_junit_file(o.junit, "kelvin selftest " + summary.serial, junit_cases(summary));
  std::string out;
  if (o.common.json) {
    Json result = summary_json(summary);
    Json checks = Json::array();
    for (const selftest::CheckResult& c : summary.checks)
      checks.push_back(check_json(c));
    result["uri"] = o.common.uri;
    result["check_results"] = std::move(checks);
    out = write_json(result);
  } else {
    out = summary.full_report() + "\n" + summary.brief_report() + "\n";
  }
  if (!summary.passed()) {
    throw ExitWithOutput(
        out, 1,
        fmt::format("selftest failed: {} of {} checks failed",
                    summary.count(selftest::Outcome::kFail), summary.checks.size()));
  }
  return out;
}

}  // namespace

Command add_selftest_command(CLI::App& app) {
  auto options = std::make_shared<SelftestOptions>();
  CLI::App* command = app.add_subcommand(
      "selftest", "Bring-up checks that name the broken cell, p-bit or pair (exit 1 on a failure)");
  add_uri_option(*command, options->common);
  add_json_flag(*command, options->common, "summary fields, check_results");
  command->add_option("--junit", options->junit, "Also write the checks as JUnit XML to FILE");
  add_timeout_option(*command, options->common, std::chrono::seconds(30), "each board request");
  return {command, [options] { return run_selftest(*options); }};
}

}  // namespace kelvin::tools::cli
