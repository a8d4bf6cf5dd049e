// The protocol conformance suite (tools/conformance: one list of cases, the same that `kelvin
// conformance --uri URI` runs) on every way of reaching a board: each case runs against each
// target (conformance_targets.hpp) on a board of its own, and fails with the case's message
// (what was expected, what was received, the frame that showed it). What a user can do with one
// transport must work, unchanged, with the others.
#include <gtest/gtest.h>

#include <cctype>
#include <memory>
#include <string>
#include <tuple>

#include "conformance_targets.hpp"
#include "kelvin/tools/conformance/conformance.hpp"

namespace kelvin::conformance {
namespace {

namespace suite = tools::conformance;

constexpr const char* kDisconnectCase = "link.disconnect_fails_with_disconnected";

std::string identifier(std::string text) {
  for (char& ch : text) {
    if (!std::isalnum(static_cast<unsigned char>(ch)))
      ch = '_';
  }
  return text;
}

class Conformance : public ::testing::TestWithParam<std::tuple<TargetKind, std::size_t>> {};

TEST_P(Conformance, CasePasses) {
  const auto [kind, index] = GetParam();
  const suite::Case& c = suite::cases().at(index);
  const auto target = make_target(kind);
  if (!target)
    GTEST_SKIP() << "target not available in this build";
  suite::Target where;
  where.uri = target->uri();
  where.reference_uri = kReferenceUri;
  // The emulated USB board cannot inject a disconnect: its firmware thread cannot unplug the
  // device it runs in, so the board would only hang; the case is skipped there.
  std::unique_ptr<Target> disconnecting;
  if (c.id == kDisconnectCase && kind != TargetKind::kUsb) {
    disconnecting = make_target(kind, "disconnect:300ms");
    where.disconnecting_uri = disconnecting->uri();
  }
  const suite::CaseResult result = suite::run_case(c, where);
  if (result.outcome == suite::Outcome::kSkipped)
    GTEST_SKIP() << result.message;
  EXPECT_EQ(result.outcome, suite::Outcome::kPassed) << c.id << ": " << result.message;
}

INSTANTIATE_TEST_SUITE_P(EveryTransportAndCase, Conformance,
                         ::testing::Combine(::testing::ValuesIn(all_targets()),
                                            ::testing::Range(std::size_t{0},
                                                             suite::cases().size())),
                         [](const ::testing::TestParamInfo<Conformance::ParamType>& param) {
                           return std::string(to_string(std::get<0>(param.param))) + "_" +
                                  identifier(suite::cases().at(std::get<1>(param.param)).id);
                         });

}  // namespace
}  // namespace kelvin::conformance
