// Each deliberately broken firmware behaviour of the emulated board (firmware_bug=KIND,
// sim_backend/firmware_bugs.hpp) fails exactly the conformance case that checks it and passes
// every other; a healthy board fails none. So the suite finds what it claims to find, and a
// firmware author reading a failure knows which behaviour is wrong.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "conformance_targets.hpp"
#include "kelvin/sim_backend/firmware_bugs.hpp"
#include "kelvin/tools/conformance/conformance.hpp"

namespace kelvin::conformance {
namespace {

namespace suite = tools::conformance;
using sim_backend::FirmwareBug;

// The case each bug breaks (documented in docs/protocol.md, "Conformance for firmware authors").
std::string matching_case(FirmwareBug bug) {
  switch (bug) {
    case FirmwareBug::kAnyHelloVersion:
      return "hello.negotiates_the_version";
    case FirmwareBug::kOutOfRangeAcked:
      return "requests.out_of_range_is_refused";
    case FirmwareBug::kStreamLossUncounted:
      return "stream.accounts_for_every_sample";
    case FirmwareBug::kTimedStartIgnored:
      return "stream.timed_start";
    case FirmwareBug::kResumeIgnored:
      return "stream.resumable_read";
  }
  return "";
}

std::set<std::string> failed_cases(const std::string& bugs) {
  suite::Target target;
  target.uri = std::string(kReferenceUri) + (bugs.empty() ? "" : "&firmware_bug=" + bugs);
  const suite::Summary summary = suite::run_suite(target);
  std::set<std::string> failed;
  for (const suite::CaseResult& r : summary.results) {
    if (r.outcome == suite::Outcome::kFailed)
      failed.insert(r.id);
  }
  if (!failed.empty())
    std::cout << summary.report();
  return failed;
}

TEST(ConformanceFindsFirmwareBugs, AHealthyBoardFailsNoCase) {
  EXPECT_EQ(failed_cases(""), std::set<std::string>{});
}

class EachFirmwareBug : public ::testing::TestWithParam<FirmwareBug> {};

TEST_P(EachFirmwareBug, FailsExactlyItsCase) {
  const FirmwareBug bug = GetParam();
  EXPECT_EQ(failed_cases(sim_backend::to_string(bug)), std::set<std::string>{matching_case(bug)});
}

INSTANTIATE_TEST_SUITE_P(EveryKind, EachFirmwareBug,
                         ::testing::ValuesIn(sim_backend::all_firmware_bugs().begin(),
                                             sim_backend::all_firmware_bugs().end()),
                         [](const ::testing::TestParamInfo<FirmwareBug>& bug) {
                           return std::string(sim_backend::to_string(bug.param));
                         });

TEST(ConformanceFindsFirmwareBugs, SeveralBugsFailTheirCasesTogether) {
  EXPECT_EQ(failed_cases("timed_start_ignored,resume_ignored"),
            (std::set<std::string>{"stream.timed_start", "stream.resumable_read"}));
}

}  // namespace
}  // namespace kelvin::conformance
