// Byte and index layouts that both ends of the wire share, beside the protobuf messages. They are
// part of the wire contract, so the host (driver) and the board (sim-backend) use this one
// implementation instead of each writing its own:
//
//  1. LE16 codes. DAC and ADC codes travel in protobuf `bytes` fields (ProgramCouplings.
//     upper_codes_le16, ProgramBiases.codes_le16, SetQuartic.codes_le16, RunResults and
//     StreamData.samples_le16) as 16-bit two's-complement (int16) or unsigned (uint16) codes,
//     two bytes each, least significant byte first, code k at bytes 2k and 2k + 1. protobuf
//     carries no 16-bit scalar type, and a repeated varint would cost up to three bytes per
//     code and an uneven frame size; fixed two-byte codes make a reply's size predictable.
//  2. Upper-triangle order. A symmetric n x n matrix (the coupling codes of ProgramCouplings,
//     the product sums of RunResults) travels as its upper triangle including the diagonal,
//     row by row: (0,0), (0,1), ..., (0,n-1), (1,1), ..., (n-1,n-1), n(n+1)/2 entries, (i, j)
//     with i <= j at index k = i n - i (i - 1) / 2 + (j - i). Symmetry then holds by
//     construction, and no entry is sent twice.
//  3. The p-bit lattice's canonical edge order lives in pbit_lattice.hpp (it needs the lattice
//     geometry, not only an index formula).
//
// Thread contract: pure functions on the caller's buffers; safe from any thread as long as no
// other thread writes the same buffer.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace kelvin::firmware_protocol {

// ---- LE16 codes ----

inline constexpr std::size_t kLe16Bytes = 2;  // bytes per code

// The two code types the wire carries as LE16: signed DAC/ADC codes and unsigned DAC codes.
template <typename T>
concept Le16Code = std::same_as<T, std::int16_t> || std::same_as<T, std::uint16_t>;

// Code `index` of an LE16 buffer: bytes 2 index and 2 index + 1. The caller guarantees
// 2 index + 1 < bytes.size() (unpack_le16 checks whole buffers).
template <Le16Code Code = std::int16_t>
constexpr Code read_le16(std::span<const std::uint8_t> bytes, std::size_t index) noexcept {
  const auto lo = static_cast<std::uint16_t>(bytes[kLe16Bytes * index]);
  const auto hi = static_cast<std::uint16_t>(bytes[kLe16Bytes * index + 1]);
  return static_cast<Code>(static_cast<std::uint16_t>(lo | (hi << 8)));
}
template <Le16Code Code = std::int16_t>
constexpr Code read_le16(std::string_view bytes, std::size_t index) noexcept {
  const auto lo = static_cast<std::uint16_t>(static_cast<std::uint8_t>(bytes[kLe16Bytes * index]));
  const auto hi =
      static_cast<std::uint16_t>(static_cast<std::uint8_t>(bytes[kLe16Bytes * index + 1]));
  return static_cast<Code>(static_cast<std::uint16_t>(lo | (hi << 8)));
}

// Writes code `index` of an LE16 buffer (protobuf `bytes` are std::string). The caller
// guarantees 2 index + 1 < bytes.size().
template <Le16Code Code>
void write_le16(std::string& bytes, std::size_t index, Code code) noexcept {
  const auto u = static_cast<std::uint16_t>(code);
  bytes[kLe16Bytes * index] = static_cast<char>(u & 0xFFu);
  bytes[kLe16Bytes * index + 1] = static_cast<char>(u >> 8);
}

// All codes as one LE16 `bytes` value, in order.
std::string pack_le16(std::span<const std::int16_t> codes);
std::string pack_le16(std::span<const std::uint16_t> codes);

// A bytes field that does not hold exactly the number of codes its message implies.
class WireLengthError : public std::invalid_argument {
 public:
  WireLengthError(std::string_view field, std::size_t expected_bytes, std::size_t got_bytes);
  std::size_t expected_bytes() const noexcept { return expected_bytes_; }
  std::size_t got_bytes() const noexcept { return got_bytes_; }

 private:
  std::size_t expected_bytes_;
  std::size_t got_bytes_;
};

// Throws WireLengthError, naming `field`, unless `got_bytes` is exactly `expected_codes` LE16
// codes. The check every unpack makes first; call it alone to refuse before decoding.
void check_le16_length(std::string_view field, std::size_t expected_codes, std::size_t got_bytes);

// The codes of an LE16 `bytes` value that must hold exactly `expected_codes` codes; throws
// WireLengthError (naming `field`) otherwise, so an odd or short buffer is never half read.
std::vector<std::int16_t> unpack_le16(std::string_view bytes, std::size_t expected_codes,
                                      std::string_view field);
std::vector<std::uint16_t> unpack_le16_unsigned(std::string_view bytes, std::size_t expected_codes,
                                                std::string_view field);

// ---- Upper-triangle order ----

// Entries of the upper triangle including the diagonal of an n x n matrix: n (n + 1) / 2.
constexpr std::size_t upper_triangle_size(std::size_t n) noexcept {
  return n * (n + 1) / 2;
}

// Index of (i, j) in the upper-triangle order of an n x n symmetric matrix; (j, i) gives the
// same index. The caller guarantees i, j < n.
constexpr std::size_t upper_triangle_index(std::size_t n, std::size_t i, std::size_t j) noexcept {
  if (i > j) {
    const std::size_t t = i;
    i = j;
    j = t;
  }
  // Row i starts after rows 0..i-1, which hold n, n - 1, ..., n - i + 1 entries:
  // i n - i (i - 1) / 2 = i (2 n - i + 1) / 2, written without the i - 1 that wraps at i = 0.
  return i * (2 * n - i + 1) / 2 + (j - i);
}

// Calls f(i, j, k) for every entry of the upper triangle of an n x n matrix in wire order:
// i from 0, j from i to n - 1, k = upper_triangle_index(n, i, j) counting up from 0.
template <typename F>
constexpr void for_each_upper_triangle(std::size_t n, F&& f) {
  std::size_t k = 0;
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = i; j < n; ++j, ++k)
      f(i, j, k);
  }
}

}  // namespace kelvin::firmware_protocol
