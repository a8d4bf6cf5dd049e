// Settings of an emulated resonator board, as chosen at power-up (from the device URI, e.g.
// sim:resonator?cells=8&seed=1).
//
// Thread contract: a plain value type.
#pragma once

#include <cstdint>
#include <string>

namespace kelvin::sim {

struct ResonatorConfig {
  // Number of coupled cells; 1 to 256.
  std::uint32_t cells = 8;
  // Key of the board's counter-based noise generator: the same seed gives the same ADC stream,
  // bit for bit.
  std::uint64_t seed = 1;
  // Serial number reported in DeviceInfo; empty means "SIM-RES-<cells>-<seed>".
  std::string serial;

  // Throws std::invalid_argument naming the bad field.
  void validate() const;
  // The serial as reported (applies the default).
  std::string effective_serial() const;
};

}  // namespace kelvin::sim
