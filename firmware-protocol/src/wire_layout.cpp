#include "kelvin/firmware_protocol/wire_layout.hpp"

#include <bit>
#include <cstring>

#include <fmt/format.h>

namespace kelvin::firmware_protocol {
namespace {

template <Le16Code Code>
std::string pack(std::span<const Code> codes) {
  std::string bytes(kLe16Bytes * codes.size(), '\0');
  if constexpr (std::endian::native == std::endian::little) {
    // The wire's layout is the host's: one copy (streams pass every sample through here).
    if (!codes.empty())
      std::memcpy(bytes.data(), codes.data(), bytes.size());
    return bytes;
  }
  for (std::size_t k = 0; k < codes.size(); ++k)
    write_le16(bytes, k, codes[k]);
  return bytes;
}

template <Le16Code Code>
std::vector<Code> unpack(std::string_view bytes, std::size_t expected_codes,
                         std::string_view field) {
  check_le16_length(field, expected_codes, bytes.size());
  std::vector<Code> codes(expected_codes);
  if constexpr (std::endian::native == std::endian::little) {
    if (expected_codes != 0)
      std::memcpy(codes.data(), bytes.data(), kLe16Bytes * expected_codes);
    return codes;
  }
  for (std::size_t k = 0; k < expected_codes; ++k)
    codes[k] = read_le16<Code>(bytes, k);
  return codes;
}

}  // namespace

std::string pack_le16(std::span<const std::int16_t> codes) {
  return pack(codes);
}

std::string pack_le16(std::span<const std::uint16_t> codes) {
  return pack(codes);
}

WireLengthError::WireLengthError(std::string_view field, std::size_t expected_bytes,
                                 std::size_t got_bytes)
    : std::invalid_argument(fmt::format("{} must hold {} 16-bit codes: expected {} bytes, got {}",
                                        field, expected_bytes / kLe16Bytes, expected_bytes,
                                        got_bytes)),
      expected_bytes_(expected_bytes),
      got_bytes_(got_bytes) {}

void check_le16_length(std::string_view field, std::size_t expected_codes, std::size_t got_bytes) {
  if (got_bytes != kLe16Bytes * expected_codes)
    throw WireLengthError(field, kLe16Bytes * expected_codes, got_bytes);
}

std::vector<std::int16_t> unpack_le16(std::string_view bytes, std::size_t expected_codes,
                                      std::string_view field) {
  return unpack<std::int16_t>(bytes, expected_codes, field);
}

std::vector<std::uint16_t> unpack_le16_unsigned(std::string_view bytes, std::size_t expected_codes,
                                                std::string_view field) {
  return unpack<std::uint16_t>(bytes, expected_codes, field);
}

}  // namespace kelvin::firmware_protocol
