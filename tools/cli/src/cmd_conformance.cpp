// kelvin conformance [--uri URI] [--only PREFIX]... [--json] [--junit FILE]
//
// The wire-protocol conformance suite (tools/conformance), the one CI runs on every transport,
// against any board: for someone bringing up new firmware, each case names the behaviour, and a
// failure says what was expected, what was received and the frame that showed it. The report is
// printed whatever the outcome; the exit code is 1 when a case failed.
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "kelvin/tools/cli/commands.hpp"
#include "kelvin/tools/cli/json_writer.hpp"
#include "kelvin/tools/cli/junit_writer.hpp"
#include "kelvin/tools/cli/options.hpp"
#include "kelvin/tools/conformance/conformance.hpp"

namespace kelvin::tools::cli {

namespace {

struct ConformanceOptions {
  CommonOptions common;
  std::vector<std::string> only;
  std::string junit;
};

std::vector<JunitCase> junit_cases(const conformance::Summary& summary) {
  std::vector<JunitCase> cases;
  for (const conformance::CaseResult& r : summary.results) {
    JunitCase c;
    c.name = r.id;
    c.classname = "conformance." + r.group;
    c.time_s = r.time.count();
    c.skipped = r.outcome == conformance::Outcome::kSkipped;
    if (r.outcome == conformance::Outcome::kFailed)
      c.failure = r.message;
    c.output = r.outcome == conformance::Outcome::kSkipped ? r.message : r.title;
    cases.push_back(std::move(c));
  }
  return cases;
}

std::string run_conformance(const ConformanceOptions& o) {
  conformance::Target target;
  target.uri = o.common.uri;
  target.only = o.only;
  try {
    target.validate();
  } catch (const std::invalid_argument& e) {
    throw UsageError(fmt::format("{} (see 'kelvin conformance --help')", e.what()));
  }
  const conformance::Summary summary = conformance::run_suite(target);
  if (summary.results.empty())
    throw UsageError("--only selects no case (see 'kelvin conformance --help' for the groups)");
  if (!o.junit.empty())
    write_junit_file(o.junit, "kelvin conformance", junit_cases(summary));
  std::string output = o.common.json ? write_json(conformance_json(summary)) : summary.report();
  if (!summary.passed()) {
    throw ExitWithOutput(
        std::move(output), 1,
        fmt::format("{} of {} conformance cases failed",
                    summary.count(conformance::Outcome::kFailed), summary.results.size()));
  }
  return output;
}

}  // namespace

Command add_conformance_command(CLI::App& app) {
  auto options = std::make_shared<ConformanceOptions>();
  CLI::App* command = app.add_subcommand(
      "conformance", "Check a board's firmware against the wire protocol (docs/protocol.md)");
  add_uri_option(*command, options->common);
  command->add_option("--only", options->only,
                      "Run only the cases whose id starts with PREFIX (hello, ping, limits, "
                      "requests, runs, stream, link; repeatable)");
  add_json_flag(*command, options->common, "uri, serial, passed, failed, skipped, cases");
  add_junit_option(*command, options->junit, "the cases");
  return {command, [options] { return run_conformance(*options); }};
}

}  // namespace kelvin::tools::cli
