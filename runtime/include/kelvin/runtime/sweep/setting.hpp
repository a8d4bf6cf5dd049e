// The board settings a sweep can change, by name: "bias:C" (a resonator cell's or a p-bit's
// bias), "coupling:I-J" (a resonator coupling A_IJ = A_JI), "noise" (a resonator board's noise
// D) and "beta" (a p-bit board's inverse temperature), and the code scale each has on a board
// (its physical unit and DAC range, kelvin/driver/code_scale.hpp).
//
// Thread contract: plain value types and pure functions; safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "kelvin/driver/code_scale.hpp"
#include "kelvin/driver/device_description.hpp"

namespace kelvin::runtime::sweep {

enum class SettingKind { kBias, kCoupling, kNoise, kBeta };

struct Setting {
  SettingKind kind = SettingKind::kBias;
  std::uint32_t i = 0;  // bias: the cell; coupling: the row
  std::uint32_t j = 0;  // coupling: the column

  // Throws common::Error(kInvalidArgument) quoting `text` and the accepted forms.
  static Setting parse(std::string_view text);
  std::string name() const;  // canonical: "bias:3", "coupling:0-1", "noise", "beta"
  bool operator==(const Setting&) const = default;
};

// The setting's code scale on a board of this description. Throws common::Error(
// kInvalidArgument) if the board's family has no such setting or a cell index is out of range.
const driver::CodeScale& scale_of(const Setting& setting,
                                  const driver::DeviceDescription& description);

}  // namespace kelvin::runtime::sweep
