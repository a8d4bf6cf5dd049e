// kelvin selftest [--uri URI] [--json] [--junit FILE] [-o FILE.h5] [--timeout-s S]
//
// Bring-up checks of a board (runtime/selftest/selftest.hpp): link and register writes, each
// cell's or p-bit's response, noise and read-out, each pair's coupling (or a stated sample), the
// board's counters and the stream path. Prints every check (or one JSON object) and exits 1 when
// any check failed, after printing the report; --junit FILE also writes the checks as JUnit XML,
// -o FILE.h5 a run file (docs/run-files.md) with the checks' numbers under /data and every check
// in the JSON summary.
#include <cmath>
#include <cstdint>
#include <limits>
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
#include "run_file_output.hpp"

namespace kelvin::tools::cli {

namespace {

namespace selftest = runtime::selftest;

struct SelftestOptions {
  CommonOptions common;
  std::string junit;
  std::string output;  // -o FILE.h5
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

Json result_json(const selftest::Summary& summary, const std::string& uri) {
  Json result = summary_json(summary);
  Json checks = Json::array();
  for (const selftest::CheckResult& c : summary.checks)
    checks.push_back(check_json(c));
  result["uri"] = uri;
  result["check_results"] = std::move(checks);
  return result;
}

// The checks' numbers, one row per check in the order of "check_results" (NaN where a check has
// no number); outcome 0 pass, 1 fail, 2 skip.
void write_check_data(run_file::RunFile& file, const selftest::Summary& summary) {
  const auto value = [](const std::optional<double>& v) {
    return v ? *v : std::numeric_limits<double>::quiet_NaN();
  };
  std::vector<double> measured, expected, tolerance, time_s;
  std::vector<std::int64_t> outcome;
  for (const selftest::CheckResult& c : summary.checks) {
    measured.push_back(value(c.measured));
    expected.push_back(value(c.expected));
    tolerance.push_back(value(c.tolerance));
    time_s.push_back(c.time_s);
    outcome.push_back(c.outcome == selftest::Outcome::kPass   ? 0
                      : c.outcome == selftest::Outcome::kFail ? 1
                                                              : 2);
  }
  write_data(file, "measured", measured);
  write_data(file, "expected", expected);
  write_data(file, "tolerance", tolerance);
  write_data(file, "time_s", time_s);
  const std::uint64_t n = outcome.size();
  write_data(file, "outcome", outcome, std::span<const std::uint64_t>(&n, 1));
}

std::string run_selftest(const SelftestOptions& o) {
  selftest::Options options;
  options.timeout = o.common.timeout();
  auto device = driver::backends::open(o.common.uri);
  RunRecord record{"selftest", o.common.uri, device->description()};
  record.settings = Json{{"timeout_s", o.common.timeout_s}};
  auto file = open_run_file_if(o.output, record);
  selftest::Summary summary = recording_failure(file, [&] {
    if (device->description().family == driver::BoardFamily::kPbit) {
      driver::PbitBoard board(std::move(device));
      return selftest::run_pbit_selftest(board, options);
    }
    driver::ResonatorBoard board(std::move(device));
    return selftest::run_resonator_selftest(board, options);
  });
  if (!o.junit.empty())
    write_junit_file(o.junit, "kelvin selftest " + summary.serial, junit_cases(summary));
  const Json result = result_json(summary, o.common.uri);
  if (file) {
    write_check_data(*file, summary);
    finish_run_file(*file, result);
  }
  std::string out;
  if (o.common.json) {
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
  add_junit_option(*command, options->junit, "the checks");
  add_run_file_option(*command, options->output);
  add_timeout_option(*command, options->common, std::chrono::seconds(30), "each board request");
  return {command, [options] { return run_selftest(*options); }};
}

}  // namespace kelvin::tools::cli
