#include "kelvin/driver/code_scale.hpp"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include "driver_test_names.hpp"

namespace kelvin::driver {
namespace {

CodeScale adc() {
  return CodeScale{16, true, -32768, 32767, 1.0 / 16384, 0.0, "V"};
}

TEST(CodeScale, ConvertsCodesToPhysicalUnits) {
  const auto s = adc();
  EXPECT_DOUBLE_EQ(s.to_physical(std::int64_t{16384}), 1.0);
  EXPECT_DOUBLE_EQ(s.to_physical(std::int64_t{-32768}), -2.0);
  EXPECT_DOUBLE_EQ(s.to_physical(0.5), 0.5 / 16384);
  CodeScale with_offset = s;
  with_offset.offset = 0.25;
  EXPECT_DOUBLE_EQ(with_offset.to_physical(std::int64_t{0}), 0.25);
  EXPECT_EQ(with_offset.to_code(0.25), 0);
}

TEST(CodeScale, RoundsToTheNearestCodeAndBack) {
  const auto s = adc();
  for (std::int64_t code : {-32768, -1, 0, 1, 12345, 32767}) {
    EXPECT_EQ(s.to_code(s.to_physical(code)), code);
    EXPECT_EQ(s.to_code(s.to_physical(code) + 0.49 * s.lsb), code);
  }
  EXPECT_EQ(s.to_code(0.5 * s.lsb), 1);  // ties away from zero
  EXPECT_EQ(s.to_code(-0.5 * s.lsb), -1);
}

TEST(CodeScale, RefusesValuesOutsideTheRange) {
  const auto s = adc();
  EXPECT_EQ(s.to_code(s.max_value() + 0.4 * s.lsb), 32767);  // rounds onto the end code
  try {
    s.to_code(2.5);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kOutOfRange);
    EXPECT_NE(std::string(e.what()).find("outside the range"), std::string::npos);
  }
  EXPECT_THROW(s.to_code(-2.1), Error);
}

TEST(CodeScale, RefusesNonFiniteValues) {
  const auto s = adc();
  try {
    s.to_code(std::numeric_limits<double>::quiet_NaN());
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidArgument);
  }
  EXPECT_THROW(s.to_code(std::numeric_limits<double>::infinity()), Error);
}

TEST(CodeScale, ValidationCatchesInconsistentFormats) {
  EXPECT_NO_THROW(adc().validate("ADC"));
  auto zero_lsb = adc();
  zero_lsb.lsb = 0;
  EXPECT_THROW(zero_lsb.validate("ADC"), Error);
  auto too_wide = adc();
  too_wide.max_code = 40000;
  EXPECT_THROW(too_wide.validate("ADC"), Error);
  auto inverted = adc();
  inverted.min_code = 5;
  inverted.max_code = 4;
  EXPECT_THROW(inverted.validate("ADC"), Error);
}

}  // namespace
}  // namespace kelvin::driver
