#include "resonator_wire_codes.hpp"

#include <fmt/format.h>

#include "kelvin/firmware_protocol/wire_layout.hpp"
#include "kelvin/sim_backend/board_error.hpp"

namespace kelvin::sim_backend::detail {
namespace {

template <firmware_protocol::Le16Code Code>
std::vector<Code> codes(std::string_view field, std::size_t count,
                        std::span<const std::uint8_t> bytes) {
  try {
    firmware_protocol::check_le16_length(field, count, bytes.size());
  } catch (const firmware_protocol::WireLengthError& e) {
    throw BoardError(BoardErrorCode::kInvalidArgument, e.what());
  }
  std::vector<Code> out(count);
  for (std::size_t k = 0; k < count; ++k)
    out[k] = firmware_protocol::read_le16<Code>(bytes, k);
  return out;
}

}  // namespace

void check_cells(std::string_view message, std::uint32_t cells, std::uint32_t board_cells) {
  if (cells != board_cells) {
    throw BoardError(BoardErrorCode::kInvalidArgument,
                     fmt::format("{}.cells must equal the board's {} cells, got {}", message,
                                 board_cells, cells));
  }
}

std::vector<std::int16_t> signed_codes(std::string_view field, std::size_t count,
                                       std::span<const std::uint8_t> bytes) {
  return codes<std::int16_t>(field, count, bytes);
}

std::vector<std::uint16_t> unsigned_codes(std::string_view field, std::size_t count,
                                          std::span<const std::uint8_t> bytes) {
  return codes<std::uint16_t>(field, count, bytes);
}

}  // namespace kelvin::sim_backend::detail
