// The self-test's results: CheckResult lines, Options checks and the Summary's reports.
#include <stdexcept>
#include <string>

#include <fmt/format.h>

#include "kelvin/runtime/selftest/selftest.hpp"

namespace kelvin::runtime::selftest {

const char* to_string(Outcome outcome) noexcept {
  switch (outcome) {
    case Outcome::kPass:
      return "pass";
    case Outcome::kFail:
      return "fail";
    case Outcome::kSkip:
      return "skip";
  }
  return "?";
}

std::string CheckResult::name() const {
  return fmt::format("{}[{}]", check, subject);
}

std::string CheckResult::line() const {
  const char* tag = outcome == Outcome::kPass   ? "PASS"
                    : outcome == Outcome::kFail ? "FAIL"
                                                : "SKIP";
  std::string numbers;
  if (measured && expected && tolerance) {
    numbers = fmt::format(" measured {:.6g}, expected {:.6g} +- {:.3g} {}:", *measured, *expected,
                          *tolerance, unit);
  }
  return fmt::format("{} {}:{} {}", tag, name(), numbers, message);
}

void Options::validate() const {
  const auto positive = [](const char* name, std::uint64_t v) {
    if (v == 0)
      throw std::invalid_argument(fmt::format("selftest Options.{} must be positive", name));
  };
  positive("samples", samples);
  positive("max_pair_rounds", max_pair_rounds);
  positive("stream_samples", stream_samples);
  positive("chains", chains);
  positive("sweeps", sweeps);
  positive("max_edge_rounds", max_edge_rounds);
  if (samples < 1024)
    throw std::invalid_argument("selftest Options.samples must be at least 1024");
  if (!(sigmas >= 3.0 && sigmas <= 20.0))
    throw std::invalid_argument(
        fmt::format("selftest Options.sigmas must be in [3, 20], got {}", sigmas));
  if (timeout.count() <= 0)
    throw std::invalid_argument("selftest Options.timeout must be positive");
}

std::size_t Summary::count(Outcome outcome) const noexcept {
  std::size_t n = 0;
  for (const CheckResult& c : checks)
    n += c.outcome == outcome ? 1 : 0;
  return n;
}

std::vector<std::string> Summary::failures() const {
  std::vector<std::string> out;
  for (const CheckResult& c : checks) {
    if (c.outcome == Outcome::kFail)
      out.push_back(c.line());
  }
  return out;
}

ReportFields Summary::fields() const {
  return with_job_fields({
      field("family", "board family", family),
      field("passed", "all checks passed", passed()),
      field("checks", "checks", checks.size()),
      field("checks_passed", "checks passed", count(Outcome::kPass)),
      field("checks_failed", "checks failed", count(Outcome::kFail)),
      field("checks_skipped", "checks skipped", count(Outcome::kSkip)),
      field("pairs_tested", "pairs tested", pairs_tested, "",
            pairs_tested == pairs_total ? "every pair" : "a deterministic sample"),
      field("pairs_total", "pairs on the board", pairs_total, "",
            family == "pbit" ? "lattice edges" : "cell pairs"),
      field("sigmas", "tolerance", sigmas, "standard errors", "plus the board's allowances", 3),
      field("false_alarm_per_check", "false alarm probability", false_alarm_per_check, "",
            "per statistical check, Gaussian", 3),
      field("failures", "failures", failures()),
  });
}

std::string Summary::brief_report() const {
  std::string out = fmt::format(
      "selftest of {} ({}, {} {}): {}, {} checks: {} passed, {} failed, {} skipped; {} of {} {} "
      "tested",
      serial, family, cells,
      fmt::format("{}{}", family == "pbit" ? "p-bit" : "cell", cells == 1 ? "" : "s"),
      passed() ? "PASS" : "FAIL", checks.size(), count(Outcome::kPass), count(Outcome::kFail),
      count(Outcome::kSkip), pairs_tested, pairs_total, family == "pbit" ? "edges" : "pairs");
  for (const std::string& f : failures())
    out += "\n  " + f;
  return out + warnings_suffix();
}

std::string Summary::full_report() const {
  std::string out = render_report("Selftest summary", fields());
  // Every check on a small board; on a large one (a 70x70 p-bit board has 24,000) the ones that
  // did not pass, the JSON still listing all.
  const bool all = checks.size() <= kMaxListedChecks;
  out += all ? "checks:\n"
             : fmt::format("checks that did not pass ({} passed, not listed):\n",
                           count(Outcome::kPass));
  for (const CheckResult& c : checks) {
    if (all || c.outcome != Outcome::kPass)
      out += "  " + c.line() + "\n";
  }
  return out;
}

}  // namespace kelvin::runtime::selftest
