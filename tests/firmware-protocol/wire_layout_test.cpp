// The byte and index layouts host and board share (kelvin/firmware_protocol/wire_layout.hpp).
// Byte order and triangle order are pinned here against literal expectations, so that a change
// in the one shared implementation cannot go unnoticed because both ends changed together.
#include "kelvin/firmware_protocol/wire_layout.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace kelvin::firmware_protocol {
namespace {

std::span<const std::uint8_t> as_bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

TEST(WireLayout, SignedCodesRoundTripThroughBytes) {
  const std::vector<std::int16_t> codes = {0,
                                           1,
                                           -1,
                                           255,
                                           256,
                                           -256,
                                           12345,
                                           -12345,
                                           std::numeric_limits<std::int16_t>::min(),
                                           std::numeric_limits<std::int16_t>::max()};
  const std::string bytes = pack_le16(codes);
  ASSERT_EQ(bytes.size(), 2 * codes.size());
  EXPECT_EQ(unpack_le16(bytes, codes.size(), "codes"), codes);
}

TEST(WireLayout, UnsignedCodesRoundTripThroughBytes) {
  const std::vector<std::uint16_t> codes = {0, 1, 255, 256, 0x8000, 0xABCD, 65535};
  const std::string bytes = pack_le16(codes);
  ASSERT_EQ(bytes.size(), 2 * codes.size());
  EXPECT_EQ(unpack_le16_unsigned(bytes, codes.size(), "codes"), codes);
}

TEST(WireLayout, NegativeCodesAreTwosComplement) {
  const std::vector<std::int16_t> codes = {-1, -2, -32768, -32767};
  const std::string bytes = pack_le16(codes);
  EXPECT_EQ(bytes, std::string("\xFF\xFF\xFE\xFF\x00\x80\x01\x80", 8));
  // The same bytes read unsigned are the codes modulo 2^16.
  EXPECT_EQ(unpack_le16_unsigned(bytes, 4, "codes"),
            (std::vector<std::uint16_t>{0xFFFF, 0xFFFE, 0x8000, 0x8001}));
}

TEST(WireLayout, LeastSignificantByteComesFirstOnTheWire) {
  const std::vector<std::int16_t> codes = {0x1234, 0x00FF, 0x0100};
  EXPECT_EQ(pack_le16(codes), std::string("\x34\x12\xFF\x00\x00\x01", 6));
  const std::vector<std::uint16_t> unsigned_codes = {0xBEEF};
  EXPECT_EQ(pack_le16(unsigned_codes), std::string("\xEF\xBE", 2));
}

TEST(WireLayout, SingleCodesAreReadAndWrittenAtTheirIndex) {
  std::string bytes(6, '\0');
  write_le16(bytes, 1, std::int16_t{-2});
  write_le16(bytes, 2, std::uint16_t{0xA55A});
  EXPECT_EQ(bytes, std::string("\x00\x00\xFE\xFF\x5A\xA5", 6));
  EXPECT_EQ(read_le16(bytes, 0), 0);
  EXPECT_EQ(read_le16(bytes, 1), -2);
  EXPECT_EQ(read_le16<std::uint16_t>(bytes, 2), 0xA55A);
  // The byte-span overload used on request payloads reads the same codes.
  EXPECT_EQ(read_le16(as_bytes(bytes), 1), -2);
  EXPECT_EQ(read_le16<std::uint16_t>(as_bytes(bytes), 1), 0xFFFE);
  EXPECT_EQ(read_le16<std::uint16_t>(as_bytes(bytes), 2), 0xA55A);
}

TEST(WireLayout, EmptyCodesAreEmptyBytes) {
  EXPECT_TRUE(pack_le16(std::vector<std::int16_t>{}).empty());
  EXPECT_TRUE(unpack_le16("", 0, "codes").empty());
}

TEST(WireLayout, AWrongLengthIsRefusedNamingTheField) {
  const std::string three_codes = pack_le16(std::vector<std::int16_t>{1, 2, 3});
  // Bytes for fewer or for more codes than the message implies.
  for (const std::size_t expected : {4u, 2u}) {
    try {
      (void)unpack_le16(three_codes, expected, "ProgramBiases.codes_le16");
      ADD_FAILURE() << "accepted 6 bytes as " << expected << " codes";
    } catch (const WireLengthError& e) {
      EXPECT_EQ(e.expected_bytes(), 2 * expected);
      EXPECT_EQ(e.got_bytes(), 6u);
      EXPECT_NE(std::string(e.what()).find("ProgramBiases.codes_le16"), std::string::npos)
          << e.what();
      EXPECT_NE(std::string(e.what()).find("got 6"), std::string::npos) << e.what();
    }
  }
  // An odd byte count is no whole number of codes.
  EXPECT_THROW((void)unpack_le16(std::string(5, '\0'), 2, "x"), WireLengthError);
  EXPECT_THROW((void)unpack_le16_unsigned(std::string(5, '\0'), 2, "x"), WireLengthError);
  EXPECT_THROW(check_le16_length("x", 3, 5), WireLengthError);
  EXPECT_NO_THROW(check_le16_length("x", 3, 6));
  // A length error is an invalid argument for callers that do not know the type.
  EXPECT_THROW((void)unpack_le16("\x01", 0, "x"), std::invalid_argument);
}

TEST(WireLayout, TriangleSizeIsNTimesNPlusOneOverTwo) {
  EXPECT_EQ(upper_triangle_size(0), 0u);
  EXPECT_EQ(upper_triangle_size(1), 1u);
  EXPECT_EQ(upper_triangle_size(2), 3u);
  EXPECT_EQ(upper_triangle_size(8), 36u);
  EXPECT_EQ(upper_triangle_size(256), 32896u);
}

TEST(WireLayout, TriangleIndexOfEveryEntryIsRowMajorUpperOrder) {
  // n = 3 written out: (0,0) (0,1) (0,2) (1,1) (1,2) (2,2).
  const std::pair<std::size_t, std::size_t> order3[] = {{0, 0}, {0, 1}, {0, 2},
                                                        {1, 1}, {1, 2}, {2, 2}};
  for (std::size_t k = 0; k < 6; ++k)
    EXPECT_EQ(upper_triangle_index(3, order3[k].first, order3[k].second), k);
  // Every (i, j) for n up to 6: consecutive indices row by row, symmetric in (i, j).
  for (std::size_t n = 1; n <= 6; ++n) {
    std::size_t expected = 0;
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t j = i; j < n; ++j, ++expected) {
        EXPECT_EQ(upper_triangle_index(n, i, j), expected) << n << ": " << i << "," << j;
        EXPECT_EQ(upper_triangle_index(n, j, i), expected) << n << ": " << j << "," << i;
      }
    }
    EXPECT_EQ(expected, upper_triangle_size(n));
  }
  // The last entry of the largest board is the last index.
  EXPECT_EQ(upper_triangle_index(256, 255, 255), upper_triangle_size(256) - 1);
}

TEST(WireLayout, TriangleIterationVisitsEntriesInWireOrder) {
  for (std::size_t n = 0; n <= 5; ++n) {
    std::size_t visits = 0;
    for_each_upper_triangle(n, [&](std::size_t i, std::size_t j, std::size_t k) {
      EXPECT_LE(i, j);
      EXPECT_LT(j, n);
      EXPECT_EQ(k, visits);
      EXPECT_EQ(k, upper_triangle_index(n, i, j));
      ++visits;
    });
    EXPECT_EQ(visits, upper_triangle_size(n));
  }
}

TEST(WireLayout, TriangleHelpersAreUsableAtCompileTime) {
  static_assert(upper_triangle_size(8) == 36);
  static_assert(upper_triangle_index(8, 7, 0) == 7);
  static_assert(upper_triangle_index(8, 1, 1) == 8);
  constexpr auto count = [] {
    std::size_t c = 0;
    for_each_upper_triangle(4, [&](std::size_t, std::size_t, std::size_t) { ++c; });
    return c;
  }();
  static_assert(count == 10);
  SUCCEED();
}

}  // namespace
}  // namespace kelvin::firmware_protocol
