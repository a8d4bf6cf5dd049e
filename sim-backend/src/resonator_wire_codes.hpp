// Internal to kelvin_sim_backend: the wire mapping of the resonator board's register writes,
// from a message's cells field and LE16 bytes (wire_layout.hpp) to the codes the register file
// validates (resonator_register_file.hpp). Sizes are the wire's business, so a wrong cells field
// or byte count is refused here, before any code is looked at.
//
// Thread contract: pure functions; safe from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace kelvin::sim_backend::detail {

// BoardError(INVALID_ARGUMENT) unless `cells`, the cells field of `message`, is the board's.
void check_cells(std::string_view message, std::uint32_t cells, std::uint32_t board_cells);

// The `count` codes of the LE16 bytes field `field`; BoardError(INVALID_ARGUMENT), naming the
// field, for any other byte count.
std::vector<std::int16_t> signed_codes(std::string_view field, std::size_t count,
                                       std::span<const std::uint8_t> bytes);
std::vector<std::uint16_t> unsigned_codes(std::string_view field, std::size_t count,
                                          std::span<const std::uint8_t> bytes);

}  // namespace kelvin::sim_backend::detail
