#include "kelvin/driver/code_scale.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "kelvin/common/error.hpp"

namespace kelvin::driver {

using common::Error;
using common::ErrorKind;

std::int64_t CodeScale::to_code(double value) const {
  if (!std::isfinite(value)) {
    throw Error(ErrorKind::kInvalidArgument,
                fmt::format("value {} is not finite and has no {} code", value, unit));
  }
  const double exact = (value - offset) / lsb;
  // Accept values that round onto the end codes; refuse anything further out.
  if (exact < static_cast<double>(min_code) - 0.5 || exact > static_cast<double>(max_code) + 0.5) {
    throw Error(ErrorKind::kOutOfRange,
                fmt::format("{:.6g} {} is outside the range [{:.6g}, {:.6g}] {}", value, unit,
                            min_value(), max_value(), unit));
  }
  const auto code = static_cast<std::int64_t>(std::llround(exact));
  return std::clamp(code, min_code, max_code);
}

double CodeScale::symmetric_limit() const noexcept {
  return std::min(std::abs(min_value()), std::abs(max_value()));
}

void CodeScale::validate(const std::string& name) const {
  const bool width_ok = bits >= 1 && bits <= 32;
  const std::int64_t lo = is_signed ? -(std::int64_t{1} << (bits - 1)) : 0;
  const std::int64_t hi =
      is_signed ? (std::int64_t{1} << (bits - 1)) - 1 : (std::int64_t{1} << bits) - 1;
  if (!width_ok || !(lsb > 0.0) || !std::isfinite(lsb) || !std::isfinite(offset) ||
      min_code > max_code || min_code < lo || max_code > hi) {
    throw Error(ErrorKind::kProtocol,
                fmt::format("device reported an inconsistent {} format: {}", name, describe()));
  }
}

std::string CodeScale::describe() const {
  return fmt::format("{}-bit {}, codes [{}, {}], {:.6g} {} per code{}", bits,
                     is_signed ? "signed" : "unsigned", min_code, max_code, lsb, unit,
                     offset != 0.0 ? fmt::format(", offset {:.6g} {}", offset, unit) : "");
}

}  // namespace kelvin::driver
