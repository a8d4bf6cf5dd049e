#include "kelvin/driver/device_address.hpp"

#include <gtest/gtest.h>

#include "driver_test_names.hpp"

namespace kelvin::driver {
namespace {

TEST(DeviceAddress, ParsesSchemeTargetAndParameters) {
  const auto a = DeviceAddress::parse("sim:resonator?cells=8&seed=1");
  EXPECT_EQ(a.scheme, "sim");
  EXPECT_EQ(a.target, "resonator");
  EXPECT_EQ(a.params.at("cells"), "8");
  EXPECT_EQ(a.params.at("seed"), "1");
  EXPECT_EQ(a.get_uint("cells", 0, 1, 256), 8u);
  EXPECT_EQ(a.get_uint("missing", 42, 1, 256), 42u);
}

TEST(DeviceAddress, KeepsColonsInTheTarget) {
  const auto a = DeviceAddress::parse("tcp:127.0.0.1:5555?board=2");
  EXPECT_EQ(a.scheme, "tcp");
  EXPECT_EQ(a.target, "127.0.0.1:5555");
  EXPECT_EQ(a.params.at("board"), "2");
}

TEST(DeviceAddress, PrintsACanonicalFormThatParsesBack) {
  const auto a = DeviceAddress::parse("sim:resonator?seed=3&cells=16");
  EXPECT_EQ(a.to_string(), "sim:resonator?cells=16&seed=3");
  EXPECT_EQ(DeviceAddress::parse(a.to_string()).params, a.params);
}

TEST(DeviceAddress, RejectsMalformedAddressesWithInvalidArgument) {
  EXPECT_EQ(kind_of([] { DeviceAddress::parse("resonator"); }), ErrorKind::kInvalidArgument);
  EXPECT_EQ(kind_of([] { DeviceAddress::parse(":resonator"); }), ErrorKind::kInvalidArgument);
  EXPECT_EQ(kind_of([] { DeviceAddress::parse("SIM:resonator"); }), ErrorKind::kInvalidArgument);
  EXPECT_EQ(kind_of([] { DeviceAddress::parse("sim:resonator?cells=1&cells=2"); }),
            ErrorKind::kInvalidArgument);
  EXPECT_EQ(kind_of([] { DeviceAddress::parse("sim:resonator?=3"); }), ErrorKind::kInvalidArgument);
}

TEST(DeviceAddress, RejectsNonNumericOrOutOfRangeIntegerParameters) {
  const auto a = DeviceAddress::parse("sim:resonator?cells=abc&big=300&neg=-1");
  EXPECT_THROW(a.get_uint("cells", 8, 1, 256), Error);
  EXPECT_THROW(a.get_uint("big", 8, 1, 256), Error);
  EXPECT_THROW(a.get_uint("neg", 8, 0, 256), Error);
  try {
    a.get_uint("big", 8, 1, 256);
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("big=300"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace kelvin::driver
