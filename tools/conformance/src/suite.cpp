#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

#include "case_lists.hpp"
#include "case_support.hpp"
#include "kelvin/common/logging.hpp"
#include "kelvin/driver/backends/backends.hpp"

namespace kelvin::tools::conformance {

void Target::validate() const {
  if (uri.empty())
    throw std::invalid_argument("Target.uri: the board under test is required");
  for (const std::string& prefix : only) {
    if (prefix.empty())
      throw std::invalid_argument("Target.only: an empty case prefix");
  }
}

const char* to_string(Outcome outcome) noexcept {
  switch (outcome) {
    case Outcome::kPassed:
      return "passed";
    case Outcome::kFailed:
      return "failed";
    case Outcome::kSkipped:
      return "skipped";
  }
  return "unknown";
}

std::unique_ptr<driver::Device> CaseContext::open() const {
  return open(target_.uri);
}

std::unique_ptr<driver::Device> CaseContext::open(const std::string& uri) const {
  return driver::backends::open(uri, target_.open);
}

const std::vector<Case>& cases() {
  static const std::vector<Case> all = [] {
    std::vector<Case> list;
    for (auto part : {detail::session_cases(), detail::request_cases(), detail::stream_cases(),
                      detail::link_cases()}) {
      list.insert(list.end(), part.begin(), part.end());
    }
    return list;
  }();
  return all;
}

CaseResult run_case(const Case& c, const Target& target) {
  CaseResult result;
  result.id = c.id;
  result.group = c.id.substr(0, c.id.find('.'));
  result.title = c.title;
  const auto begin = std::chrono::steady_clock::now();
  try {
    const CaseContext context(target);
    c.run(context);
  } catch (const detail::CaseSkipped& e) {
    result.outcome = Outcome::kSkipped;
    result.message = e.what();
  } catch (const std::exception& e) {
    result.outcome = Outcome::kFailed;
    result.message = e.what();
  }
  result.time = std::chrono::steady_clock::now() - begin;
  common::logger("kelvin.conformance")
      ->info("{}: {}{}{}", c.id, to_string(result.outcome), result.message.empty() ? "" : ": ",
             result.message);
  return result;
}

std::size_t Summary::count(Outcome outcome) const {
  return static_cast<std::size_t>(std::count_if(
      results.begin(), results.end(), [&](const CaseResult& r) { return r.outcome == outcome; }));
}

std::string Summary::brief() const {
  return fmt::format("conformance of {}{}: {} passed, {} failed, {} skipped", uri,
                     serial.empty() ? "" : " (" + serial + ")", count(Outcome::kPassed),
                     count(Outcome::kFailed), count(Outcome::kSkipped));
}

std::string Summary::report() const {
  std::string text = brief() + "\n";
  for (const CaseResult& r : results) {
    text += fmt::format("  {:<7} {} ({:.0f} ms)\n", to_string(r.outcome), r.id,
                        std::chrono::duration<double, std::milli>(r.time).count());
    std::size_t begin = 0;
    while (begin < r.message.size()) {  // each line of the message, indented under the case
      const std::size_t end = std::min(r.message.find('\n', begin), r.message.size());
      text += fmt::format("          {}\n", r.message.substr(begin, end - begin));
      begin = end + 1;
    }
  }
  return text;
}

Summary run_suite(const Target& target) {
  target.validate();
  Summary summary;
  summary.uri = target.uri;
  summary.serial = driver::backends::open(target.uri, target.open)->description().serial;
  for (const Case& c : cases()) {
    const bool selected = target.only.empty() ||
                          std::any_of(target.only.begin(), target.only.end(),
                                      [&](const std::string& p) { return c.id.starts_with(p); });
    if (selected)
      summary.results.push_back(run_case(c, target));
  }
  return summary;
}

}  // namespace kelvin::tools::conformance
