// Setting names and their code scales (sweep/setting.hpp).
#include "kelvin/runtime/sweep/setting.hpp"

#include <charconv>

#include <fmt/format.h>

#include "kelvin/common/error.hpp"

namespace kelvin::runtime::sweep {

namespace {

[[noreturn]] void refuse(std::string_view text, std::string_view why) {
  throw common::Error(
      common::ErrorKind::kInvalidArgument,
      fmt::format("setting '{}': {} (settings: bias:C, coupling:I-J, noise, beta)", text, why));
}

std::uint32_t index_of(std::string_view text, std::string_view digits) {
  std::uint32_t value = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || error != std::errc() || end != digits.data() + digits.size())
    refuse(text, fmt::format("'{}' is not a cell index", digits));
  return value;
}

}  // namespace

Setting Setting::parse(std::string_view text) {
  if (text == "noise")
    return {SettingKind::kNoise, 0, 0};
  if (text == "beta")
    return {SettingKind::kBeta, 0, 0};
  const std::size_t colon = text.find(':');
  if (colon == std::string_view::npos)
    refuse(text, "unknown name");
  const std::string_view kind = text.substr(0, colon);
  const std::string_view rest = text.substr(colon + 1);
  if (kind == "bias")
    return {SettingKind::kBias, index_of(text, rest), 0};
  if (kind == "coupling") {
    const std::size_t dash = rest.find('-');
    if (dash == std::string_view::npos)
      refuse(text, "a coupling is named coupling:I-J");
    return {SettingKind::kCoupling, index_of(text, rest.substr(0, dash)),
            index_of(text, rest.substr(dash + 1))};
  }
  refuse(text, "unknown name");
}

std::string Setting::name() const {
  switch (kind) {
    case SettingKind::kBias:
      return fmt::format("bias:{}", i);
    case SettingKind::kCoupling:
      return fmt::format("coupling:{}-{}", i, j);
    case SettingKind::kNoise:
      return "noise";
    case SettingKind::kBeta:
      return "beta";
  }
  return "?";
}

const driver::CodeScale& scale_of(const Setting& setting,
                                  const driver::DeviceDescription& description) {
  const bool pbit = description.family == driver::BoardFamily::kPbit;
  const std::uint32_t cells = pbit ? description.pbit->nodes() : description.cells;
  const auto refuse_here = [&](std::string_view why) -> const driver::CodeScale& {
    throw common::Error(
        common::ErrorKind::kInvalidArgument,
        fmt::format("setting '{}' on {} ({} board): {}", setting.name(), description.serial,
                    driver::to_string(description.family), why));
  };
  const auto check_cell = [&](std::uint32_t c) {
    if (c >= cells)
      refuse_here(fmt::format("cell {} is beyond the board's {} cells", c, cells));
  };
  switch (setting.kind) {
    case SettingKind::kBias:
      check_cell(setting.i);
      return pbit ? description.pbit->bias : description.bias;
    case SettingKind::kCoupling:
      if (pbit)
        return refuse_here("p-bit boards are swept by bias:C and beta");
      check_cell(setting.i);
      check_cell(setting.j);
      return description.coupling;
    case SettingKind::kNoise:
      if (pbit)
        return refuse_here("p-bit boards are swept by bias:C and beta");
      return description.noise;
    case SettingKind::kBeta:
      if (!pbit)
        return refuse_here("resonator boards are swept by bias:C, coupling:I-J and noise");
      return description.pbit->beta;
  }
  return refuse_here("unknown setting");
}

}  // namespace kelvin::runtime::sweep
