// The firmware_bug= spec of the emulated boards (sim_backend/firmware_bugs.hpp): every kind
// parses, bad items are refused naming the item, and the canonical text round-trips. What each
// bug does to a board is shown by the conformance suite (tests/conformance/firmware_bug_test.cpp).
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "kelvin/sim_backend/firmware_bugs.hpp"

namespace kelvin::sim_backend {
namespace {

std::string error_of(const std::string& text) {
  try {
    (void)parse_firmware_bug_spec(text);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST(FirmwareBugSpec, EveryKindParsesByItsName) {
  for (const FirmwareBug bug : all_firmware_bugs()) {
    const FirmwareBugSpec spec = parse_firmware_bug_spec(to_string(bug));
    ASSERT_EQ(spec.bugs.size(), 1u);
    EXPECT_TRUE(spec.has(bug));
  }
}

TEST(FirmwareBugSpec, ACommaListKeepsItsOrderAndRoundTrips) {
  const std::string text = "timed_start_ignored,any_hello_version";
  const FirmwareBugSpec spec = parse_firmware_bug_spec(text);
  EXPECT_TRUE(spec.has(FirmwareBug::kTimedStartIgnored));
  EXPECT_TRUE(spec.has(FirmwareBug::kAnyHelloVersion));
  EXPECT_FALSE(spec.has(FirmwareBug::kResumeIgnored));
  EXPECT_EQ(to_string(spec), text);
}

TEST(FirmwareBugSpec, BadItemsAreRefusedByName) {
  EXPECT_NE(error_of("resume_ignored,flaky").find("'flaky': unknown bug"), std::string::npos);
  EXPECT_NE(error_of("flaky").find("resume_ignored"), std::string::npos) << "lists the kinds";
  EXPECT_NE(error_of("resume_ignored,").find("empty item"), std::string::npos);
  EXPECT_NE(error_of("").find("empty item"), std::string::npos);
  EXPECT_NE(error_of("resume_ignored,resume_ignored").find("named twice"), std::string::npos);
}

}  // namespace
}  // namespace kelvin::sim_backend
