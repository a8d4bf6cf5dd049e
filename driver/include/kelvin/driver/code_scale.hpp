// How raw DAC/ADC integer codes map to physical values: value = offset + lsb * code. Raw codes
// travel with their CodeScale; converting them is this separate, tested step.
//
// Thread contract: a plain value type; all members are const and thread-safe.
#pragma once

#include <cstdint>
#include <string>

namespace kelvin::driver {

struct CodeScale {
  std::uint32_t bits = 0;
  bool is_signed = false;
  std::int64_t min_code = 0;  // inclusive
  std::int64_t max_code = 0;  // inclusive
  double lsb = 0.0;           // physical units per code
  double offset = 0.0;        // physical value of code 0
  std::string unit;

  double to_physical(std::int64_t code) const noexcept {
    return offset + lsb * static_cast<double>(code);
  }
  // Physical value of a fractional code (for averages of codes).
  double to_physical(double code) const noexcept { return offset + lsb * code; }
  // Nearest code (ties away from zero). Throws Error(kOutOfRange) if the value lies outside
  // [min_value() - lsb/2, max_value() + lsb/2] and Error(kInvalidArgument) if it is not finite.
  std::int64_t to_code(double value) const;
  double min_value() const noexcept { return to_physical(min_code); }
  double max_value() const noexcept { return to_physical(max_code); }
  // The largest magnitude reachable on both sides of zero, min(|min_value()|, |max_value()|):
  // the half-range a signed quantity (an ADC reading, a coupling) may use.
  double symmetric_limit() const noexcept;
  bool contains(std::int64_t code) const noexcept { return code >= min_code && code <= max_code; }
  // Throws Error(kProtocol) if the description is inconsistent (lsb <= 0, min > max, range wider
  // than the bit width).
  void validate(const std::string& name) const;
  // "16-bit signed, codes [-32767, 32767], 6.1035e-05 1/us per code"
  std::string describe() const;
};

}  // namespace kelvin::driver
